import { randomUUID } from 'node:crypto';
import type { Pool, QueryResult } from 'pg';
import {
  checkDeadlines,
  connectWithin,
  createTerminator,
  poolQueryWithin,
  type Terminator,
} from './deadline';
import {
  ConfigError,
  StoreError,
  type Claim,
  type ClaimOptions,
  type IdempotencyStore,
} from '@payhook/core';
import { checkSchema } from './migrations';
import { checkSchemaName, lockId, qualified, SOURCE } from './sql';
import {
  openTransaction,
  STORE_QUERY,
  type OpenTransaction,
  type PostgresTransaction,
} from './transaction';

export interface PostgresStoreOptions {
  /** The merchant's own pg Pool: listeners' writes and the processed record share its transactions. */
  pool: Pool;
  /** The schema holding payhook's tables (default `payhook`): one per shop in a shared database. */
  schema?: string;
  /**
   * Longest a claim waits for a pooled connection (default 1,000 ms). A pool with no free
   * connection and none left to open answers at once: the gateway gets its retry body.
   */
  connectTimeoutMs?: number;
  /**
   * Longest one statement on a claim's connection may take: the store's own (BEGIN, the lock, the
   * processed record, COMMIT, ROLLBACK) and the listeners' `tx.query` (default 2,000 ms). Past it
   * the connection is destroyed, never returned to the pool, and the gateway gets its retry body:
   * a frozen or unreachable PostgreSQL cannot hold a request. The hub refuses a handlerTimeoutMs
   * that is not longer than this and connectTimeoutMs.
   */
  statementTimeoutMs?: number;
}

/** What the store hands each listener beside the hub's context. */
export interface PostgresClaimContext {
  tx: PostgresTransaction;
  /** The store's own runner, for the inbox (see STORE_QUERY). */
  readonly [STORE_QUERY]?: OpenTransaction['run'];
}

export interface PostgresStore extends IdempotencyStore<PostgresClaimContext> {
  readonly transactional: true;
  readonly pool: Pool;
  readonly schema: string;
  /** The longest one store call waits on PostgreSQL (connect or statement deadline): the hub checks it. */
  readonly deadlineMs: number;
  /** The boot check: rejects with a ConfigError naming each migration not applied yet. */
  ready(): Promise<void>;
  /** Deletes the processed records past their retention; resolves with how many. */
  purgeExpired(): Promise<number>;
  /** Claims still open (transactions in progress) in this process. */
  readonly openClaims: number;
  /** Rolls back the open claims and closes the store's own terminate connection; the pool stays the merchant's to end. */
  close(): Promise<void>;
}

/** One store's settings and the transactions it holds open in this process. */
interface StoreState {
  pool: Pool;
  schema: string;
  table: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  terminator: Terminator;
  open: Map<string, OpenTransaction>;
  /** Join token → the open transaction it joined. */
  joins: Map<string, { primary: string; key: string; finished: Promise<boolean> }>;
  checked?: Promise<void>;
}

