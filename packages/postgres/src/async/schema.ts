import type { Pool } from 'pg';
import { inTransaction } from '../sql';
import type { QueueSettings } from './types';

/**
 * The event table: one row per event queued in async mode, `pending` until a worker's transaction
 * marks it `done` (with the merchant's writes) or it is given up on (`dead`). `seq` is the order the
 * hub queued them in: events of one payment are processed in that order. `job_token` names the
 * current pg-boss job, so a stale job (an old dead-letter copy, a deferred twin) changes nothing.
 */
export function createTableSql(settings: QueueSettings): string {
  const { schema, table } = settings;
  return `
    CREATE SCHEMA IF NOT EXISTS "${schema}";
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
}

/**
 * Creates the table once, whoever calls first: concurrent CREATE ... IF NOT EXISTS from two
 * processes can still collide in the catalogue, so they take turns on an advisory lock.
 */
export async function ensureTable(pool: Pool, settings: QueueSettings): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `payhook:${settings.schema}`,
    ]);
    await client.query(createTableSql(settings));
  });
}

/** Which payment an event belongs to: its events are processed in the order they were queued. */
export function paymentKey(event: { provider: string; transactionId: string }): string {
  return `${event.provider}:${event.transactionId}`;
}
