import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  AwaitedListFullError,
  ConfigError,
  StoreError,
  awaitedKey,
  type AwaitedCounts,
  type AwaitedLease,
  type AwaitedList,
  type AwaitedListFilter,
  type AwaitedMatch,
  type AwaitedPayment,
  type AwaitedReschedule,
  type AwaitedSettlement,
  type AwaitedState,
  type NewAwaitedPayment,
  type SettledBy,
} from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import {
  checkDeadlines,
  connectWithin,
  createTerminator,
  queryWithin,
  type Terminator,
} from './deadline';
import { checkSchemaName, lockId, qualified, SOURCE } from './sql';

export interface PostgresAwaitedListOptions {
  /** Your pg Pool. It stays yours: `close()` does not end it. */
  pool: Pool;
  /** The store's schema (default `payhook`), migrated to 007_awaited_payments. */
  schema?: string;
  /** Which list (default `awaited`): every instance that shares it uses the same schema and name. */
  name?: string;
  /** Most payments awaiting at once; one more is refused (ERR_AWAITED_FULL), none dropped (default 100,000). */
  maxEntries?: number;
  /** Longest a call waits for a pooled connection (default 1,000 ms). */
  connectTimeoutMs?: number;
  /**
   * Longest one statement may take (default 2,000 ms). Past it the call rejects (ERR_STORE_TIMEOUT),
   * its connection is destroyed, never returned to the pool, and its backend is terminated, so a
   * statement still waiting on a lock cannot take effect after its caller was told it failed.
   */
  statementTimeoutMs?: number;
}

export interface PostgresAwaitedList extends AwaitedList {
  readonly schema: string;
  readonly name: string;
  /** Closes the list's own terminate connection (if one was opened); the pool stays yours to end. */
  close(): Promise<void>;
}

/**
 * The awaited-payment list (core's AwaitedList) as the `awaited_payments` table (migration 007):
 * shared by every instance on the schema and name, surviving restarts. This file owns the table's
 * statements and its states: `awaiting` → `settled` | `overdue`, `overdue` → `settled`.
 * Each call is one statement except `add`, which counts and inserts under the list's advisory lock.
 */
export function createPostgresAwaitedList(
  options: PostgresAwaitedListOptions,
): PostgresAwaitedList {
  const state = resolveState(options);
  const { table } = state;
  return {
    schema: state.schema,
    name: state.name,
    add: (entry) => add(state, entry),
    settle: (match, settlement) => settle(state, match, settlement),
    lease: (lease) => takeDue(state, lease),
    reschedule: (key, owner, next) => reschedule(state, key, owner, next),
    expire: (key, at, lastResult) => expire(state, key, at, lastResult),
    async get(key) {
      const { rows } = await run(state, 'awaited get', (query) =>
        query<Row>(`SELECT * FROM ${table} WHERE name = $1 AND key = $2`, [state.name, key]),
      );
      return rows[0] ? toPayment(rows[0]) : null;
    },
    list: (filter) => list(state, filter),
    counts: (now) => counts(state, now),
    purge: (before) => purge(state, before),
    close: () => state.terminator.close(),
  };
}

/** One list's settings. */
interface ListState {
  pool: Pool;
  schema: string;
  name: string;
  table: string;
  /** The advisory lock of this list's adds. */
  addLock: string;
  maxEntries: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  terminator: Terminator;
}

function resolveState(options: PostgresAwaitedListOptions): ListState {
  const { pool } = options ?? ({} as PostgresAwaitedListOptions);
  if (!pool || typeof pool.connect !== 'function' || typeof pool.query !== 'function')
    throw new ConfigError('pool', 'must be a pg Pool (new Pool({ connectionString }))', {
      source: SOURCE,
    });
  const schema = checkSchemaName(options.schema, 'payhook');
  const name = options.name ?? 'awaited';
  if (typeof name !== 'string' || name.length === 0 || name.length > 200)
    throw new ConfigError('name', 'must be a non-empty string of at most 200 characters', {
      source: SOURCE,
    });
  const rule = { source: SOURCE };
  const maxEntries = checkWholeNumber(options.maxEntries, 100_000, 'maxEntries', rule);
  const { connectTimeoutMs, statementTimeoutMs } = checkDeadlines(options);
  return {
    pool,
    schema,
    name,
    table: qualified(schema, 'awaited_payments'),
    addLock: lockId(schema, `awaited:${name}`),
    maxEntries,
    connectTimeoutMs,
    statementTimeoutMs,
    // A failed terminate (the server is frozen too) changes nothing: the socket is already gone.
    terminator: createTerminator(pool, { connectTimeoutMs, statementTimeoutMs }, () => undefined),
  };
}

