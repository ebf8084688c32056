import type { Pool } from 'pg';
import { createPaymentHub, type PaymentEvent } from '@payhook/core';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { createPostgresStore } from '../../src';
import { attachQueue, createPaymentQueue, startWorker } from '../../src/async';
import {
  dropSchema,
  fastQueueOptions,
  setUpAsyncSchema,
  testPool,
  testSchema,
  waitFor,
} from './support/app';

/**
 * Test and live mode through the queue (issue 26 review): a live mount that allows test mode
 * queues sandbox and live events on one table. The queue orders the events of one payment, but a
 * sandbox transaction is not the live transaction that happens to share its id: a sandbox event a
 * merchant's listener cannot handle (its order is in the staging database, not this one) must
 * never hold up, or kill, the live payment of the same gateway id.
 */
let pool: Pool;
const schema = testSchema('async_modes');

beforeAll(async () => {
  pool = testPool();
  await setUpAsyncSchema(pool, schema);
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

it('a dead sandbox event never blocks the live event of the same transaction id', async () => {
  const store = createPostgresStore({ pool, schema });
  const hub = createPaymentHub({ store });
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { retryLimit: 0 }));
  await queue.start();
  attachQueue(hub, queue);
  const provider = createTestProvider({
    secret: ['live-secret', { key: 'sandbox-secret', mode: 'test' }],
    allowTestMode: true,
  });
  const done: PaymentEvent[] = [];
  queue.onAny(async (event) => {
    // The staging shop's orders are not in this database: its events fail here, every time.
    if (event.mode === 'test') throw new Error(`no order ${event.orderId} in production`);
    done.push(event);
  });
  const worker = startWorker(queue, { concurrency: 1, pollingIntervalMs: 100 });
  const deliver = async (secret: string): Promise<string> => {
    const { body, headers } = signedDelivery({ txn: 'SHARED1', status: 'PAID' }, secret);
    const result = await hub.receive(provider, {
      body: Buffer.from(body),
      headers,
      transport: 'http',
      receivedAt: new Date(),
    });
    return result.outcome;
  };
  try {
    expect(await deliver('sandbox-secret')).toBe('processed');
    await waitFor('the sandbox event dead', async () => (await queue.stats()).dead === 1, 15_000);
    expect(await deliver('live-secret')).toBe('processed');
    await waitFor('the live event done', async () => done.length === 1, 15_000);
    expect(done[0]).toMatchObject({ id: 'test-gateway:SHARED1:paid', mode: 'live' });
    const letters = await queue.deadLetters.list();
    expect(letters.map((l) => l.id)).toEqual(['test-gateway:test:SHARED1:paid']);
  } finally {
    await worker.stop();
    await queue.stop();
    await store.close();
  }
}, 40_000);
