import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import {
  ConfigError,
  StoreError,
  type Claim,
  type ClaimOptions,
  type IdempotencyStore,
} from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { checkSchema } from './migrations';
import { checkSchemaName, lockId, qualified, SOURCE } from './sql';
import { openTransaction, type OpenTransaction, type PostgresTransaction } from './transaction';

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
}

/** What the store hands each listener beside the hub's context. */
export interface PostgresClaimContext {
  tx: PostgresTransaction;
}

export interface PostgresStore extends IdempotencyStore<PostgresClaimContext> {
  readonly transactional: true;
  readonly pool: Pool;
  readonly schema: string;
  /** The boot check: rejects with a ConfigError naming each migration not applied yet. */
  ready(): Promise<void>;
  /** Deletes the processed records past their retention; resolves with how many. */
  purgeExpired(): Promise<number>;
  /** Claims still open (transactions in progress) in this process. */
  readonly openClaims: number;
  /** Rolls back the open claims; the pool stays the merchant's to end. */
  close(): Promise<void>;
}

/** One store's settings and the transactions it holds open in this process. */
interface StoreState {
  pool: Pool;
  schema: string;
  table: string;
  connectTimeoutMs: number;
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
  const { pool, schema, table, open, joins } = state;
  const release = (_key: string, token: string) => releaseClaim(state, token);
  return {
    transactional: true,
    pool,
    schema,
    claim: (key, _leaseMs, opts) => claimKey(state, key, opts),
    commit: (key, token, ttlMs) => commitClaim(state, key, token, ttlMs),
    release,
    // The lease is the transaction itself: held while its connection lives, ended by PostgreSQL
    // when the process (and so its connection) dies.
    // A connection that broke (server restart, a killed session) holds nothing any more.
    renew: async (_key, token) => {
      const held = open.get(token) ?? open.get(joins.get(token)?.primary ?? '');
      return held !== undefined && held.broken === undefined;
    },
    ready: () => ready(state),
    async purgeExpired() {
      const result = await pool.query(`DELETE FROM ${table} WHERE expires_at <= now()`);
      return result.rowCount ?? 0;
    },
    get openClaims() {
      return open.size;
    },
    async close() {
      await Promise.all([...open.keys()].map((token) => release('', token)));
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
  const connectTimeoutMs = checkWholeNumber(options.connectTimeoutMs, 1_000, 'connectTimeoutMs', {
    source: SOURCE,
  });
  const table = qualified(schema, 'processed');
  return { pool, schema, table, connectTimeoutMs, open: new Map(), joins: new Map() };
}

/** The boot check, once: a failed check is asked again next time (the migration may have run). */
function ready(state: StoreState): Promise<void> {
  state.checked ??= checkSchema(state.pool, { schema: state.schema }).catch((error: unknown) => {
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
  const client = await connect(state.pool, state.connectTimeoutMs);
  const transaction = openTransaction(client, key);
  let taken: 'claimed' | 'done' | 'busy';
  try {
    await client.query('BEGIN');
    taken = await takeKey(client, state.table, state.schema, key);
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
  return { state: taken, token, context: { tx: transaction.tx } };
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
    taken = await takeKey(into.client, state.table, state.schema, key);
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
  if (join) {
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
  if (!transaction)
    throw new StoreError(
      'commit',
      new Error(`no open transaction holds ${key} for this token`),
      SOURCE,
    );
  state.open.delete(token);
  const { client } = transaction;
  transaction.close();
  try {
    await client.query(
      `INSERT INTO ${state.table} (key, expires_at)
       SELECT k, now() + $2::bigint * interval '1 millisecond' FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO UPDATE SET processed_at = now(), expires_at = EXCLUDED.expires_at`,
      [[key, ...transaction.joined], ttlMs],
    );
    const result = await client.query('COMMIT');
    // COMMIT of a transaction a failed query aborted answers ROLLBACK, not an error.
    if (result.command !== 'COMMIT')
      throw new Error('a query of the transaction failed, so PostgreSQL rolled it back');
  } catch (cause) {
    transaction.end(false, cause as Error);
    throw new StoreError('commit', cause, SOURCE);
  }
  transaction.end(true);
}

async function releaseClaim(state: StoreState, token: string): Promise<void> {
  const join = state.joins.get(token);
  if (join) {
    state.joins.delete(token);
    state.open.get(join.primary)?.joined.delete(join.key);
    return;
  }
  const transaction = state.open.get(token);
  if (!transaction) return;
  state.open.delete(token);
  await transaction.rollback();
}

/**
 * Takes `key` inside the client's open transaction: its advisory lock without waiting (`busy` when
 * another transaction holds it), then, in a statement of its own so that it reads what the last
 * holder committed, whether it is recorded done and still retained.
 */
async function takeKey(
  client: PoolClient,
  table: string,
  schema: string,
  key: string,
): Promise<'claimed' | 'done' | 'busy'> {
  const lock = await client.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${lockId(schema, key)}) AS locked`,
  );
  if (!lock.rows[0]?.locked) return 'busy';
  const done = await client.query(`SELECT 1 FROM ${table} WHERE key = $1 AND expires_at > now()`, [
    key,
  ]);
  return done.rowCount ? 'done' : 'claimed';
}

/**
 * A pooled client, or a StoreError at once when the pool has none free and none left to open, or
 * after `timeoutMs`: a claim never hangs on an exhausted pool.
 */
async function connect(pool: Pool, timeoutMs: number): Promise<PoolClient> {
  const max = (pool as Pool & { options?: { max?: number } }).options?.max ?? 10;
  if (pool.idleCount === 0 && pool.totalCount >= max)
    throw new StoreError(
      'claim',
      new Error(`the pool's ${max} connections are all in use`),
      SOURCE,
    );
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no pooled connection within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (cause) {
    // A connection that arrives after we gave up goes straight back to the pool.
    pending.then(
      (client) => client.release(),
      () => undefined,
    );
    throw new StoreError('claim', cause, SOURCE);
  } finally {
    clearTimeout(timer);
  }
}