type Query = <R extends QueryResultRow = QueryResultRow>(
  text: string,
  values?: unknown[],
) => Promise<QueryResult<R>>;

/**
 * `fn`'s statements on one pooled connection (within connectTimeoutMs), each within
 * statementTimeoutMs. Past a deadline, or on any error, the connection is given back as broken
 * (destroyed, never pooled again; an open transaction on it is rolled back by the server), and a
 * timed-out statement's backend is terminated. Every failure rejects with a StoreError.
 */
async function run<T>(
  state: ListState,
  operation: string,
  fn: (query: Query) => Promise<T>,
): Promise<T> {
  // Waits for a free connection up to connectTimeoutMs (a sweep or an add may queue briefly behind
  // the app's own queries), never longer.
  const client: PoolClient = await connectWithin(
    state.pool,
    state.connectTimeoutMs,
    operation,
    true,
  );
  const pid = (client as PoolClient & { processID?: number }).processID;
  let broken: Error | undefined;
  const onTimeout = (error: Error): void => {
    broken = error;
    state.terminator.terminate(pid);
  };
  const query: Query = (text, values) =>
    queryWithin(client, state.statementTimeoutMs, onTimeout, text, values);
  try {
    return await fn(query);
  } catch (error) {
    broken ??= error as Error;
    throw error instanceof StoreError ? error : new StoreError(operation, error, SOURCE);
  } finally {
    client.release(broken);
  }
}

/** A row of `awaited_payments` as pg reads it (bigint columns arrive as strings). */
interface Row {
  key: string;
  provider: string;
  order_id: string | null;
  reference: string | null;
  until: string;
  created_at: string;
  state: AwaitedState;
  checks: number;
  next_check_at: string;
  last_result: string | null;
  settled_at: string | null;
  settled_by: SettledBy | null;
  event_id: string | null;
  allow_older: boolean;
}

/** The entry a caller sees: the lease columns stay the list's own. */
function toPayment(row: Row): AwaitedPayment {
  return {
    key: row.key,
    provider: row.provider,
    orderId: row.order_id,
    reference: row.reference,
    until: Number(row.until),
    createdAt: Number(row.created_at),
    state: row.state,
    checks: row.checks,
    nextCheckAt: Number(row.next_check_at),
    lastResult: row.last_result,
    settledAt: row.settled_at === null ? null : Number(row.settled_at),
    settledBy: row.settled_by,
    eventId: row.event_id,
    allowOlderThanMaxAge: row.allow_older,
  };
}

/**
 * Under the list's advisory lock (one add of this list at a time, so two adds never both count
 * maxEntries - 1 and both insert), in READ COMMITTED so the statement's snapshot is taken after
 * the lock (it sees every add before it): one upsert that inserts a new key only while fewer than
 * maxEntries are awaiting, updates an awaiting entry (the later `until`, a reference it lacked) and
 * leaves a settled or overdue one as it is. No row back means the list is full. Settle and expire
 * take no lock: they only lower the count. A row the snapshot shows awaiting skips the count (it is
 * no new entry): only a settle and a purge of it both committing during this statement could make
 * that insert one past maxEntries.
 */
