import {
  parseJson,
  SignatureError,
  timingSafeEqualHex,
  verified,
  type Delivery,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { NUSA_SOURCE, type NusaNotice } from './schema';
import { nusaSignature } from './signing';

/**
 * The three signed fields, checked against each server key in order. The index of the key that
 * matched names its mode (the definition's `keyModes`: a sandbox key's notice is a test payment)
 * and the key and status API `confirm` asks with.
 */
export function verifyNusa(
  delivery: Delivery,
  serverKeys: readonly string[],
): VerifiedPayload<NusaNotice> {
  const notice = parseJson(delivery.body, { source: NUSA_SOURCE }) as NusaNotice;
  const given = typeof notice?.signature_key === 'string' ? notice.signature_key : '';
  const keyIndex = serverKeys.findIndex((key) =>
    timingSafeEqualHex(nusaSignature(notice, key), given),
  );
  if (keyIndex < 0)
    throw new SignatureError('signature_key does not match', { source: NUSA_SOURCE });
  return verified(notice, { keyIndex });
}
