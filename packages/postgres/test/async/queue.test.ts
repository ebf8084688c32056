import type { Pool } from 'pg';
import { ConfigError, createPaymentHub } from '@payhook/core';
import { createTestProvider, reportCounts, signedDelivery } from '@payhook/core/testing';
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
import { completedEvent } from '../support/event';

/** The queue's edges: options checked at construction, what is queued, a worker's shutdown. */
let pool: Pool;
const schema = testSchema('async_queue');

beforeAll(async () => {
  pool = testPool();
  await setUpAsyncSchema(pool, schema);
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

const event = completedEvent;

const delivery = (payload: Parameters<typeof signedDelivery>[0]) => {
  const { body, headers } = signedDelivery(payload);
  return { body: Buffer.from(body), headers, transport: 'http', receivedAt: new Date() };
};

it('checks its options at construction', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /pool/],
    [{ pool, schema: 'bad-name;' }, /schema/],
    [{ pool, retryLimit: -1 }, /retryLimit/],
    [{ pool, retryDelaySeconds: 0.5 }, /retryDelaySeconds/],
    [{ pool, attemptTimeoutMs: 10_000, expireInSeconds: 5 }, /expireInSeconds/],
    [{ pool, retryBackoff: 'yes' }, /retryBackoff/],
  ];
  for (const [options, message] of cases) {
    expect(() => createPaymentQueue(options as never)).toThrow(ConfigError);
    expect(() => createPaymentQueue(options as never)).toThrow(message);
  }
  const queue = createPaymentQueue({ pool, schema });
  expect(() => queue.on('payment.paid' as never, () => undefined)).toThrow(/not an event/);
  expect(() => startWorker(queue, { concurrency: 0 })).toThrow(/concurrency/);
});

it('queues each event once, and only the types given to attachQueue', async () => {
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { queueName: 'q_types' }));
  try {
    expect(await queue.enqueue(event('Q1'))).toBe(true);
    expect(await queue.enqueue(event('Q1'))).toBe(false); // a redelivery after a lost store commit
    const store = createPostgresStore({ pool, schema });
    const hub = createPaymentHub({ store });
    attachQueue(hub, queue, { types: ['payment.completed'] });
    const provider = createTestProvider();
    expect((await hub.receive(provider, delivery({ txn: 'Q2' }))).outcome).toBe('processed');
    // No hub listener for refunds and not queued: the sync rule, retry until someone listens.
    const refund = await hub.receive(
      provider,
      delivery({ txn: 'Q2', status: 'REFUNDED', refundId: 'R' }),
    );
    expect(refund.outcome).toBe('unhandled');
    await store.close();
    const { rows } = await pool.query(
      `SELECT id FROM "${schema}".payhook_async_event WHERE id LIKE 'test-gateway:Q%' ORDER BY seq`,
    );
    expect(rows.map((r) => r.id)).toEqual(['test-gateway:Q1:paid', 'test-gateway:Q2:paid']);
  } finally {
    await queue.stop();
  }
});

it('a type with no worker listener is retried, never marked done', async () => {
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { queueName: 'q_none' }));
  const failures: string[] = [];
  queue.on('attempt.failed', ({ error }) => void failures.push((error as { code: string }).code));
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    await queue.enqueue(event('N1'));
    await waitFor('a failed attempt', async () => failures.length > 0, 10_000);
    expect(failures[0]).toBe('ERR_NO_LISTENER');
    const { rows } = await pool.query(
      `SELECT state FROM "${schema}".payhook_async_event WHERE id = 'test-gateway:N1:paid'`,
    );
    expect(rows[0].state).toBe('pending');
  } finally {
    await worker.stop();
    await queue.stop();
  }
});

it('stop() past its grace period rolls the job in hand back and returns it to the queue', async () => {
  const options = fastQueueOptions(pool, schema, { queueName: 'q_grace' });
  const first = createPaymentQueue(options);
  let started = 0;
  first.onAny(async (e, { tx, signal }) => {
    started++;
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'first')`,
      [e.id, e.transactionId, e.type],
    );
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  });
  const worker = startWorker(first, { pollingIntervalMs: 100, shutdownGraceMs: 300 });
  await first.enqueue(event('G1'));
  await waitFor('the job in hand', async () => started === 1, 10_000, 50);
  const stopping = Date.now();
  await worker.stop();
  const stopMs = Date.now() - stopping;
  expect(stopMs).toBeLessThan(5_000);
  // Rolled back: the first worker's write is gone; the event waits for the next worker.
  expect((await effectCounts(pool, schema)).get('test-gateway:G1:paid')).toBeUndefined();
  await first.stop();

  const second = createPaymentQueue(options);
  second.onAny(async (e, { tx }) => {
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'second')`,
      [e.id, e.transactionId, e.type],
    );
  });
  const next = startWorker(second, { pollingIntervalMs: 100 });
  try {
    await waitFor(
      'processed by the next worker',
      async () => (await effectCounts(pool, schema)).get('test-gateway:G1:paid') === 1,
      10_000,
    );
    const { rows } = await pool.query(
      `SELECT worker FROM "${schema}".effects WHERE event_id = 'test-gateway:G1:paid'`,
    );
    expect(rows).toEqual([{ worker: 'second' }]);
    reportCounts('async grace period', { stopMs, effects: rows.length });
  } finally {
    await next.stop();
    await second.stop();
  }
});

it("a listener's query after its attempt settled is refused: it never runs after the COMMIT", async () => {
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { queueName: 'q_late' }));
  let late: Promise<string> | undefined;
  queue.on('payment.completed', async (_event, { tx }) => {
    // Not awaited: it is queued on the attempt's client after the listener resolved.
    late = new Promise<void>((resolve) => setTimeout(resolve, 0))
      .then(() => tx.query(`CREATE TABLE "${schema}".late_write (id int)`))
      .then(
        () => 'ran',
        (error: Error) => (error.message.includes('has ended') ? 'refused' : error.message),
      );
  });
  const done = new Promise<void>((resolve) => queue.on('done', () => resolve()));
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    await queue.enqueue(event('L1'));
    await done;
    await waitFor('the late query', async () => late !== undefined, 5_000);
    expect(await late).toBe('refused');
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM information_schema.tables
       WHERE table_schema = $1 AND table_name = 'late_write'`,
      [schema],
    );
    expect(rows[0].n).toBe(0);
  } finally {
    await worker.stop();
    await queue.stop();
  }
});
