import {
  Pool as PoolClass,
  type Pool,
  type PoolClient,
  type PoolConfig,
  type QueryResult,
  type QueryResultRow,
} from 'pg';
import { StoreError, StoreTimeoutError } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { SOURCE } from './sql';

/**
 * Ends a connection now: its socket is destroyed, so a statement in flight rejects at once and the
 * server, when it reads the closed socket, rolls the transaction back. Used past a deadline: a
 * connection whose server stopped answering (frozen, partitioned) is never returned to a pool,
 * where the next request would hang on it too.
 */
export function destroyConnection(client: PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection
    ?.stream;
  stream?.destroy();
}

/**
 * `client.query(text, values)` that must answer within `timeoutMs`. Past it, `onTimeout` runs
 * (it must give the client back as broken: `client.release(error)`), the socket is destroyed and
 * the promise rejects with a StoreTimeoutError (ERR_STORE_TIMEOUT). PostgreSQL's own
 * statement_timeout cannot do this: a server that is frozen or unreachable enforces nothing.
 */
export function queryWithin<R extends QueryResultRow = QueryResultRow>(
  client: PoolClient,
  timeoutMs: number,
  onTimeout: (error: StoreTimeoutError) => void,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  return answerWithin(client, client.query<R>(text, values), { timeoutMs, onTimeout }, text);
}

/** A statement's deadline and what to do with its client past it. */
export interface StatementDeadline {
  timeoutMs: number;
  onTimeout(error: StoreTimeoutError): void;
}

/** `pending` (a statement sent on `client`), or a StoreTimeoutError past the deadline. */
export function answerWithin<T>(
  client: PoolClient,
  pending: Promise<T>,
  deadline: StatementDeadline,
  text: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      const error = new StoreTimeoutError(deadline.timeoutMs, `"${firstWords(text)}"`, SOURCE);
      deadline.onTimeout(error);
      destroyConnection(client);
      reject(error);
    }, deadline.timeoutMs);
    const settle = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/** The statement's first words, for an error message: never its values. */
function firstWords(text: string): string {
  const words = text.trim().split(/\s+/, 4).join(' ');
  return words.length > 60 ? `${words.slice(0, 60)}…` : words;
}

/**
 * A pooled client, or a StoreError (ERR_STORE_UNAVAILABLE) at once when the pool has none free
 * and none left to open (unless `waitWhenFull`), or after `timeoutMs`: a caller never hangs on an exhausted pool or on a server that accepts the
 * TCP connection but never answers the startup (frozen).
 */
export async function connectWithin(
  pool: Pool,
  timeoutMs: number,
  operation = 'claim',
  waitWhenFull = false,
): Promise<PoolClient> {
  const max = (pool as Pool & { options?: { max?: number } }).options?.max ?? 10;
  // A request answers at once (the gateway retries); a worker loop may wait out the deadline.
  if (!waitWhenFull && pool.idleCount === 0 && pool.totalCount >= max)
    throw new StoreError(
      operation,
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
    throw new StoreError(operation, cause, SOURCE);
  } finally {
    clearTimeout(timer);
  }
}

/** The two deadlines of one statement on a pool: getting a connection, then its answer. */
export interface Deadlines {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/**
 * `pool.query` with deadlines: a connection within `connectTimeoutMs`, the answer within
 * `statementTimeoutMs`; past the second the connection is destroyed, not returned to the pool.
 */
export async function poolQueryWithin<R extends QueryResultRow = QueryResultRow>(
  pool: Pool,
  deadlines: Deadlines,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  const client = await connectWithin(pool, deadlines.connectTimeoutMs, 'query');
  let broken: Error | undefined;
  try {
    return await queryWithin<R>(
      client,
      deadlines.statementTimeoutMs,
      (e) => (broken = e),
      text,
      values,
    );
  } catch (error) {
    broken ??= error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Ends the backends of connections given up on past a deadline, on a connection of its own. */
export interface Terminator {
  /** Asks PostgreSQL to end backend `pid` (never awaited by a request; failures reported). */
  terminate(pid: number | undefined): void;
  close(): Promise<void>;
}

/**
 * Destroying a socket does not stop a backend busy with a statement: PostgreSQL notices the
 * client left only when it next reads or writes, so a listener's long statement past its
 * deadline would keep running, holding the claim's advisory lock (redeliveries `busy`) and its
 * row locks. `pg_terminate_backend` ends it now, on a one-connection side pool (never the
 * merchant's pool: that may be exactly what ran dry).
 */
export function createTerminator(
  pool: Pool,
  deadlines: Deadlines,
  onError: (error: Error) => void,
): Terminator {
  const own = createSidePool(pool, 1, deadlines.connectTimeoutMs, onError);
  return {
    terminate(pid) {
      if (pid === undefined) return;
      poolQueryWithin(own.get(), deadlines, 'SELECT pg_terminate_backend($1)', [pid]).catch(
        (error: unknown) => onError(error as Error),
      );
    },
    close: own.close,
  };
}

/** A small pool of payhook's own, made on first use, closed with `close()`. */
export interface SidePool {
  get(): Pool;
  close(): Promise<void>;
}

/**
 * Connections for housekeeping (terminating a backend, recording a failure) that never wait on
 * the merchant's pool, the one that may have run dry: built from its options (same server, role,
 * TLS), at most `max`, idle ones closed after 10 s and never keeping the process alive.
 */
export function createSidePool(
  pool: Pool,
  max: number,
  connectTimeoutMs: number,
  onError: (error: Error) => void,
): SidePool {
  let own: Pool | undefined;
  return {
    get() {
      if (own) return own;
      const base = (pool as Pool & { options?: PoolConfig }).options ?? {};
      const made = new PoolClass({
        ...base,
        max,
        min: 0,
        connectionTimeoutMillis: connectTimeoutMs,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      });
      // An idle connection of ours lost (a database restart) is reported, never a crash.
      made.on('error', onError);
      own = made;
      return made;
    },
    async close() {
      const closing = own;
      own = undefined;
      await closing?.end();
    },
  };
}

/** The two deadlines every PostgreSQL piece of payhook takes, checked (ConfigError), with their defaults. */
export function checkDeadlines(options: {
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}): { connectTimeoutMs: number; statementTimeoutMs: number } {
  const rule = { source: SOURCE };
  return {
    connectTimeoutMs: checkWholeNumber(options.connectTimeoutMs, 1_000, 'connectTimeoutMs', rule),
    statementTimeoutMs: checkWholeNumber(
      options.statementTimeoutMs,
      2_000,
      'statementTimeoutMs',
      rule,
    ),
  };
}
