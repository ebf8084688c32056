import type { Pool, PoolClient } from 'pg';
import { ConfigError } from '@payhook/core';
import { checkSchemaName, inTransaction, lockId, qualified, SOURCE } from './sql';

/** One step of the schema, applied once, in order, by `migrate`. */
export interface Migration {
  version: number;
  name: string;
  sql(schema: string): string;
}

/**
 * The schema's history. A released migration is never edited: a change is a new one. Every table
 * lives in the store's own schema, so one database can host several shops.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: '001_processed',
    sql: (s: string) => `
      CREATE TABLE ${qualified(s, 'processed')} (
        key text PRIMARY KEY,
        processed_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX processed_expires_at ON ${qualified(s, 'processed')} (expires_at);`,
  },
  {
    version: 2,
    name: '002_inbox',
    sql: (s: string) => `
      CREATE TABLE ${qualified(s, 'inbox')} (
        seq bigserial UNIQUE,
        id text PRIMARY KEY,
        received_at timestamptz NOT NULL,
        provider text NOT NULL,
        transport text NOT NULL,
        method text,
        url text,
        headers jsonb NOT NULL,
        body bytea NOT NULL,
        message jsonb,
        outcome text NOT NULL,
        refused boolean NOT NULL,
        reply jsonb NOT NULL,
        events jsonb NOT NULL,
        error jsonb,
        replay_of text,
        duration_ms integer NOT NULL
      );
      CREATE INDEX inbox_received_at ON ${qualified(s, 'inbox')} (received_at);
      CREATE INDEX inbox_refused_seq ON ${qualified(s, 'inbox')} (refused, seq);
      CREATE INDEX inbox_events ON ${qualified(s, 'inbox')} USING gin (events jsonb_path_ops);`,
  },
  {
    version: 3,
    name: '003_watch_list',
    sql: (s: string) => `
      CREATE TABLE ${qualified(s, 'watch_list')} (
        name text NOT NULL,
        id text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (name, id)
      );
      CREATE INDEX watch_list_expiry ON ${qualified(s, 'watch_list')} (name, expires_at);`,
  },
  {
    // The async mode's event table: one row per queued event, `pending` until a worker's
    // transaction marks it `done` (with the merchant's writes) or it is given up on (`dead`). `seq`
    // is the order the hub queued them in; `job_token` names the current pg-boss job, so a stale
    // job changes nothing. IF NOT EXISTS: it adopts the table `queue.start()` created before 004.
    version: 4,
    name: '004_async_event',
    sql: (s: string) => `
      CREATE TABLE IF NOT EXISTS ${qualified(s, 'payhook_async_event')} (
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
        ON ${qualified(s, 'payhook_async_event')} (payment_key, seq) WHERE state <> 'done';
      CREATE INDEX IF NOT EXISTS payhook_async_event_pending
        ON ${qualified(s, 'payhook_async_event')} (queued_at) WHERE state = 'pending';
      CREATE INDEX IF NOT EXISTS payhook_async_event_dead
        ON ${qualified(s, 'payhook_async_event')} (dead_at) WHERE state = 'dead';`,
  },
  {
    // The inbox's one budget for unverified entries (core's isVerifiedRecord), by count and bytes.
    // Independent of 004: it touches only the inbox table.
    version: 5,
    name: '005_inbox_budget',
    sql: (s: string) => `
      ALTER TABLE ${qualified(s, 'inbox')}
        ADD COLUMN unverified boolean NOT NULL DEFAULT false,
        ADD COLUMN size bigint NOT NULL DEFAULT 0;
      UPDATE ${qualified(s, 'inbox')} SET
        unverified = refused OR outcome = 'duplicate' OR jsonb_array_length(events) = 0,
        size = octet_length(body) + octet_length(headers::text)
          + coalesce(octet_length(message::text), 0) + coalesce(octet_length(url), 0);
      CREATE INDEX inbox_unverified_seq ON ${qualified(s, 'inbox')} (seq) WHERE unverified;`,
  },
  {
    // Every inbox write counts the earlier entries of its events through the GIN index on events.
    // With GIN's fast update, new entries wait in a pending list that every lookup scans in full
    // until a vacuum: 4.2 ms per count at 21,000 entries in the bench's PostgreSQL route, 0.04 ms
    // with the list flushed and fast update off (EXPLAIN ANALYZE, issue 24).
    version: 6,
    name: '006_inbox_events_no_pending_list',
    sql: (s: string) => `
      ALTER INDEX ${qualified(s, 'inbox_events')} SET (fastupdate = off);
      SELECT gin_clean_pending_list('${qualified(s, 'inbox_events')}'::regclass);`,
  },
  {
    // The awaited payments (core's AwaitedList, awaited-list.ts owns its statements): one row per
    // payment a merchant expects, per list `name`, kept until settled or overdue. Times are epoch
    // milliseconds (the writers' clocks, as core's type says). The states are core's AWAITED_STATES,
    // written out: a released migration never changes with the code. `lease_owner`/`lease_until`
    // are the sweeper's lease; the partial index serves the lease's "awaiting and due" scan and the
    // awaiting count of add's maxEntries check.
    version: 7,
    name: '007_awaited_payments',
    sql: (s: string) => `
      CREATE TABLE ${qualified(s, 'awaited_payments')} (
        name text NOT NULL,
        key text NOT NULL,
        provider text NOT NULL,
        order_id text,
        reference text,
        until bigint NOT NULL,
        created_at bigint NOT NULL,
        state text NOT NULL DEFAULT 'awaiting' CHECK (state IN ('awaiting', 'settled', 'overdue')),
        checks integer NOT NULL DEFAULT 0,
        next_check_at bigint NOT NULL,
        last_result text,
        settled_at bigint,
        settled_by text,
        event_id text,
        allow_older boolean NOT NULL DEFAULT false,
        lease_owner text,
        lease_until bigint,
        PRIMARY KEY (name, key)
      );
      CREATE INDEX awaited_payments_reference
        ON ${qualified(s, 'awaited_payments')} (name, provider, reference);
      CREATE INDEX awaited_payments_due
        ON ${qualified(s, 'awaited_payments')} (name, next_check_at) WHERE state = 'awaiting';`,
  },
]);

export interface MigrateOptions {
  /** The schema holding payhook's tables (default `payhook`); created when missing. */
  schema?: string;
}

