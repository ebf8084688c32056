/**
 * The junk-flood fixture of the inbox-budget tests (memory inbox here, PostgreSQL inbox in
 * @payhook/postgres): an unsigned gateway and the three kinds of delivery that produce no
 * verified event.
 */
import { GatewayApiError } from '../../src';
import { defineProvider, notAPaymentEvent, parseJson } from '../../src/plugin';

export interface Notice {
  kind: string;
  txn: string;
  pad?: string;
}

/**
 * Unsigned, like Lailaolab's webhook: anyone can POST; a `payment` notice is confirmed by a status
 * query (only REAL-* exists; anything else fails the way a capped or failing status API does,
 * 503); any other kind is a notice nobody verified. It declares one secret header.
 */
export const unsignedGateway = defineProvider<Notice, { paid: boolean }>({
  id: 'unsigned-gateway',
  source: '@payhook/test-unsigned',
  secretHeaders: ['X-Callback-Token'],
  schema: { type: 'object', required: ['kind', 'txn'] },
  verify: (delivery) => parseJson(delivery.body, { source: '@payhook/test-unsigned' }) as Notice,
  confirm(raw) {
    if (raw.kind !== 'payment' || raw.txn.startsWith('REAL-')) return { paid: true };
    throw new GatewayApiError('status query budget spent', { retryable: true, httpStatus: 429 });
  },
  normalize(raw) {
    if (raw.kind !== 'payment') return notAPaymentEvent(`kind ${raw.kind}`, { verified: false });
    return [
      {
        id: `${raw.txn}:paid`,
        type: 'payment.completed',
        orderId: raw.txn,
        transactionId: raw.txn,
        amount: '100',
        currency: 'LAK',
        occurredAt: '2025-01-02T03:04:05+07:00',
      },
    ];
  },
  ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
});

/** 60 KiB of padding: each junk delivery weighs about as much as a gateway allows. */
export const PAD = 'j'.repeat(60 * 1024);
const BIG_HEADER = 'h'.repeat(8 * 1024);

/** Unhandled (unverified notice), failed (status query), rejected (malformed), in turn. */
export function junkDelivery(i: number): { body: string; headers: Record<string, string> } {
  const body =
    i % 3 === 0
      ? JSON.stringify({ kind: 'payout', txn: `J${i}`, pad: PAD })
      : i % 3 === 1
        ? JSON.stringify({ kind: 'payment', txn: `JUNK-${i}`, pad: PAD })
        : `{"kind":"payment","pad":"${PAD}"`;
  return { body, headers: { 'x-junk': BIG_HEADER } };
}
