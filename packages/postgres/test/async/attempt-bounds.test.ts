import type { Pool, PoolClient } from 'pg';
import { reportCounts } from '@payhook/core/testing';
import { createPaymentQueue, startWorker } from '../../src/async';
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

/**
 * The bounds of one attempt (issue 22): the wait for a payment's order lock, and the job's expiry,
 * which must never fire while its attempt still runs (pg-boss would hand the job to another worker,
 * or dead-letter its last attempt with ERR_JOB_EXPIRED while it ran).
 */
jest.setTimeout(60_000);
let pool: Pool;
const schema = testSchema('async_bounds');

beforeAll(async () => {
  pool = testPool();
  await setUpAsyncSchema(pool, schema);
  await pool.query(`CREATE TABLE "${schema}".merchant (id text PRIMARY KEY, n integer NOT NULL)`);
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

const event = completedEvent;

const eventRow = async (id: string): Promise<{ state: string; attempts: number }> =>
  (
    await pool.query(`SELECT state, attempts FROM "${schema}".payhook_async_event WHERE id = $1`, [
      id,
    ])
  ).rows[0];

it('expireInSeconds is refused unless it exceeds the attempt bound, naming the options', () => {
  const options = fastQueueOptions(pool, schema, { expireInSeconds: 10 });
  expect(() => createPaymentQueue(options)).toThrow(/expireInSeconds.*10100 ms.*attemptTimeoutMs/);
  expect(() => createPaymentQueue({ ...options, statementTimeoutMs: 0.5 })).toThrow(
    /statementTimeoutMs/,
  );
  expect(() => createPaymentQueue({ ...options, orderLockTimeoutMs: 0 })).toThrow(
    /orderLockTimeoutMs/,
  );
  expect(() => createPaymentQueue({ ...options, schema: 'Payhook' })).toThrow(/schema/);
});

it("past orderLockTimeoutMs the job steps aside (not an attempt) and runs once the payment's lock is free", async () => {
  // The worker's own pool, named, so the lock waiters below are its sessions only.
  const app = `${schema}_order`;
  const workerPool = testPool({ application_name: app });
  const queue = createPaymentQueue(fastQueueOptions(workerPool, schema, { queueName: 'q_order' }));
  const id = 'test-gateway:OL1:paid';
  queue.onAny(async (e, { tx }) => {
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'w')`,
      [e.id, e.transactionId, e.type],
    );
  });
  let failed = 0;
  queue.on('attempt.failed', () => void failed++);
  const attempts: number[] = [];
  queue.on('done', (_e, attempt) => void attempts.push(attempt));
  // Another attempt of the payment holds its order lock (the key process-job.ts locks on).
  const holder: PoolClient = await pool.connect();
  await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['test-gateway:OL1']);
  await queue.enqueue(event('OL1'));
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    await waitFor('two steps aside', async () => worker.counts.waiting >= 2, 10_000, 50);
    expect(await eventRow(id)).toEqual({ state: 'pending', attempts: 0 });
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND application_name = $1`,
      [app],
    );
    const lockWaiters = rows[0].n;
    expect(lockWaiters).toBe(0); // polled with pg_try_advisory_xact_lock: nobody parked on it
    const stepsAside = worker.counts.waiting;
    await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', ['test-gateway:OL1']);
    await waitFor('done', async () => (await eventRow(id)).state === 'done', 10_000, 50);
    expect(failed).toBe(0);
    expect(attempts).toEqual([1]);
    expect(await eventRow(id)).toEqual({ state: 'done', attempts: 1 });
    expect((await effectCounts(pool, schema)).get(id)).toBe(1);
    reportCounts('async order-lock bound', { orderLockTimeoutMs: 300, stepsAside, failed });
  } finally {
    holder.release();
    await worker.stop();
    await queue.stop();
    await workerPool.end();
  }
});

it('an attempt that would outlive its job is ended before pg-boss can expire it, and retried', async () => {
  // Queued with the fast options: each job expires 11 s after it is taken.
  const sender = createPaymentQueue(
    fastQueueOptions(pool, schema, { queueName: 'q_expiry', retryLimit: 1 }),
  );
  // A worker configured otherwise: its own attemptTimeoutMs (30 s) would outlive that expiry.
  const queue = createPaymentQueue(
    fastQueueOptions(pool, schema, {
      queueName: 'q_expiry',
      retryLimit: 1,
      attemptTimeoutMs: 30_000,
      expireInSeconds: 60,
    }),
  );
  const id = 'test-gateway:EX1:paid';
  const started: number[] = [];
  // Ignores its abort signal and blocks on a row another session holds.
  queue.onAny(async (e, { tx }) => {
    started.push(Date.now());
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'w')`,
      [e.id, e.transactionId, e.type],
    );
    await tx.query(`UPDATE "${schema}".merchant SET n = n + 1 WHERE id = 'expiry'`);
  });
  const failures: Array<{ at: number; code?: string; willRetry: boolean }> = [];
  queue.on('attempt.failed', (a) =>
    failures.push({
      at: Date.now(),
      code: (a.error as { code?: string }).code,
      willRetry: a.willRetry,
    }),
  );
  const dead: string[] = [];
  queue.on('dead', (l) => void dead.push(l.error?.code ?? ''));
  await pool.query(`INSERT INTO "${schema}".merchant (id, n) VALUES ('expiry', 0)`);
  const locker: PoolClient = await pool.connect();
  await locker.query('BEGIN');
  await locker.query(`SELECT n FROM "${schema}".merchant WHERE id = 'expiry' FOR UPDATE`);
  await sender.enqueue(event('EX1'));
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    await waitFor('the first attempt ended', async () => failures.length === 1, 15_000, 50);
    const endedAfterMs = failures[0]!.at - started[0]!;
    // Ended (terminated and recorded) before the job's 11 s expiry, as a retryable failure.
    expect(endedAfterMs).toBeLessThan(11_000);
    expect(failures[0]).toMatchObject({ code: 'ERR_LISTENER_TIMEOUT', willRetry: true });
    await locker.query('ROLLBACK');
    await waitFor('done', async () => (await eventRow(id)).state === 'done', 15_000, 50);
    expect(await eventRow(id)).toEqual({ state: 'done', attempts: 2 });
    expect(dead).toEqual([]);
    expect((await effectCounts(pool, schema)).get(id)).toBe(1);
    // pg-boss never expired it: no expiry output, nothing in the dead-letter queue.
    const { rows } = await pool.query(
      `SELECT name, state, output FROM "${schema}".job WHERE name LIKE 'q_expiry%'`,
    );
    expect(rows.filter((r) => r.name === 'q_expiry_dead')).toEqual([]);
    expect(JSON.stringify(rows)).not.toMatch(/failed by timeout/);
    reportCounts('async expiry bound', { expireMs: 11_000, endedAfterMs, attempts: 2, dead: 0 });
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
    await worker.stop();
    await queue.stop();
    await sender.stop();
  }
});
