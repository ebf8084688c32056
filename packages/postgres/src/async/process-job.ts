import { notify } from './notify';
import type PgBoss from 'pg-boss';
import { PaymentError, type PaymentEvent } from '@payhook/core';
import { completeJob, jobOptions, type JobData } from './enqueue';
import { describeError, markDead } from './dead-letters';
import { guardQueries } from '../transaction';
import { commit, type Lease } from './lease';
import { SOURCE } from './options';
import { runWorkerListeners } from './run-listeners';
import type { QueueState } from './types';

export type JobOutcome = 'done' | 'duplicate' | 'stale' | 'waiting' | 'blocked' | 'failed';

interface EventRow {
  state: 'pending' | 'done' | 'dead';
  seq: string;
  event: PaymentEvent;
  attempts: number;
  job_token: string;
}

/**
 * One attempt at one job, in one transaction on `lease` (every statement of ours under the
 * statement deadline): lock the payment (a bounded wait), then the event; skip it when already
 * done; step aside while an earlier event of the payment is still open; run the listeners with the
 * transaction; mark done and complete the job in it; commit. A failure rolls all of it back (the
 * merchant's writes too) and is recorded by `recordFailure`.
 */
export async function processJob(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
  signal: AbortSignal,
): Promise<JobOutcome> {
  const { table, queueName } = state.settings;
  await lease.query('BEGIN');
  // The payment first, then the row: two events of one payment never run at once, in any order.
  if (!(await takeOrderLock(state, lease, job.data.paymentKey, signal))) {
    state.logger.info(
      { code: 'ERR_ORDER_LOCK_TIMEOUT', eventId: job.data.id },
      'another attempt of the payment held its order lock too long: the job steps aside',
    );
    return deferJob(state, lease, job);
  }
  const found = await lease.query(
    `SELECT state, seq, event, attempts, job_token FROM ${table} WHERE id = $1 FOR UPDATE`,
    [job.data.id],
  );
  const row = found.rows[0] as EventRow | undefined;
  if (!row || row.state !== 'pending' || row.job_token !== job.data.token) {
    await completeJob(state, queueName, job.id, lease);
    await commit(lease);
    return row?.state === 'done' ? 'duplicate' : 'stale';
  }
  const ahead = await earlierOpenEvent(state, lease, job.data.paymentKey, row.seq);
  if (ahead) return stepAside(state, lease, job, ahead);
  await runGuarded(state, lease, job, row, signal);
  await lease.query(
    `UPDATE ${table} SET state = 'done', attempts = attempts + 1, done_at = now(), updated_at = now()
     WHERE id = $1`,
    [job.data.id],
  );
  await completeJob(state, queueName, job.id, lease);
  await commit(lease);
  notify(state, 'done', row.event, row.attempts + 1);
  return 'done';
}

/**
 * The listeners, with a `tx` that refuses queries once they settled (or timed out): a late query
 * must not run after our COMMIT, on a pooled client the next job may already hold.
 */
async function runGuarded(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
  row: EventRow,
  signal: AbortSignal,
): Promise<void> {
  const guard = guardQueries(lease.client, job.data.id);
  try {
    const fields = { tx: { query: guard.query }, attempt: row.attempts + 1 };
    await runWorkerListeners(state, row.event, fields, signal);
  } finally {
    guard.close();
  }
}

/**
 * The payment's order lock, waited for at most `orderLockTimeoutMs`: polled with
 * pg_try_advisory_xact_lock, which leaves the transaction usable when it gives up (a server-side
 * lock_timeout would abort it, and would also apply to the merchant's statements afterwards).
 */
async function takeOrderLock(
  state: QueueState,
  lease: Lease,
  key: string,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + state.settings.orderLockTimeoutMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const { rows } = await lease.query(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked',
      [key],
    );
    if (rows[0]?.locked) return true;
    if (signal.aborted) throw signal.reason;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
  }
}

async function earlierOpenEvent(
  state: QueueState,
  lease: Lease,
  key: string,
  seq: string,
): Promise<{ id: string; state: 'pending' | 'dead' } | undefined> {
  const { rows } = await lease.query(
    `SELECT id, state FROM ${state.settings.table}
     WHERE payment_key = $1 AND seq < $2 AND state <> 'done' ORDER BY seq LIMIT 1`,
    [key, seq],
  );
  return rows[0];
}

/**
 * An earlier event of the payment is still open. Pending: this one is queued again a little later
 * (a wait is not an attempt), and this job completes. Dead: this one joins it as a dead letter,
 * so that retrying them (retry all goes oldest first) keeps the gateway's order.
 */
async function stepAside(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
  ahead: { id: string; state: 'pending' | 'dead' },
): Promise<JobOutcome> {
  if (ahead.state !== 'dead') return deferJob(state, lease, job);
  const error = new PaymentError(
    `waits behind dead event ${ahead.id} of the same payment; retry that one first`,
    { code: 'ERR_ORDER_BLOCKED', source: SOURCE },
  );
  await completeJob(state, state.settings.queueName, job.id, lease);
  const letter = await markDead(state, lease, job.data.id, job.data.token, describeError(error));
  await commit(lease);
  if (letter) notify(state, 'dead', letter);
  return 'blocked';
}

/**
 * Queues the job again after `orderWaitSeconds` (doubling, at most 60 s) and completes this one, in
 * the attempt's transaction: waiting for the payment's turn is never counted as an attempt.
 */
async function deferJob(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
): Promise<JobOutcome> {
  const { queueName, orderWaitSeconds } = state.settings;
  const waits = (job.data.waits ?? 0) + 1;
  const startAfter = Math.min(orderWaitSeconds * 2 ** Math.min(waits - 1, 10), 60);
  const data: JobData = { ...job.data, waits };
  await state.boss.send(queueName, data, { ...jobOptions(state, lease), startAfter });
  await completeJob(state, queueName, job.id, lease);
  await commit(lease);
  return 'waiting';
}
