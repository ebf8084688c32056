import { createPaymentHub, type Inbox, type PaymentHub, type PaymentProvider } from '@payhook/core';
import { createTestProvider, type TestPayload } from '@payhook/core/testing';
import type { Pool } from 'pg';
import { createPostgresInbox, createPostgresStore } from '../../src';

const base = createTestProvider();

/** The test gateway, but a PAID payload with a refundId normalizes to TWO events. */
export const twoEventGateway: PaymentProvider<TestPayload> = {
  ...base,
  normalize(raw, ctx) {
    const drafts = base.normalize(raw, ctx);
    if (!Array.isArray(drafts) || raw.status !== 'PAID' || !raw.refundId) return drafts;
    return [
      ...drafts,
      {
        ...drafts[0]!,
        id: `${raw.txn}:refund:${raw.refundId}`,
        type: 'payment.refunded' as const,
        refund: { refundId: raw.refundId, amount: raw.amount },
      },
    ];
  },
};

/** The test gateway with a status query (and whatever else `extra` sets: secretHeaders, maxAgeMs). */
export const withStatusQuery = (
  fetchStatus: NonNullable<PaymentProvider<TestPayload>['fetchStatus']>,
  extra: Partial<PaymentProvider<TestPayload>> = {},
): PaymentProvider<TestPayload> => ({ ...base, ...extra, fetchStatus });

/** One paid event as a status query answers it. */
export const paidDraft = (txn: string, occurredAt = new Date().toISOString()) => [
  {
    id: `${txn}:paid`,
    type: 'payment.completed' as const,
    orderId: 'O',
    transactionId: txn,
    amount: '1.00',
    currency: 'LAK',
    occurredAt,
  },
];

export type HubKind = 'memory' | 'postgres';

/** A hub on the memory store and inbox, or on the PostgreSQL store and inbox of `schema`. */
export function hubOn(
  kind: HubKind,
  pool: Pool,
  schema: string,
): { hub: PaymentHub; inbox: Inbox } {
  const timing = { handlerTimeoutMs: 3_000, leaseMs: 10_000 };
  if (kind === 'memory') {
    const hub = createPaymentHub(timing);
    return { hub, inbox: hub.inbox! };
  }
  const inbox = createPostgresInbox({ pool, schema });
  const store = createPostgresStore({ pool, schema });
  const hub = createPaymentHub({ store, inbox, ...timing });
  return { hub: hub as unknown as PaymentHub, inbox };
}
