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
 * The reviewer's scenario (issue 22): the merchant's row is locked by another session for 8 s
 * while the worker's listeners UPDATE it, with `concurrency` equal to and above the pool's `max`.
 * Every job connection then sits in a listener blocked on the lock; a timed-out attempt must still
 * be ended (its backend terminated from the housekeeping connection, never the pool those jobs
 * hold) and recorded, so that once the lock goes all 20 events are processed, once each, within
 * 5 s, and no session of the worker is left idle in transaction.
 */
jest.setTimeout(180_000);
const EVENTS = 20;
const LOCK_MS = 8_000;
const DRAIN_LIMIT_MS = 5_000;
/** [pool max, concurrency]: equal, above, the CLI's 20 on its pool of 20, and a pool of one. */
const CASES: Array<[number, number]> = [
  [4, 4],
  [4, 8],
  [20, 20],
  [1, 1],
  [2, 16],
];

let admin: Pool;
const schema = testSchema('async_dry');

beforeAll(async () => {
  admin = testPool();
  await setUpAsyncSchema(admin, schema);
  await admin.query(`CREATE TABLE "${schema}".merchant (id text PRIMARY KEY, n integer NOT NULL)`);
});

afterAll(async () => {
  await dropSchema(admin, schema);
  await admin.end();
});

const event = completedEvent;

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(sql, values);
  return rows[0]!.n;
}

/** Sessions of the worker's pool (by application_name) by state. */
async function sessions(app: string): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ state: string | null; n: number }>(
    `SELECT state, count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 GROUP BY 1`,
    [app],
  );
  return Object.fromEntries(rows.map((r) => [r.state ?? 'null', r.n]));
}

it.each(CASES)(
  'pool max %i, concurrency %i, the merchant row locked 8 s: 20 of 20 once each within 5 s of the lock going',
  async (max, concurrency) => {
    const label = `dry_${max}_${concurrency}`;
    const app = `${schema}_${label}`.slice(0, 63);
    const pool = testPool({ max, application_name: app });
    await admin.query(`INSERT INTO "${schema}".merchant (id, n) VALUES ($1, 0)`, [label]);
    const queue = createPaymentQueue(
      fastQueueOptions(pool, schema, {
        queueName: label,
        retryLimit: 100,
        attemptTimeoutMs: 1_500,
        expireInSeconds: 12,
      }),
    );
    // The reviewer's listener: its UPDATE waits for the lock and ignores the abort signal.
    queue.onAny(async (e, { tx }) => {
      await tx.query(
        `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, $4)`,
        [e.id, e.transactionId, e.type, label],
      );
      await tx.query(`UPDATE "${schema}".merchant SET n = n + 1 WHERE id = $1`, [label]);
    });
    let failures = 0;
    queue.on('attempt.failed', () => void failures++);
    const txns = Array.from({ length: EVENTS }, (_, i) => `${label}_${i}`);
    for (const t of txns) await queue.enqueue(event(t));
    const locker: PoolClient = await admin.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT n FROM "${schema}".merchant WHERE id = $1 FOR UPDATE`, [label]);
    const worker = startWorker(queue, { concurrency, pollingIntervalMs: 100 });
    const done = (): Promise<number> =>
      count(
        `SELECT count(*)::int AS n FROM "${schema}".payhook_async_event
         WHERE state = 'done' AND id LIKE $1`,
        [`test-gateway:${label}\\_%`],
      );
    try {
      await new Promise((r) => setTimeout(r, LOCK_MS));
      const whileLocked = { done: await done(), failures, sessions: await sessions(app) };
      expect(whileLocked.done).toBe(0);
      await locker.query('ROLLBACK');
      const releasedAt = Date.now();
      await waitFor('20 of 20 done', async () => (await done()) === EVENTS, DRAIN_LIMIT_MS, 50);
      const drainMs = Date.now() - releasedAt;
      const effects = await effectCounts(admin, schema);
      for (const t of txns) expect(effects.get(`test-gateway:${t}:paid`)).toBe(1);
      expect(await count(`SELECT n FROM "${schema}".merchant WHERE id = $1`, [label])).toBe(EVENTS);
      const after = await sessions(app);
      expect(after['idle in transaction'] ?? 0).toBe(0);
      expect(after['idle in transaction (aborted)'] ?? 0).toBe(0);
      expect((await queue.stats()).dead).toBe(0);
      reportCounts(`async dry pool max ${max} concurrency ${concurrency}`, {
        lockMs: LOCK_MS,
        failedAttemptsWhileLocked: whileLocked.failures,
        sessionsWhileLocked: whileLocked.sessions,
        drainMs,
        done: EVENTS,
        sessionsAfter: after,
      });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
      await worker.stop();
      await queue.stop();
      await pool.end();
    }
  },
);
