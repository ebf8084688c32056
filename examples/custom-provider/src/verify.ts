import {
  hmacSha256Hex,
  parseJson,
  SignatureError,
  timingSafeEqualHex,
  verified,
  type Delivery,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { SOURCE, type AcmePayload } from './schema';

/**
 * Authenticity on the bytes as received, never on a re-serialized object. The secrets of a
 * rotation (old and new) are tried in order; `event.keyIndex` says which one matched.
 */
export function verifyAcme(
  delivery: Delivery,
  secrets: readonly string[],
): VerifiedPayload<AcmePayload> {
  const signature = delivery.headers['x-acme-signature'];
  if (typeof signature !== 'string' || signature.length === 0)
    throw new SignatureError('x-acme-signature header is missing', {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  const keyIndex = secrets.findIndex((secret) =>
    timingSafeEqualHex(hmacSha256Hex(secret, delivery.body), signature),
  );
  if (keyIndex < 0)
    throw new SignatureError('signature does not match the body', { source: SOURCE });
  return verified(parseJson(delivery.body, { source: SOURCE }) as AcmePayload, { keyIndex });
}
