import { createSidePool } from '../deadline';
import { connectWithin, type Lease } from './lease';
import { notify } from './notify';
import type { QueueState } from './types';

/**
 * The worker's own connections for housekeeping: terminating a timed-out attempt's backend and
 * recording a failure whose job connection was thrown away.
 *
 * Why a connection of its own rather than refusing `concurrency ≥ max`: the merchant's pool is
 * shared (the web process's claims, pg-boss, other workers), so a dry pool happens at any
 * concurrency, and a terminate queued behind the very jobs it must end is a deadlock. A tiny pool
 * built from the merchant pool's own connection options (same server, role and TLS) never holds a
 * job, so it is free whenever a job must be ended. Every concurrency stays allowed.
 */
export interface Housekeeping {
  /** Ends the backend `pid` (its transaction rolls back); false when it could not be asked. */
  terminate(pid: number): Promise<boolean>;
  /** A housekeeping connection (connect and statement deadlines apply); release it after use. */
  connect(): Promise<Lease>;
  /** Closes the housekeeping connections (at the worker's stop). */
  close(): Promise<void>;
}

/** Two connections: a terminate and a failure record can run side by side. */
const HOUSEKEEPING_MAX = 2;

export function createHousekeeping(state: QueueState): Housekeeping {
  const { connectTimeoutMs, statementTimeoutMs } = state.settings;
  const own = createSidePool(state.pool, HOUSEKEEPING_MAX, connectTimeoutMs, (error) =>
    notify(state, 'error', error),
  );
  const connect = (): Promise<Lease> =>
    connectWithin(own.get(), connectTimeoutMs, statementTimeoutMs);
  return {
    connect,
    async terminate(pid) {
      let lease: Lease | undefined;
      try {
        lease = await connect();
        await lease.query('SELECT pg_terminate_backend($1)', [pid]);
        return true;
      } catch (error) {
        notify(state, 'error', error as Error);
        return false;
      } finally {
        lease?.release();
      }
    },
    close: own.close,
  };
}
