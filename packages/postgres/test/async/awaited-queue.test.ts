import type { Pool } from 'pg';
import { createPaymentHub, type PaymentEvent } from '@payhook/core';
import { createStatusTestGateway, reportCounts, signedDelivery } from '@payhook/core/testing';
import { createPostgresStore } from '../../src';
import { attachQueue, createPaymentQueue, startWorker } from '../../src/async';
import {
  dropSchema,
  effectCounts,
  fastQueueOptions,
  setUpAsyncSchema,
  testPool,
  testSchema,
  waitFor,
} from './support/app';

/**
 * Async mode and awaited payments: a payment whose webhook was lost and that the sweeper recovers
 * by a status query is queued in the claim's transaction like any delivered one, and runs in the
 * worker once; its webhook arriving afterwards is a duplicate, queued nothing.
 */
let pool: Pool;
const schema = testSchema('async_awaited');

beforeAll(async () => {
  pool = testPool();
  await setUpAsyncSchema(pool, schema);
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

it('a payment recovered by the sweeper goes through the queue, once', async () => {
  const status = createStatusTestGateway();
  const gateway = status.provider;
  const store = createPostgresStore({ pool, schema });
  const hub = createPaymentHub({ store, awaited: { sweepEveryMs: 0 } });
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { queueName: 'q_awaited' }));
  await queue.start();
  attachQueue(hub, queue);
  const ran: PaymentEvent[] = [];
  queue.onAny(async (event, { tx }) => {
    ran.push(event);
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'w')`,
      [event.id, event.transactionId, event.type],
    );
  });
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    const n = 5;
    for (let i = 0; i < n; i++) {
      await hub.expectPayment(gateway, { orderId: `AQ-${i}`, until: Date.now() + 60_000 });
      status.paid(`TAQ-${i}`, `AQ-${i}`);
    }
    await new Promise((r) => setTimeout(r, 10));
    const report = await hub.sweep();
    await waitFor('the worker', async () => (await effectCounts(pool, schema)).size >= n, 15_000);
    // The lost webhook comes after all: a duplicate on the store, nothing queued again.
    const { body, headers } = signedDelivery({ txn: 'TAQ-0', order: 'AQ-0', status: 'PAID' });
    const late = await hub.receive(gateway, {
      body: Buffer.from(body),
      headers,
      transport: 'http',
      receivedAt: new Date(),
    });
    await new Promise((r) => setTimeout(r, 500));
    const effects = await effectCounts(pool, schema);
    const settled = await hub.awaited.list({ state: 'settled' });
    reportCounts('async awaited', {
      recovered: report.recovered,
      effects: [...effects.values()].reduce((a, b) => a + b, 0),
      late: late.outcome,
    });
    expect([report.recovered, late.outcome, settled.length]).toEqual([n, 'duplicate', n]);
    expect([...effects.values()]).toEqual(Array(n).fill(1));
    expect(settled.every((p) => p.settledBy === 'status-query')).toBe(true);
  } finally {
    await worker.stop();
    await queue.stop();
    await hub.close();
  }
});