export interface MigrateResult {
  schema: string;
  /** The migrations this call applied, by name (empty when the schema was up to date). */
  applied: string[];
  /** The latest version now applied. */
  version: number;
}

const HISTORY = 'schema_migrations';

/**
 * Applies the missing migrations in one transaction, under an advisory lock so two processes
 * migrating at once apply each step once. Never called implicitly: run it at deploy (or the CLI
 * `payhook-postgres migrate`).
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = checkSchemaName(options.schema, 'payhook');
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${lockId(schema, 'payhook:migrate')})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(schema, HISTORY)} (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await appliedVersions(client, schema);
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql(schema));
      await client.query(
        `INSERT INTO ${qualified(schema, HISTORY)} (version, name) VALUES ($1, $2)`,
        [m.version, m.name],
      );
      applied.push(m.name);
    }
    return { schema, applied, version: MIGRATIONS[MIGRATIONS.length - 1]!.version };
  });
}

async function appliedVersions(client: Pool | PoolClient, schema: string): Promise<Set<number>> {
  const { rows } = await client.query<{ version: number }>(
    `SELECT version FROM ${qualified(schema, HISTORY)}`,
  );
  return new Set(rows.map((r) => r.version));
}

/** The migrations not applied to `schema` yet, by name (all of them when it has no history). */
export async function missingMigrations(
  pool: Pool,
  options: MigrateOptions = {},
): Promise<string[]> {
  const schema = checkSchemaName(options.schema, 'payhook');
  const { rows } = await pool.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [qualified(schema, HISTORY)],
  );
  const done = rows[0]?.present ? await appliedVersions(pool, schema) : new Set<number>();
  return MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => m.name);
}

/**
 * The boot check: resolves when every migration is applied to `schema`, else throws a ConfigError
 * naming the missing ones and how to apply them.
 */
export async function checkSchema(pool: Pool, options: MigrateOptions = {}): Promise<void> {
  const schema = checkSchemaName(options.schema, 'payhook');
  const missing = await missingMigrations(pool, { schema });
  if (missing.length === 0) return;
  throw new ConfigError(
    'schema',
    `"${schema}" lacks migration ${missing.join(', ')}: run \`payhook-postgres migrate --schema ${schema}\` ` +
      `or migrate(pool, { schema: '${schema}' }) before starting the app (or the queue)`,
    { source: SOURCE },
  );
}
