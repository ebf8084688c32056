import { inTransaction } from '../sql';
import { randomUUID } from 'node:crypto';
import { ensureStarted } from './start';
import type PgBoss from 'pg-boss';
import type { PaymentEvent } from '@payhook/core';
import { paymentKey } from './schema';
import type { Queryable, QueueState } from './types';

/** What a job carries: the event lives in the table, the job only points at it. */
export interface JobData {
  id: string;
  paymentKey: string;
  token: string;
  /** How many times this event stepped aside for an earlier one of its payment. */
  waits?: number;
}

/** pg-boss's executor over one of our connections: its job rows join our transaction. */
export function bossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

/**
 * Completes a job inside our transaction. pg-boss 10.4's complete() reads its third argument as the
 * job's output whatever its types say, so the executor must come fourth: `complete(name, id,
 * { db })` would complete the job at once on pg-boss's own connection, outside the transaction.
 */
export async function completeJob(
  state: QueueState,
  name: string,
  id: string,
  db: Queryable,
): Promise<void> {
  await state.boss.complete(name, id, {}, { db: bossDb(db) });
}

/** The job options every send uses: the queue's retry policy. */
export function jobOptions(state: QueueState, db: Queryable): PgBoss.SendOptions {
  const s = state.settings;
  return {
    db: bossDb(db),
    retryLimit: s.retryLimit,
    retryDelay: s.retryDelaySeconds,
    retryBackoff: s.retryBackoff,
    expireInSeconds: s.expireInSeconds,
  };
}

/**
 * Records the event as pending and queues its job on `db`. Inside the claim's transaction (the
 * PostgreSQL store's `tx`), the hub's commit makes claim + pending row + job durable at once; with
 * another store it runs in a transaction of its own, committed before the hub acknowledges. An event
 * already recorded (a redelivery after a lost commit) queues nothing: false.
 */
export async function enqueue(
  state: QueueState,
  event: PaymentEvent,
  db?: Queryable,
): Promise<boolean> {
  await ensureStarted(state);
  if (db) return insertAndSend(state, event, db);
  return inTransaction(state.pool, (client) => insertAndSend(state, event, client));
}

async function insertAndSend(
  state: QueueState,
  event: PaymentEvent,
  db: Queryable,
): Promise<boolean> {
  const token = randomUUID();
  const key = paymentKey(event);
  const inserted = await db.query(
    `INSERT INTO ${state.settings.table} (id, payment_key, provider, type, event, job_token)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING seq`,
    [event.id, key, event.provider, event.type, JSON.stringify(event), token],
  );
  if (inserted.rowCount === 0) return false;
  const data: JobData = { id: event.id, paymentKey: key, token };
  await state.boss.send(state.settings.queueName, data, jobOptions(state, db));
  return true;
}