async function add(state: ListState, entry: NewAwaitedPayment): Promise<AwaitedPayment> {
  const { table } = state;
  const rows = await run(state, 'awaited add', async (query) => {
    await query(
      `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${state.addLock})`,
    );
    const result = await query<Row>(
      `WITH upserted AS (
         INSERT INTO ${table} AS a (name, key, provider, order_id, reference, until, created_at,
           state, checks, next_check_at, allow_older)
         SELECT $1, $2, $3, $4, $5, $6, $7, 'awaiting', 0, $8, $9
         WHERE EXISTS (SELECT 1 FROM ${table} WHERE name = $1 AND key = $2 AND state = 'awaiting')
           OR (SELECT count(*) FROM ${table} WHERE name = $1 AND state = 'awaiting') < $10
         ON CONFLICT (name, key) DO UPDATE SET
           until = CASE WHEN a.state = 'awaiting' THEN greatest(a.until, EXCLUDED.until)
                   ELSE a.until END,
           reference = CASE WHEN a.state = 'awaiting' THEN coalesce(a.reference, EXCLUDED.reference)
                       ELSE a.reference END
         RETURNING a.*
       )
       SELECT * FROM upserted
       UNION ALL
       SELECT * FROM ${table}
       WHERE name = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM upserted)`,
      [
        state.name,
        entry.key,
        entry.provider,
        entry.orderId,
        entry.reference,
        entry.until,
        entry.createdAt,
        entry.nextCheckAt,
        entry.allowOlderThanMaxAge,
        state.maxEntries,
      ],
    );
    await query('COMMIT');
    return result.rows;
  });
  if (!rows[0]) throw new AwaitedListFullError(state.maxEntries, SOURCE);
  return toPayment(rows[0]);
}

/**
 * One UPDATE: the entry keyed by the order number, else the one keyed by the reference, else one
 * whose `reference` column it is (an unsettled one first, then the newest), settled unless it
 * already is. The row is locked by the UPDATE and `state <> 'settled'` is checked again on its
 * latest version, so of racing settlements exactly one gets the row back.
 */
async function settle(
  state: ListState,
  match: AwaitedMatch,
  settlement: AwaitedSettlement,
): Promise<AwaitedPayment | null> {
  const { provider, orderId, reference } = match;
  const orderKey = orderId === null ? null : awaitedKey(provider, { orderId });
  const refKey = reference === null ? null : awaitedKey(provider, { reference });
  const { table } = state;
  const { rows } = await run(state, 'awaited settle', (query) =>
    query<Row>(
      `WITH target AS (
         SELECT key FROM ${table}
         WHERE name = $1 AND (key = $2 OR key = $3 OR (provider = $4 AND reference = $5))
         ORDER BY CASE WHEN key = $2 THEN 0 WHEN key = $3 THEN 1 ELSE 2 END,
           state = 'settled', created_at DESC, key
         LIMIT 1
       )
       UPDATE ${table} AS a SET state = 'settled', settled_at = $6, settled_by = $7, event_id = $8,
         lease_owner = NULL, lease_until = NULL
       FROM target
       WHERE a.name = $1 AND a.key = target.key AND a.state <> 'settled'
       RETURNING a.*`,
      [
        state.name,
        orderKey,
        refKey,
        provider,
        reference,
        settlement.at,
        settlement.by,
        settlement.eventId,
      ],
    ),
  );
  return rows[0] ? toPayment(rows[0]) : null;
}

/**
 * One UPDATE of the due, unleased awaiting entries, soonest first. The candidates are locked
 * `FOR UPDATE SKIP LOCKED` in a MATERIALIZED CTE (run once, so its LIMIT and its locks are those
 * of one scan): a row another sweeper is leasing at this moment is skipped, and a row it leased
 * just before fails the lease condition on its latest version. Two sweepers never get one entry.
 */
async function takeDue(state: ListState, lease: AwaitedLease): Promise<AwaitedPayment[]> {
  const { table } = state;
  const { rows } = await run(state, 'awaited lease', (query) =>
    query<Row>(
      `WITH due AS MATERIALIZED (
         SELECT name, key FROM ${table}
         WHERE name = $1 AND state = 'awaiting' AND next_check_at <= $6
           AND (lease_until IS NULL OR lease_until <= $2)
           AND ($7::text IS NULL OR provider = $7)
         ORDER BY next_check_at, key
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       )
       UPDATE ${table} SET lease_owner = $4, lease_until = $5
       WHERE (name, key) IN (SELECT name, key FROM due)
       RETURNING *`,
      [
        state.name,
        lease.now,
        lease.limit,
        lease.owner,
        lease.now + lease.leaseMs,
        lease.dueBy ?? lease.now,
        lease.provider ?? null,
      ],
    ),
  );
  return rows
    .map(toPayment)
    .sort((a, b) => a.nextCheckAt - b.nextCheckAt || (a.key < b.key ? -1 : 1));
}

