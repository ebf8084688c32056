import type { KeyObject } from 'node:crypto';
import {
  parseJson,
  PayloadError,
  SignatureError,
  verifyRsaSha256WithAny,
} from '@payhook/core/plugin';
import { SOURCE, type SignedParamPayload } from './schema';

/**
 * Checks the outer `sign` against the `param` text exactly as sent (JSON unescaping of the outer
 * body is the only transformation: that string IS what the platform signed), then parses param.
 * Numbers stay text so amounts and ids never pass through a float. Several keys (a rotation) are
 * tried in order.
 */
export function verifyNotification(
  body: Buffer | string,
  publicKey: KeyObject | readonly KeyObject[],
): SignedParamPayload {
  return verifySignedParam(body, Array.isArray(publicKey) ? publicKey : [publicKey as KeyObject])
    .payload;
}

/** verifyNotification, also saying which key matched: what the provider's verify returns. */
export function verifySignedParam(
  body: Buffer | string,
  publicKeys: readonly KeyObject[],
): { payload: SignedParamPayload; keyIndex: number } {
  const { param, sign } = readEnvelope(body);
  const keyIndex = typeof sign === 'string' ? verifyRsaSha256WithAny(param, sign, publicKeys) : -1;
  if (keyIndex < 0) {
    throw new SignatureError('sign does not verify over param with the platform public key', {
      source: SOURCE,
    });
  }
  const payload = parseJson(param, { source: SOURCE, what: 'param', numbers: 'text' });
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PayloadError('param must hold a JSON object', {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  }
  return { payload: payload as SignedParamPayload, keyIndex };
}

/** The outer `{"param": "...", "sign": "..."}`: param must still be the text that was signed. */
function readEnvelope(body: Buffer | string): { param: string; sign: unknown } {
  const outer = parseJson(body, { source: SOURCE, what: 'body' });
  if (outer === null || typeof outer !== 'object' || Array.isArray(outer)) {
    throw new PayloadError('body must be a JSON object {"param": "...", "sign": "..."}', {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  }
  const { param, sign } = outer as { param?: unknown; sign?: unknown };
  if (sign === undefined || sign === null || sign === '') {
    throw new SignatureError('sign is missing from the body', {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  }
  if (typeof param !== 'string') {
    throw new PayloadError(
      param === undefined
        ? 'param is missing from the body'
        : 'param must be the JSON text the platform signed, not a parsed value',
      {
        code: 'ERR_PAYLOAD_MALFORMED',
        source: SOURCE,
        fields: [{ path: '/param', message: 'must be a string' }],
      },
    );
  }
  return { param, sign };
}
