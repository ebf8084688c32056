import type { Pool } from 'pg';
import { reportCounts } from '@payhook/core/testing';
import {
  dropSchema,
  fastQueueOptions,
  killWorker,
  receiveAll,
  setUpAsyncSchema,
  startAsyncApp,
  startWorkerProcess,
  testPool,
  testSchema,
  waitFor,
  type AsyncApp,
  type WorkerProcess,
} from './support/app';

/**
 * PAYHOOK_ASYNC_EVENTS events (default 10,000: a completion then a refund for each of half as many
 * payments) queued through the hub while two worker processes take them: each is processed once,
 * and every payment's refund after its completion. Measured on the shared 2-core machine: 10,000
 * in 75 s at load average 9 (79 s for the suite), 144 s at load average 17; bound by queueing
 * through the hub (70–133 deliveries/s), the workers drained the last events about 1 s after the
 * last was queued. Set a smaller count for a quick local run.
 */
const EVENTS = Number(process.env.PAYHOOK_ASYNC_EVENTS ?? 10_000);
const PAYMENTS = Math.floor(EVENTS / 2);
jest.setTimeout(Math.max(120_000, EVENTS * 30));
let pool: Pool;
const schema = testSchema('async_10k');
let app: AsyncApp;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  pool = testPool({ max: 20 });
  await setUpAsyncSchema(pool, schema);
  app = await startAsyncApp(fastQueueOptions(pool, schema, { expireInSeconds: 30 }));
});

afterAll(async () => {
  for (const w of workers) await killWorker(w, 'SIGKILL');
  await app?.close();
  await dropSchema(pool, schema);
  await pool.end();
});

const doneCount = async (): Promise<number> => {
  const { rows } = await pool.query(
    `SELECT count(*) AS n FROM "${schema}".payhook_async_event WHERE state = 'done'`,
  );
  return Number(rows[0].n);
};

it(`${EVENTS} events across two worker processes: each once, a payment's events in order`, async () => {
  expect(EVENTS).toBeGreaterThanOrEqual(2);
  workers.push(
    ...(await Promise.all([startWorkerProcess('w1', schema), startWorkerProcess('w2', schema)])),
  );
  const groups = Array.from({ length: PAYMENTS }, (_, i) => [
    { txn: `P${i}`, status: 'PAID' as const },
    { txn: `P${i}`, status: 'REFUNDED' as const, refundId: 'R1' },
  ]);
  const started = Date.now();
  expect(await receiveAll(app.hub, groups)).toEqual({ processed: PAYMENTS * 2 });
  const queuedMs = Date.now() - started;
  await waitFor('all done', async () => (await doneCount()) === PAYMENTS * 2, EVENTS * 20, 250);
  const totalMs = Date.now() - started;

  const once = await pool.query(
    `SELECT count(*) AS events, count(*) FILTER (WHERE n <> 1) AS not_once, sum(n) AS effects
     FROM (SELECT event_id, count(*) AS n FROM "${schema}".effects GROUP BY event_id) x`,
  );
  expect(once.rows[0]).toEqual({
    events: String(PAYMENTS * 2),
    not_once: '0',
    effects: String(PAYMENTS * 2),
  });
  const order = await pool.query(
    `SELECT count(*) AS out_of_order FROM (
       SELECT array_agg(type ORDER BY seq) AS types FROM "${schema}".effects GROUP BY txn) x
     WHERE types <> ARRAY['payment.completed', 'payment.refunded']`,
  );
  expect(order.rows[0].out_of_order).toBe('0');
  const perWorker = await pool.query(
    `SELECT worker, count(*) AS n FROM "${schema}".effects GROUP BY worker ORDER BY worker`,
  );
  // Both processes took a share.
  expect(perWorker.rows.map((r) => r.worker)).toEqual(['w1', 'w2']);
  await Promise.all(workers.map((w) => killWorker(w, 'SIGTERM')));
  const waits = workers.map((w) => JSON.parse(/stopped (\{.*\})/.exec(w.stdout())![1]!).waiting);
  reportCounts('async throughput', {
    events: PAYMENTS * 2,
    queuedMs,
    totalMs,
    eventsPerSecond: Math.round((PAYMENTS * 2) / (totalMs / 1000)),
    perWorker: Object.fromEntries(perWorker.rows.map((r) => [r.worker, Number(r.n)])),
    orderWaits: waits,
  });
});