/**
 * The idempotency store inside the merchant's PostgreSQL: a claim opens a transaction on a pooled
 * client and takes the event's advisory lock (never waiting: held elsewhere is `busy`); listeners
 * write through `tx`; commit records the event processed and COMMITs it all at once.
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const state = resolveStoreState(options);
  const { pool, schema, table, open } = state;
  const release = (key: string, token: string, opts?: { abandoned?: boolean }) =>
    releaseClaim(state, key, token, opts?.abandoned === true);
  return {
    transactional: true,
    pool,
    schema,
    deadlineMs: Math.max(state.connectTimeoutMs, state.statementTimeoutMs),
    claim: (key, _leaseMs, opts) => claimKey(state, key, opts),
    commit: (key, token, ttlMs) => commitClaim(state, key, token, ttlMs),
    release,
    // The lease is the transaction itself: held while its connection lives, ended by PostgreSQL
    // when the process (and so its connection) dies.
    // A connection that broke (server restart, a killed session) holds nothing any more.
    renew: async (key, token) => {
      const held = holding(state, key, token);
      return held !== undefined && held.broken === undefined;
    },
    ready: () => ready(state),
    async purgeExpired() {
      const result = await poolQueryWithin(
        pool,
        state,
        `DELETE FROM ${table} WHERE expires_at <= now()`,
      );
      return result.rowCount ?? 0;
    },
    get openClaims() {
      return open.size;
    },
    async close() {
      await Promise.all(
        [...open].map(([token, transaction]) => releaseClaim(state, transaction.key, token, false)),
      );
      await state.terminator.close();
    },
  };
}

function resolveStoreState(options: PostgresStoreOptions): StoreState {
  const { pool } = options ?? ({} as PostgresStoreOptions);
  if (!pool || typeof pool.connect !== 'function' || typeof pool.query !== 'function')
    throw new ConfigError('pool', 'must be a pg Pool (new Pool({ connectionString }))', {
      source: SOURCE,
    });
  const schema = checkSchemaName(options.schema, 'payhook');
  const { connectTimeoutMs, statementTimeoutMs } = checkDeadlines(options);
  const table = qualified(schema, 'processed');
  return {
    pool,
    schema,
    table,
    connectTimeoutMs,
    statementTimeoutMs,
    // A failed terminate (the server is frozen too) changes nothing: the socket is already gone.
    terminator: createTerminator(pool, { connectTimeoutMs, statementTimeoutMs }, () => undefined),
    open: new Map(),
    joins: new Map(),
  };
}

/** The boot check, once: a failed check is asked again next time (the migration may have run). */
function ready(state: StoreState): Promise<void> {
  // Its statements have the store's deadlines too: the first claim after boot runs this check,
  // and a frozen database must not hold that request (or every claim waiting on the same check).
  const timed = {
    query: (text: string, values?: unknown[]) => poolQueryWithin(state.pool, state, text, values),
  } as unknown as Pool;
  state.checked ??= checkSchema(timed, { schema: state.schema }).catch((error: unknown) => {
    state.checked = undefined;
    throw error;
  });
  return state.checked;
}

async function claimKey(
  state: StoreState,
  key: string,
  opts?: ClaimOptions,
): Promise<Claim<PostgresClaimContext>> {
  const into = opts?.join ? state.open.get(opts.join) : undefined;
  if (into && opts?.join) return joinClaim(state, into, opts.join, key);
  await ready(state);
  const client = await connectWithin(state.pool, state.connectTimeoutMs);
  const transaction = openTransaction(client, key, state.statementTimeoutMs, state.terminator);
  let taken: 'claimed' | 'done' | 'busy';
  try {
    taken = await takeKey(transaction, state, key);
  } catch (cause) {
    transaction.end(false, cause as Error);
    throw new StoreError('claim', cause, SOURCE);
  }
  if (taken !== 'claimed') {
    await transaction.rollback();
    return { state: taken };
  }
  const token = randomUUID();
  state.open.set(token, transaction);
  return {
    state: taken,
    token,
    context: { tx: transaction.tx, [STORE_QUERY]: transaction.run } as PostgresClaimContext,
  };
}

/** A key taken inside another claim's open transaction (the completion marker): one COMMIT. */
async function joinClaim(
  state: StoreState,
  into: OpenTransaction,
  primary: string,
  key: string,
): Promise<Claim<PostgresClaimContext>> {
  let taken: 'claimed' | 'done' | 'busy';
  try {
    taken = await takeJoinedKey(into, state, key);
  } catch (cause) {
    throw new StoreError('claim', cause, SOURCE);
  }
  if (taken !== 'claimed') return { state: taken };
  const token = randomUUID();
  into.joined.add(key);
  state.joins.set(token, { primary, key, finished: into.finished });
  return { state: taken, token };
}

