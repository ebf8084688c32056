import { createHash } from 'node:crypto';
import type { NusaNotice } from './schema';

/**
 * Nusa's side of the wire: the one implementation of its signature, which `verify` checks and
 * the tests sign with, so the two cannot disagree. A package serves it on its `./signing`
 * subpath, for the merchant's own tests.
 */

/** The signed part of a notification, as Nusa computes it. */
export function nusaSignature(
  n: Pick<NusaNotice, 'order_id' | 'status_code' | 'gross_amount'>,
  serverKey: string,
): string {
  return createHash('sha512')
    .update(n.order_id + n.status_code + n.gross_amount + serverKey)
    .digest('hex');
}

/** The notification as Nusa POSTs it, signed with `serverKey`, for tests. */
export function signNusa(
  notice: Omit<NusaNotice, 'signature_key'>,
  serverKey: string,
): { body: string; headers: Record<string, string> } {
  // Nusa puts the signature mid-body and unsigned fields after it, as Midtrans does.
  const { order_id, status_code, gross_amount, ...unsigned } = notice;
  const signature_key = nusaSignature({ order_id, status_code, gross_amount }, serverKey);
  return {
    body: JSON.stringify({ order_id, status_code, gross_amount, signature_key, ...unsigned }),
    headers: { 'content-type': 'application/json' },
  };
}
