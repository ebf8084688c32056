import { notify } from './notify';
import type PgBoss from 'pg-boss';
import type { PoolClient } from 'pg';
import type { PaymentEvent } from '@payhook/core';
import { completeJob, jobOptions, type JobData } from './enqueue';
import { markDead } from './dead-letters';
import { guardQueries } from '../transaction';
import { runListeners } from './run-listeners';
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
 * One attempt at one job, in one transaction on `client`: lock the payment, then the event; skip
 * it when already done; step aside while an earlier event of the payment is still open; run the
 * listeners with the transaction; mark done and complete the job in it; commit. A failure rolls all
 * of it back (the merchant's writes too) and is recorded by `recordFailure`.
 */
export async function processJob(
  state: QueueState,
  client: PoolClient,
  job: PgBoss.JobWithMetadata<JobData>,
  signal: AbortSignal,
): Promise<JobOutcome> {
  const { table, queueName } = state.settings;
  await client.query('BEGIN');
  // The payment first, then the row: two events of one payment never run at once, in any order.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    job.data.paymentKey,
  ]);
  const found = await client.query<EventRow>(
    `SELECT state, seq, event, attempts, job_token FROM ${table} WHERE id = $1 FOR UPDATE`,
    [job.data.id],
  );
  const row = found.rows[0];
  if (!row || row.state !== 'pending' || row.job_token !== job.data.token) {
    await completeJob(state, queueName, job.id, client);
    await client.query('COMMIT');
    return row?.state === 'done' ? 'duplicate' : 'stale';
  }
  const ahead = await earlierOpenEvent(state, client, job.data.paymentKey, row.seq);
  if (ahead) return stepAside(state, client, job, ahead);
  // The listeners' `tx` refuses queries once they settled (or timed out): a late query must not
  // run after our COMMIT, on a pooled client the next job may already hold.
  const guard = guardQueries(client, job.data.id);
  try {
    await runListeners(state, row.event, {
      tx: { query: guard.query },
      attempt: row.attempts + 1,
      signal,
    });
  } finally {
    guard.close();
  }
  await client.query(
    `UPDATE ${table} SET state = 'done', attempts = attempts + 1, done_at = now(), updated_at = now()
     WHERE id = $1`,
    [job.data.id],
  );
  await completeJob(state, queueName, job.id, client);
  await client.query('COMMIT');
  notify(state, 'done', row.event, row.attempts + 1);
  return 'done';
}

async function earlierOpenEvent(
  state: QueueState,
  client: PoolClient,
  key: string,
  seq: string,
): Promise<{ id: string; state: 'pending' | 'dead' } | undefined> {
  const { rows } = await client.query(
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
  client: PoolClient,
  job: PgBoss.JobWithMetadata<JobData>,
  ahead: { id: string; state: 'pending' | 'dead' },
): Promise<JobOutcome> {
  const { queueName, orderWaitSeconds } = state.settings;
  if (ahead.state === 'dead') {
    const error = {
      code: 'ERR_ORDER_BLOCKED',
      message: `waits behind dead event ${ahead.id} of the same payment; retry that one first`,
    };
    await completeJob(state, queueName, job.id, client);
    const letter = await markDead(state, client, job.data.id, job.data.token, error);
    await client.query('COMMIT');
    if (letter) notify(state, 'dead', letter);
    return 'blocked';
  }
  const waits = (job.data.waits ?? 0) + 1;
  const startAfter = Math.min(orderWaitSeconds * 2 ** Math.min(waits - 1, 10), 60);
  const data: JobData = { ...job.data, waits };
  await state.boss.send(queueName, data, { ...jobOptions(state, client), startAfter });
  await completeJob(state, queueName, job.id, client);
  await client.query('COMMIT');
  return 'waiting';
}