/** Only the lease's owner, only while awaiting: the next check's time, and the lease freed. */
async function reschedule(
  state: ListState,
  key: string,
  owner: string,
  next: AwaitedReschedule,
): Promise<boolean> {
  const result = await run(state, 'awaited reschedule', (query) =>
    query(
      `UPDATE ${state.table} SET next_check_at = $4, checks = $5, last_result = $6,
         lease_owner = NULL, lease_until = NULL
       WHERE name = $1 AND key = $2 AND lease_owner = $3 AND state = 'awaiting'`,
      [state.name, key, owner, next.nextCheckAt, next.checks, next.lastResult],
    ),
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Awaiting → overdue, once: the row lock and `state = 'awaiting'` on its latest version let one
 * caller through. `at` is not stored (as in core's memory list): an overdue entry's end is `until`.
 */
async function expire(
  state: ListState,
  key: string,
  at: number,
  lastResult: string | null,
): Promise<AwaitedPayment | null> {
  void at;
  const { rows } = await run(state, 'awaited expire', (query) =>
    query<Row>(
      `UPDATE ${state.table} SET state = 'overdue', last_result = $3, settled_at = NULL,
         lease_owner = NULL, lease_until = NULL
       WHERE name = $1 AND key = $2 AND state = 'awaiting'
       RETURNING *`,
      [state.name, key, lastResult],
    ),
  );
  return rows[0] ? toPayment(rows[0]) : null;
}

async function list(state: ListState, filter: AwaitedListFilter = {}): Promise<AwaitedPayment[]> {
  const { rows } = await run(state, 'awaited list', (query) =>
    query<Row>(
      `SELECT * FROM ${state.table}
       WHERE name = $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR provider = $3)
       ORDER BY created_at DESC, key
       LIMIT $4`,
      [state.name, filter.state ?? null, filter.provider ?? null, filter.limit ?? 100],
    ),
  );
  return rows.map(toPayment);
}

/** By state, an awaiting entry whose `until` has passed counted as overdue. */
async function counts(state: ListState, now: number): Promise<AwaitedCounts> {
  const { rows } = await run(state, 'awaited counts', (query) =>
    query<{ awaiting: number; overdue: number; settled: number }>(
      `SELECT
         count(*) FILTER (WHERE state = 'awaiting' AND until > $2)::int AS awaiting,
         count(*) FILTER (WHERE state = 'overdue' OR (state = 'awaiting' AND until <= $2))::int
           AS overdue,
         count(*) FILTER (WHERE state = 'settled')::int AS settled
       FROM ${state.table} WHERE name = $1`,
      [state.name, now],
    ),
  );
  const { awaiting, overdue, settled } = rows[0]!;
  return { awaiting, overdue, settled };
}

/** Rows one purge statement deletes at most: a long-unpurged list is purged in several, each within the deadline. */
const PURGE_BATCH = 5_000;

/** Settled entries whose settledAt, and overdue ones whose until, is before `before`; never an awaiting one. */
async function purge(state: ListState, before: number): Promise<number> {
  const { table } = state;
  let purged = 0;
  for (;;) {
    const result = await run(state, 'awaited purge', (query) =>
      query(
        `DELETE FROM ${table} WHERE name = $1 AND key IN (
           SELECT key FROM ${table}
           WHERE name = $1
             AND ((state = 'settled' AND settled_at < $2) OR (state = 'overdue' AND until < $2))
           LIMIT $3)
           AND ((state = 'settled' AND settled_at < $2) OR (state = 'overdue' AND until < $2))`,
        [state.name, before, PURGE_BATCH],
      ),
    );
    const deleted = result.rowCount ?? 0;
    purged += deleted;
    if (deleted < PURGE_BATCH) return purged;
  }
}
