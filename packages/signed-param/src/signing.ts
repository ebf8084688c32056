import { loadPrivateKey, signRsaSha256, type KeyInput } from '@payhook/core/plugin';
import { SOURCE } from './schema';

/**
 * The platform's side of the protocol, for simulators, fixtures and the CLI: it builds a
 * notification exactly as the platform does ("format the request parameters into JSON format as
 * the value of param", then SHA256withRSA over param with the platform private key;
 * https://docs.paycools.com/en/v2/common/UnifiedAPIParam.html and
 * https://developer.paycools.com/en/docs/paycools-doc/config-signature), and the merchant's signed
 * API request (`{appId, param, sign}`, same scheme with the merchant private key).
 */

/** Fields the platform writes as JSON integers even when a caller holds them as text. */
const INTEGER_FIELDS = new Set([
  'amount',
  'refundAmount',
  'feeRefunded',
  'failedCode',
  'timestamp',
]);

/**
 * A param object → the JSON text the platform puts in `param`. Integer fields given as text or
 * bigint ("50010", 50010n) are written as JSON numbers, as the platform writes them, so that
 * amounts beyond 2^53 never pass through a float on this side either.
 */
export function serializeParam(payload: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${renderValue(key, value)}`);
  }
  return `{${parts.join(',')}}`;
}

function renderValue(key: string, value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) return value;
  return JSON.stringify(value);
}

/** SHA256withRSA over the UTF-8 bytes of `param`, Base64: the `sign` of the envelope. */
export function signParam(param: string, privateKey: KeyInput): string {
  return signRsaSha256(param, loadPrivateKey(privateKey, 'privateKey', SOURCE));
}

export interface SignedParamNotification {
  /** The HTTP body, as the platform POSTs it. */
  body: string;
  headers: Record<string, string>;
  /** The exact string that was signed. */
  param: string;
  sign: string;
}

export interface BuildNotificationOptions {
  /** Indent the outer body like the doc examples (4 spaces); the signature is unaffected. */
  pretty?: boolean;
}

/**
 * A notification as the platform sends it: `{"sign": "...", "param": "<JSON text>"}`. Pass the
 * param as an object (serialized with serializeParam) or as the exact text to sign.
 */
export function buildNotification(
  param: Record<string, unknown> | string,
  platformPrivateKey: KeyInput,
  options: BuildNotificationOptions = {},
): SignedParamNotification {
  const text = typeof param === 'string' ? param : serializeParam(param);
  const sign = signParam(text, platformPrivateKey);
  const body = JSON.stringify({ sign, param: text }, null, options.pretty ? 4 : undefined);
  return { body, headers: { 'content-type': 'application/json' }, param: text, sign };
}

export interface SignedRequest {
  /** The JSON body of the API request. */
  body: string;
  param: string;
  sign: string;
}

/**
 * A merchant API request (`{appId, param, sign}`, e.g. the payment query of
 * https://docs.paycools.com/en/v2/Payment/CollectionStatus.html) signed with the merchant key.
 */
export function buildSignedRequest(
  appId: string,
  param: Record<string, unknown> | string,
  merchantPrivateKey: KeyInput,
): SignedRequest {
  const text = typeof param === 'string' ? param : serializeParam(param);
  const sign = signParam(text, merchantPrivateKey);
  return { body: JSON.stringify({ appId, sign, param: text }), param: text, sign };
}
