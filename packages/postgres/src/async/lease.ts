import type { Pool, PoolClient, QueryResult } from 'pg';
import type PgBoss from 'pg-boss';
import { PaymentError } from '@payhook/core';
import { connectWithin as connectClient, queryWithin } from '../deadline';
import { SOURCE } from './options';

/**
 * One pooled connection in a worker's hands. Every statement runs under the statement deadline
 * (`queryWithin`): past it the connection is given back as broken and its socket destroyed, so a
 * frozen server or a lock wait never holds a job past its expiry. Given back once, whoever is first.
 */
export interface Lease {
  readonly client: PoolClient;
  /** The backend's process id: the housekeeping connection terminates it when needed. */
  readonly pid: number | undefined;
  /** True once given back (a statement past its deadline gives it back at once, as broken). */
  readonly released: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(text: string, values?: unknown[]): Promise<QueryResult<any>>;
  /** pg-boss's executor on this connection, under the same deadline. */
  readonly db: PgBoss.Db;
  release(error?: Error | boolean): void;
}

export function leaseOf(client: PoolClient, statementTimeoutMs: number): Lease {
  let released = false;
  const lease: Lease = {
    client,
    pid: (client as PoolClient & { processID?: number }).processID,
    get released() {
      return released;
    },
    query: (text, values) =>
      queryWithin(client, statementTimeoutMs, (error) => lease.release(error), text, values),
    db: { executeSql: (text, values) => lease.query(text, values) },
    release(error) {
      if (released) return;
      released = true;
      client.release(error);
    },
  };
  return lease;
}

/**
 * A pooled connection within `timeoutMs`, or an ERR_STORE_UNAVAILABLE error: a worker never waits
 * forever on a pool whose connections are all held (by its own jobs, or by the web process).
 */
export async function connectWithin(
  pool: Pool,
  timeoutMs: number,
  statementTimeoutMs: number,
): Promise<Lease> {
  const client = await connectClient(pool, timeoutMs, 'worker connect', true);
  return leaseOf(client, statementTimeoutMs);
}

/**
 * `fn` inside BEGIN … COMMIT on the lease, every statement under its deadline: rolled back when it
 * throws (the error rethrown). The lease stays the caller's to release.
 */
export async function inLeaseTransaction<T>(
  lease: Lease,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  await lease.query('BEGIN');
  try {
    const value = await fn(lease);
    await commit(lease);
    return value;
  } catch (error) {
    if (!lease.released) await lease.query('ROLLBACK').catch(() => lease.release(true));
    throw error;
  }
}

/** COMMIT, and an error when PostgreSQL answered ROLLBACK (a statement of it had failed). */
export async function commit(lease: Lease): Promise<void> {
  const result = await lease.query('COMMIT');
  if (result.command !== 'COMMIT')
    throw new PaymentError('a statement of the transaction failed, so PostgreSQL rolled it back', {
      code: 'ERR_COMMIT_FAILED',
      source: SOURCE,
    });
}
