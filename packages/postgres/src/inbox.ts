import type { Pool, QueryResult } from 'pg';
import {
  ConfigError,
  inboxRecordSize,
  isVerifiedRecord,
  resolveInboxBudget,
  type Inbox,
  type InboxBudget,
  type InboxBudgetOptions,
  type InboxEntry,
  type InboxFilter,
  type InboxList,
  type InboxPage,
  type InboxRecord,
  type InboxRecordOptions,
  type InboxUpdate,
} from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { checkSchemaName, qualified, SOURCE } from './sql';
import { checkDeadlines, poolQueryWithin, type Deadlines } from './deadline';
import type { PostgresClaimContext } from './store';
import { STORE_QUERY } from './transaction';

export interface PostgresInboxOptions extends InboxBudgetOptions {
  /** The pool the entries are written with (outside an event's transaction) and read from. */
  pool: Pool;
  /** The schema holding payhook's tables (default `payhook`): the store's. */
  schema?: string;
  /**
   * Most unverified entries kept (core's `isVerifiedRecord`: no verified event, or a duplicate):
   * beyond it the oldest of them are deleted after each write, so a flood of junk can neither fill
   * the disk nor push out a verified entry. Default 1,000. `maxRefused` is its deprecated alias.
   */
  maxUnverified?: number;
  /**
   * Most bytes of unverified entries kept (the `size` column: body, header names and values,
   * message, URL). Default 64 MiB.
   */
  maxUnverifiedBytes?: number;
  /** How long an entry is kept: `prune()` deletes older ones. Default 30 days. */
  retentionMs?: number;
  /**
   * The deadlines of the hub's writes outside an event's transaction (the hub awaits them before
   * it answers): a connection within `connectTimeoutMs` (default 1,000), each statement within
   * `statementTimeoutMs` (default 2,000), else the write is given up (logged; the answer stands)
   * and its connection destroyed.
   */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

export interface PostgresInbox extends Inbox {
  readonly schema: string;
}

type Query = (text: string, values?: unknown[]) => Promise<QueryResult>;

/** One inbox's table and limits. */
interface InboxState {
  pool: Pool;
  deadlines: Deadlines;
  table: string;
  budget: InboxBudget;
  retentionMs: number;
}

/**
 * The inbox as a table beside the processed records. A delivery whose event is processed is
 * written inside the event's transaction (the hub hands the claim's `{ tx }` as the record's
 * context), so the entry and the processed record commit together; the hub's final record then
 * completes it. Unverified entries are capped by `maxUnverified` and `maxUnverifiedBytes`.
 */
export function createPostgresInbox(options: PostgresInboxOptions): PostgresInbox {
  const { pool } = options ?? ({} as PostgresInboxOptions);
  if (!pool || typeof pool.query !== 'function')
    throw new ConfigError('pool', 'must be a pg Pool', { source: SOURCE });
  const schema = checkSchemaName(options.schema, 'payhook');
  const state: InboxState = {
    pool,
    deadlines: checkDeadlines(options),
    table: qualified(schema, 'inbox'),
    budget: resolveInboxBudget(
      options,
      { maxUnverified: 1_000, maxUnverifiedBytes: 64 * 1024 * 1024 },
      SOURCE,
    ),
    retentionMs: checkWholeNumber(options.retentionMs, 30 * 86_400_000, 'retentionMs', {
      source: SOURCE,
    }),
  };
  const { table } = state;
  return {
    schema,
    record: (entry, opts) => record(state, entry, opts),
    update: (id, patch) => update(state, id, patch),
    async get(id: string) {
      const { rows } = await poolQueryWithin(
        pool,
        state.deadlines,
        `SELECT * FROM ${table} WHERE id = $1`,
        [id],
      );
      return rows[0] ? toEntry(rows[0]) : undefined;
    },
    list: (filter = {}, page = {}) => list(state, filter, page),
    async prune(now = new Date()) {
      const result = await poolQueryWithin(
        pool,
        state.deadlines,
        `DELETE FROM ${table} WHERE received_at < $1`,
        [new Date(now.getTime() - state.retentionMs)],
      );
      return result.rowCount ?? 0;
    },
  };
}

async function record(
  state: InboxState,
  entry: InboxRecord,
  opts?: InboxRecordOptions,
): Promise<InboxEntry | undefined> {
  const context = opts?.context as Partial<PostgresClaimContext> | undefined;
  const inTransaction = context?.[STORE_QUERY];
  // The entry this final record repeats was written in the event's committed transaction.
  if (opts?.committed && !context) return undefined;
  if (!inTransaction)
    return write(
      state,
      (text, values) => poolQueryWithin(state.pool, state.deadlines, text, values),
      entry,
      opts?.noAnswer !== true,
    );
  const query: Query = (text, values) => inTransaction(text, values);
  // A savepoint: an inbox failure must not abort the event's transaction. It is never released:
  // the COMMIT that follows commits it with the rest, and a RELEASE would be one more round trip.
  await query('SAVEPOINT payhook_inbox');
  try {
    return await write(state, query, entry, opts?.noAnswer !== true);
  } catch (error) {
    await query('ROLLBACK TO SAVEPOINT payhook_inbox');
    throw error;
  }
}

async function write(
  { table, budget }: InboxState,
  query: Query,
  entry: InboxRecord,
  answer: boolean,
): Promise<InboxEntry | undefined> {
  const unverified = !isVerifiedRecord(entry);
  const size = inboxRecordSize(entry);
  if (unverified && (budget.maxUnverified === 0 || size > budget.maxUnverifiedBytes)) {
    // Never kept, not even for a moment: and no earlier version of it either.
    await query(`DELETE FROM ${table} WHERE id = $1`, [entry.id]);
    return undefined;
  }
  // One statement, one round trip: the events' attempt numbers are counted in SQL (ATTEMPTS)
  // instead of a read of the stored entry and a count per event before the INSERT (3 round trips
  // for a one-event delivery).
  const { rows } = await query(
    `WITH ${ATTEMPTS(table)}
     INSERT INTO ${table} (id, received_at, provider, transport, method, url, headers, body, message,
       outcome, refused, reply, events, error, replay_of, duration_ms, unverified, size)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
       (SELECT COALESCE(jsonb_agg(event ORDER BY n), '[]'::jsonb) FROM counted),
       $14, $15, $16, $17, $18)
     ON CONFLICT (id) DO UPDATE SET outcome = EXCLUDED.outcome, refused = EXCLUDED.refused,
       reply = EXCLUDED.reply, events = EXCLUDED.events, error = EXCLUDED.error,
       duration_ms = EXCLUDED.duration_ms, unverified = EXCLUDED.unverified, size = EXCLUDED.size
     RETURNING ${answer ? '*' : 'id'}`,
    [
      entry.id,
      entry.receivedAt,
      entry.provider,
      entry.transport,
      entry.method ?? null,
      entry.url ?? null,
      JSON.stringify(entry.headers),
      entry.body,
      entry.message === undefined ? null : JSON.stringify(entry.message),
      entry.outcome,
      entry.outcome === 'rejected',
      JSON.stringify(entry.reply),
      JSON.stringify(entry.events),
      entry.error ? JSON.stringify(entry.error) : null,
      entry.replayOf ?? null,
      Math.max(0, Math.round(entry.durationMs)),
      unverified,
      size,
      entry.events.map((event) => event.id),
    ],
  );
  if (unverified && (await trimUnverified(query, table, budget)).has(entry.id)) return undefined;
  return answer && rows[0] ? toEntry(rows[0]) : undefined;
}

/**
 * The budget, enforced after each unverified write by one statement: the newest unverified rows
 * that fit both bounds stay, every older one is deleted. No lock is taken: each writer's trim
 * starts after its own insert committed, so once writers pause the last trim saw every row and the
 * table is within the budget; while N writers run at once it is over by at most N rows (each
 * one's own, not trimmed yet). SKIP LOCKED: rows another trim is deleting are its to delete, so
 * concurrent trims never wait on each other (nor deadlock). Returns the ids deleted.
 */
async function trimUnverified(
  query: Query,
  table: string,
  budget: InboxBudget,
): Promise<Set<string>> {
  const { rows } = await query(
    `WITH ranked AS (
       SELECT seq, count(*) OVER w AS n, sum(size) OVER w AS bytes
       FROM ${table} WHERE unverified
       WINDOW w AS (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING)),
     doomed AS (
       SELECT t.seq FROM ${table} t JOIN ranked r ON r.seq = t.seq
       WHERE t.unverified AND (r.n > $1 OR r.bytes > $2)
       FOR UPDATE OF t SKIP LOCKED)
     DELETE FROM ${table} WHERE seq IN (SELECT seq FROM doomed) RETURNING id`,
    [budget.maxUnverified, budget.maxUnverifiedBytes],
  );
  return new Set(rows.map((row: { id: string }) => row.id));
}

async function update(
  { pool, table, deadlines, budget }: InboxState,
  id: string,
  patch: InboxUpdate,
): Promise<InboxEntry | undefined> {
  const query: Query = (text, values) => poolQueryWithin(pool, deadlines, text, values);
  // A new outcome may change the entry's kind: `unverified` is core's isVerifiedRecord in SQL.
  const { rows } = await query(
    `UPDATE ${table} SET outcome = COALESCE($2, outcome), reply = COALESCE($3, reply),
       error = COALESCE($4, error), refused = COALESCE($2, outcome) = 'rejected',
       unverified = jsonb_array_length(events) = 0 OR COALESCE($2, outcome) IN ('duplicate', 'rejected')
     WHERE id = $1 RETURNING *`,
    [
      id,
      patch.outcome ?? null,
      patch.reply ? JSON.stringify(patch.reply) : null,
      patch.error ? JSON.stringify(patch.error) : null,
    ],
  );
  if (rows[0]?.unverified && (await trimUnverified(query, table, budget)).has(id)) return undefined;
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/**
 * The record's events ($13, a JSON array; $19 their ids) with their attempt numbers, as the CTE
 * `counted`: an event already in the stored entry of the same id ($1) keeps its number (a replaced
 * entry is the same delivery); any other is one more than the other entries that carry its id (the
 * GIN index on events answers the containment). The events are listed by `unnest` of their ids,
 * whose row count the planner knows: over jsonb_array_elements it assumed 100 rows, priced the
 * statement above jit_above_cost and JIT-compiled every inbox write (11 to 40 ms each).
 */
const ATTEMPTS = (table: string): string => `
  given AS (
    SELECT ($13::jsonb)->(g.n::int - 1) AS event, g.n
    FROM unnest($19::text[]) WITH ORDINALITY AS g(id, n)),
  stored AS (
    SELECT s.value->>'id' AS id, (s.value->>'attempt')::int AS attempt
    FROM ${table} t, jsonb_array_elements(t.events) AS s(value) WHERE t.id = $1),
  counted AS (
    SELECT given.n, given.event || jsonb_build_object('attempt', COALESCE(
      (SELECT stored.attempt FROM stored WHERE stored.id = given.event->>'id' LIMIT 1),
      (SELECT count(*) FROM ${table} o WHERE o.id <> $1
         AND o.events @> jsonb_build_array(jsonb_build_object('id', given.event->>'id'))) + 1
    )) AS event
    FROM given)`;

const PAGE_MAX = 500;

async function list(
  { pool, table, deadlines }: InboxState,
  filter: InboxFilter,
  page: InboxPage,
): Promise<InboxList> {
  const limit = page.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_MAX)
    throw new ConfigError('limit', `must be a whole number from 1 to ${PAGE_MAX}`, {
      source: SOURCE,
    });
  if (page.cursor !== undefined && !/^[1-9][0-9]{0,17}$/.test(page.cursor))
    throw new ConfigError('cursor', 'is not a cursor this inbox returned', { source: SOURCE });
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.provider !== undefined) add('provider = ?', filter.provider);
  if (filter.transport !== undefined) add('transport = ?', filter.transport);
  if (filter.outcome !== undefined)
    add(
      'outcome = ANY(?)',
      typeof filter.outcome === 'string' ? [filter.outcome] : [...filter.outcome],
    );
  if (filter.from !== undefined) add('received_at >= ?', filter.from);
  if (filter.to !== undefined) add('received_at < ?', filter.to);
  if (filter.replayOf !== undefined) add('replay_of = ?', filter.replayOf);
  if (filter.orderId !== undefined)
    add('events @> ?::jsonb', JSON.stringify([{ orderId: filter.orderId }]));
  if (filter.transactionId !== undefined)
    add('events @> ?::jsonb', JSON.stringify([{ transactionId: filter.transactionId }]));
  if (filter.eventId !== undefined)
    add('events @> ?::jsonb', JSON.stringify([{ id: filter.eventId }]));
  if (page.cursor !== undefined) add('seq < ?', page.cursor);
  values.push(limit + 1);
  const { rows } = await poolQueryWithin(
    pool,
    deadlines,
    `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY seq DESC LIMIT $${values.length}`,
    values,
  );
  const entries = rows.slice(0, limit).map(toEntry);
  const more = rows.length > limit;
  return more ? { entries, nextCursor: String(rows[limit - 1]!.seq) } : { entries };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toEntry(row: any): InboxEntry {
  const entry: InboxEntry = {
    id: row.id,
    receivedAt: row.received_at,
    provider: row.provider,
    transport: row.transport,
    headers: row.headers,
    body: row.body,
    outcome: row.outcome,
    reply: row.reply,
    events: row.events,
    durationMs: row.duration_ms,
  };
  if (row.method !== null) entry.method = row.method;
  if (row.url !== null) entry.url = row.url;
  if (row.message !== null) entry.message = row.message;
  if (row.error !== null) entry.error = row.error;
  if (row.replay_of !== null) entry.replayOf = row.replay_of;
  return entry;
}
