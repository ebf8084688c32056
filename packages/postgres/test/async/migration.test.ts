import type { Pool } from 'pg';
import { ConfigError } from '@payhook/core';
import { migrate, missingMigrations } from '../../src';
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
 * The event table is migration 004_async_event. A database whose table was made by `queue.start()`
 * before 004 existed (the SQL below is that release's createTableSql, verbatim) is adopted with its
 * rows, and `queue.start()` no longer creates anything: it names the missing migration.
 */
jest.setTimeout(60_000);
let pool: Pool;
const schema = testSchema('async_migrate');

/** What `queue.start()` ran before migration 004 (src/async/schema.ts createTableSql). */
const oldCreateTableSql = (s: string): string => {
  const table = `"${s}".payhook_async_event`;
  return `
    CREATE SCHEMA IF NOT EXISTS "${s}";
    CREATE TABLE IF NOT EXISTS ${table} (
      id text PRIMARY KEY,
      seq bigserial NOT NULL UNIQUE,
      payment_key text NOT NULL,
      provider text NOT NULL,
      type text NOT NULL,
      event jsonb NOT NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      last_error jsonb,
      job_token uuid NOT NULL,
      queued_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      done_at timestamptz,
      dead_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS payhook_async_event_open
      ON ${table} (payment_key, seq) WHERE state <> 'done';
    CREATE INDEX IF NOT EXISTS payhook_async_event_pending
      ON ${table} (queued_at) WHERE state = 'pending';
    CREATE INDEX IF NOT EXISTS payhook_async_event_dead
      ON ${table} (dead_at) WHERE state = 'dead';`;
};

const event = completedEvent;

beforeAll(async () => {
  pool = testPool();
  // The release before 004: migrations 001-003 applied, the event table made by queue.start().
  await setUpAsyncSchema(pool, schema);
  await pool.query(`DROP TABLE "${schema}".payhook_async_event`);
  await pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version = 4`);
  await pool.query(oldCreateTableSql(schema));
  const insert = `INSERT INTO "${schema}".payhook_async_event
    (id, payment_key, provider, type, event, state, job_token) VALUES ($1, $2, $3, $4, $5, $6, $7)`;
  for (const [txn, state, token] of [
    ['OLD1', 'done', '00000000-0000-4000-8000-000000000001'],
    ['OLD2', 'pending', '00000000-0000-4000-8000-000000000002'],
  ] as const) {
    const e = event(txn);
    await pool.query(insert, [e.id, `test-gateway:${txn}`, e.provider, e.type, e, state, token]);
  }
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

it('queue.start() names the missing migration; migrate() adopts the old table and its rows; the worker processes a pending one', async () => {
  const queue = createPaymentQueue(fastQueueOptions(pool, schema, { queueName: 'q_migrate' }));
  const refused = queue.start();
  await expect(refused).rejects.toThrow(ConfigError);
  await expect(queue.start()).rejects.toThrow(
    /lacks migration 004_async_event.*payhook-postgres migrate/,
  );
  expect(await missingMigrations(pool, { schema })).toEqual(['004_async_event']);

  expect((await migrate(pool, { schema })).applied).toEqual(['004_async_event']);
  const { rows } = await pool.query(
    `SELECT id, state FROM "${schema}".payhook_async_event ORDER BY seq`,
  );
  expect(rows).toEqual([
    { id: 'test-gateway:OLD1:paid', state: 'done' },
    { id: 'test-gateway:OLD2:paid', state: 'pending' },
  ]);

  await queue.start();
  // The pending row's job, as the old release's enqueue had queued it.
  await queue.boss.send('q_migrate', {
    id: 'test-gateway:OLD2:paid',
    paymentKey: 'test-gateway:OLD2',
    token: '00000000-0000-4000-8000-000000000002',
  });
  queue.onAny(async (e, { tx }) => {
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'w')`,
      [e.id, e.transactionId, e.type],
    );
  });
  const worker = startWorker(queue, { pollingIntervalMs: 100 });
  try {
    await waitFor(
      'the old pending row processed',
      async () => (await effectCounts(pool, schema)).get('test-gateway:OLD2:paid') === 1,
      10_000,
    );
    const after = await pool.query(
      `SELECT id, state FROM "${schema}".payhook_async_event ORDER BY seq`,
    );
    expect(after.rows.map((r) => r.state)).toEqual(['done', 'done']);
    // New events keep the old sequence going.
    expect(await queue.enqueue(event('NEW1') as never)).toBe(true);
  } finally {
    await worker.stop();
    await queue.stop();
  }
});
