import { inTransaction } from '../sql';
import { asError, notify } from './notify';
import type PgBoss from 'pg-boss';
import { bossDb, type JobData } from './enqueue';
import { describeError, markDead } from './dead-letters';
import type { DeadLetter, FailedAttempt, QueueState } from './types';

/**
 * A failed attempt, in one transaction of its own: the attempt count and last error on the event,
 * the job failed in pg-boss (which schedules the retry with its backoff), and, when that was the
 * last attempt, the event marked dead. Reported on `attempt.failed` (and `dead`) once committed.
 */
export async function recordFailure(
  state: QueueState,
  job: PgBoss.JobWithMetadata<JobData>,
  error: unknown,
): Promise<void> {
  const { table, queueName } = state.settings;
  const stored = describeError(error);
  const last = job.retryCount >= job.retryLimit;
  let attempt: FailedAttempt | undefined;
  let letter: DeadLetter | undefined;
  try {
    await inTransaction(state.pool, async (client) => {
      const { rows } = await client.query(
        `UPDATE ${table} SET attempts = attempts + 1, last_error = $3, updated_at = now()
       WHERE id = $1 AND job_token = $2 AND state = 'pending' RETURNING attempts, event`,
        [job.data.id, job.data.token, JSON.stringify(stored)],
      );
      await state.boss.fail(queueName, job.id, stored, { db: bossDb(client) });
      if (rows[0]) {
        attempt = { event: rows[0].event, attempt: rows[0].attempts, error, willRetry: !last };
        if (last) letter = await markDead(state, client, job.data.id, job.data.token);
      }
    });
  } catch (cause) {
    // The job stays active: pg-boss expires it and it is tried again.
    notify(state, 'error', asError(cause));
  }
  if (attempt) notify(state, 'attempt.failed', attempt);
  if (letter) notify(state, 'dead', letter);
}

/** pg-boss's dead-letter copies: the event is dead unless it was retried (a new token) since. */
export async function settleDeadCopies(
  state: QueueState,
  jobs: PgBoss.Job<JobData>[],
): Promise<void> {
  const { deadQueueName } = state.settings;
  for (const job of jobs) {
    const letter = await markDead(state, state.pool, job.data.id, job.data.token, {
      code: 'ERR_JOB_EXPIRED',
      message: 'the last attempt never finished (its worker stopped or died)',
    });
    await state.boss.complete(deadQueueName, job.id);
    if (letter) notify(state, 'dead', letter);
  }
}