async function commitClaim(
  state: StoreState,
  key: string,
  token: string,
  ttlMs: number,
): Promise<void> {
  const join = state.joins.get(token);
  if (join?.key === key) {
    // A joined key commits with the transaction it joined, or not at all.
    state.joins.delete(token);
    if (await join.finished) return;
    throw new StoreError(
      'commit',
      new Error(`the transaction ${key} joined was rolled back`),
      SOURCE,
    );
  }
  const transaction = state.open.get(token);
  // A token commits only the key it claimed: another claim's token must not commit that claim.
  if (transaction?.key !== key)
    throw new StoreError(
      'commit',
      new Error(`no open transaction holds ${key} for this token`),
      SOURCE,
    );
  state.open.delete(token);
  transaction.close();
  const keys = [key, ...transaction.joined];
  try {
    // Written only if this is still the transaction the claim opened (its start time, to the
    // microsecond): a listener's escaped COMMIT would otherwise let this record commit alone.
    const recorded = await transaction.run(
      `INSERT INTO ${state.table} (key, expires_at)
       SELECT k, now() + $2::bigint * interval '1 millisecond' FROM unnest($1::text[]) AS k
       WHERE now()::text = $3
       ON CONFLICT (key) DO UPDATE SET processed_at = now(), expires_at = EXCLUDED.expires_at`,
      [keys, ttlMs, transaction.started],
    );
    if (recorded.rowCount !== keys.length)
      throw new Error(`the transaction of ${key} is no longer the one its claim opened`);
    const result = await transaction.run('COMMIT');
    // COMMIT of a transaction a failed query aborted answers ROLLBACK, not an error.
    if (result.command !== 'COMMIT')
      throw new Error('a query of the transaction failed, so PostgreSQL rolled it back');
  } catch (cause) {
    transaction.end(false, cause as Error);
    throw new StoreError('commit', cause, SOURCE);
  }
  transaction.end(true);
}

async function releaseClaim(
  state: StoreState,
  key: string,
  token: string,
  abandoned: boolean,
): Promise<void> {
  const join = state.joins.get(token);
  if (join) {
    if (join.key !== key) return;
    state.joins.delete(token);
    state.open.get(join.primary)?.joined.delete(join.key);
    return;
  }
  const transaction = state.open.get(token);
  if (transaction?.key !== key) return;
  state.open.delete(token);
  // Listeners the hub gave up on may still hold `tx`: their connection is destroyed, never reused.
  if (abandoned) return transaction.end(false, new Error('the hub abandoned its listeners'));
  await transaction.rollback();
}

/** The open transaction in which `token` holds `key` (its own claim or a joined one), if any. */
function holding(state: StoreState, key: string, token: string): OpenTransaction | undefined {
  const join = state.joins.get(token);
  if (join) return join.key === key ? state.open.get(join.primary) : undefined;
  const own = state.open.get(token);
  return own?.key === key ? own : undefined;
}

/**
 * Takes the claim's own key in its new transaction: BEGIN and the key's advisory lock without
 * waiting (`busy` when another transaction holds it) as one simple query (the lock id is a
 * number, nothing to quote: one round trip, not two), which also reads the transaction's start
 * time, the identity its commit checks; then, in a statement of its own so that it reads what the
 * last holder committed, whether the key is recorded done and still retained.
 */
async function takeKey(
  transaction: OpenTransaction,
  state: StoreState,
  key: string,
): Promise<'claimed' | 'done' | 'busy'> {
  const [, lock] = (await transaction.run(
    `BEGIN; SELECT pg_try_advisory_xact_lock(${lockId(state.schema, key)}) AS locked, now()::text AS started`,
  )) as unknown as [QueryResult, QueryResult<{ locked: boolean; started: string }>];
  if (!lock.rows[0]?.locked) return 'busy';
  transaction.started = lock.rows[0].started;
  const done = await transaction.run(
    `SELECT 1 FROM ${state.table} WHERE key = $1 AND expires_at > now()`,
    [key],
  );
  return done.rowCount ? 'done' : 'claimed';
}

/**
 * Takes a key joined to an open transaction (the completion marker) with its lock and its done
 * record read in one statement. The read's snapshot may predate the lock, so a holder that
 * committed the key in between is missed and the key answers `claimed` instead of `done`: for a
 * joined key that only records it done once more with the transaction it joined (the hub holds a
 * completion's marker only to make a concurrent failure notice wait). One round trip, not two.
 */
async function takeJoinedKey(
  transaction: OpenTransaction,
  state: StoreState,
  key: string,
): Promise<'claimed' | 'done' | 'busy'> {
  const { rows } = await transaction.run<{ locked: boolean; done: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${lockId(state.schema, key)}) AS locked,
       EXISTS (SELECT 1 FROM ${state.table} WHERE key = $1 AND expires_at > now()) AS done`,
    [key],
  );
  if (!rows[0]?.locked) return 'busy';
  return rows[0].done ? 'done' : 'claimed';
}
