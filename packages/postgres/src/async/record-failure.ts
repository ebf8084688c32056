import { PaymentError } from '@payhook/core';
import { asError, notify } from './notify';
import type PgBoss from 'pg-boss';
import { completeJob, type JobData } from './enqueue';
import { describeError, markDead } from './dead-letters';
import { inLeaseTransaction, type Lease } from './lease';
import { SOURCE } from './options';
import type { DeadLetter, FailedAttempt, QueueState } from './types';

/**
 * A failed attempt, in one transaction of its own on `lease` (the attempt's own connection when
 * its ROLLBACK went through, else a housekeeping one): the attempt count and last error on the
 * event, the job failed in pg-boss (which schedules the retry with its backoff), and, when that was
 * the last attempt, the event marked dead. Reported on `attempt.failed` (and `dead`) once committed.
 */
export async function recordFailure(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
  error: unknown,
): Promise<void> {
  const { table, queueName } = state.settings;
  const stored = describeError(error);
  const last = job.retryCount >= job.retryLimit;
  let attempt: FailedAttempt | undefined;
  let letter: DeadLetter | undefined;
  try {
    await inLeaseTransaction(lease, async () => {
      if (!(await stillOurs(state, lease, job))) return;
      const { rows } = await lease.query(
        `UPDATE ${table} SET attempts = attempts + 1, last_error = $3, updated_at = now()
       WHERE id = $1 AND job_token = $2 AND state = 'pending' RETURNING attempts, event`,
        [job.data.id, job.data.token, JSON.stringify(stored)],
      );
      await state.boss.fail(queueName, job.id, stored, { db: lease.db });
      if (rows[0]) {
        attempt = { event: rows[0].event, attempt: rows[0].attempts, error, willRetry: !last };
        if (last) letter = await markDead(state, lease, job.data.id, job.data.token);
      }
    });
  } catch (cause) {
    // The job stays active: pg-boss expires it and it is tried again.
    notify(state, 'error', asError(cause));
  }
  if (attempt) notify(state, 'attempt.failed', attempt);
  if (letter) notify(state, 'dead', letter);
}

/**
 * The fence: the job is still active and still in this fetch of it (pg-boss counts a fetch of a
 * started job in retry_count), locked until our commit so pg-boss's expiry cannot take it meanwhile.
 * A job pg-boss already expired (and perhaps handed to another worker) is not failed a second time.
 */
async function stillOurs(
  state: QueueState,
  lease: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
): Promise<boolean> {
  const { rowCount } = await lease.query(
    `SELECT 1 FROM "${state.settings.schema}".job
     WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3 FOR UPDATE`,
    [state.settings.queueName, job.id, job.retryCount],
  );
  if (rowCount) return true;
  notify(
    state,
    'error',
    new PaymentError(`job ${job.id} of ${job.data.id} expired before its failure was recorded`, {
      code: 'ERR_JOB_EXPIRED',
      source: SOURCE,
    }),
  );
  return false;
}

/** pg-boss's dead-letter copies: the event is dead unless it was retried (a new token) since. */
export async function settleDeadCopies(
  state: QueueState,
  lease: Lease,
  jobs: PgBoss.Job<JobData>[],
): Promise<void> {
  const { deadQueueName } = state.settings;
  const error = new PaymentError('the last attempt never finished (its worker stopped or died)', {
    code: 'ERR_JOB_EXPIRED',
    source: SOURCE,
  });
  for (const job of jobs) {
    const letter = await markDead(state, lease, job.data.id, job.data.token, describeError(error));
    await completeJob(state, deadQueueName, job.id, lease);
    if (letter) notify(state, 'dead', letter);
  }
}
