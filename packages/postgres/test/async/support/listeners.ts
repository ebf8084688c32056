/**
 * The merchant's worker listeners for the worker processes: each event writes one row to
 * `effects` in the attempt's transaction. LISTENER_SLEEP_MS holds the transaction open (so a
 * SIGKILL lands mid-job); ATTEMPT_TIMEOUT_MS sets the queue's attempt timeout.
 */
import type { PaymentQueue } from '../../../src/async';

const schema = process.env.SCHEMA!;
const worker = process.env.WORKER_NAME ?? 'worker';
const sleepMs = Number(process.env.LISTENER_SLEEP_MS ?? 0);

export const queueOptions = {
  attemptTimeoutMs: Number(process.env.ATTEMPT_TIMEOUT_MS ?? 2_000),
  // The test app's limits (support/app.ts fastQueueOptions): its jobs expire after 11 s.
  statementTimeoutMs: 500,
  connectTimeoutMs: 300,
  orderLockTimeoutMs: 300,
  boss: { maintenanceIntervalSeconds: 1 },
};

export function register(queue: PaymentQueue): void {
  queue.onAny(async (event, { tx }) => {
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, $4)`,
      [event.id, event.transactionId, event.type, worker],
    );
    if (sleepMs > 0) await tx.query('SELECT pg_sleep($1)', [sleepMs / 1000]);
  });
}
