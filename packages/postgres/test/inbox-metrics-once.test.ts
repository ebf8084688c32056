import { createPaymentHub, type PaymentHub } from '@payhook/core';
import type { TestPayload } from '@payhook/core/testing';
import { createPayhookMetrics } from '@payhook/inspector';
import { createPostgresInbox, createPostgresStore } from '../src';
import { useTestSchema } from './support/db';
import { deliver } from './support/deliver';
import { twoEventGateway } from './support/gateways';

// Hostile review: the metrics inbox wrapper counts each inbox.record() as one delivery. With the
// in-transaction write (one per committed event) beside the final record, is one delivery on
// PostgreSQL still counted once?

const db = useTestSchema('review_metrics');

async function counted(payloads: Array<Partial<TestPayload>>, refundFails: boolean) {
  const metrics = createPayhookMetrics({ providers: ['test-gateway'] });
  const inbox = metrics.inbox(createPostgresInbox(db));
  const store = createPostgresStore(db);
  const hub = createPaymentHub({
    store,
    inbox,
    handlerTimeoutMs: 3_000,
    leaseMs: 10_000,
  }) as unknown as PaymentHub;
  hub.on('error', () => undefined);
  hub.on('payment.completed', () => undefined);
  hub.on('payment.refunded', () => {
    if (refundFails) throw new Error('no');
  });
  const outcomes: string[] = [];
  for (const p of payloads) {
    const r = await deliver(hub, p, twoEventGateway);
    outcomes.push(r.outcome);
  }
  const json = await metrics.registry.getMetricsAsJSON();
  const deliveries = json.find((m) => m.name === 'payhook_deliveries_total')!;
  const byOutcome: Record<string, number> = {};
  for (const v of deliveries.values as Array<{ value: number; labels: { outcome: string } }>)
    if (v.value) byOutcome[v.labels.outcome] = (byOutcome[v.labels.outcome] ?? 0) + v.value;
  return { outcomes, byOutcome };
}

it('a one-event processed delivery is counted once', async () => {
  expect(await counted([{ txn: 'T-MC1', order: 'O' }], false)).toEqual({
    outcomes: ['processed'],
    byOutcome: { processed: 1 },
  });
});

it('a two-event processed delivery is counted once', async () => {
  expect(await counted([{ txn: 'T-MC2', order: 'O', refundId: 'R' }], false)).toEqual({
    outcomes: ['processed'],
    byOutcome: { processed: 1 },
  });
});

it('a two-event delivery whose second event fails is counted once, as failed', async () => {
  expect(await counted([{ txn: 'T-MC3', order: 'O', refundId: 'R' }], true)).toEqual({
    outcomes: ['failed'],
    byOutcome: { failed: 1 },
  });
});
