import { inTransaction } from '../sql';
import { randomUUID } from 'node:crypto';
import { ensureStarted } from './start';
import { notify } from './notify';
import type { PaymentEvent } from '@payhook/core';
import { jobOptions, type JobData } from './enqueue';
import type { DeadLetter, DeadLetterSource, Queryable, QueueState } from './types';

export interface StoredError {
  code?: string;
  message: string;
}

interface DeadRow {
  id: string;
  provider: string;
  type: DeadLetter['type'];
  event: PaymentEvent;
  attempts: number;
  last_error: StoredError | null;
  dead_at: Date;
}

const DEAD_COLUMNS = 'id, provider, type, event, attempts, last_error, dead_at';

function toLetter(row: DeadRow): DeadLetter {
  return {
    id: row.id,
    provider: row.provider,
    eventId: row.id,
    type: row.type,
    failedAt: row.dead_at,
    attempts: row.attempts,
    error: row.last_error ?? undefined,
    event: row.event,
  };
}

/** What an attempt's failure is stored as: its code when it has one, and its message. */
export function describeError(error: unknown): StoredError {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const first = describeError(error.errors[0]);
    return { code: (error as { code?: string }).code ?? first.code, message: error.message };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, message: error.message };
  }
  return { message: String(error) };
}

/**
 * pending → dead, only while `token` is the event's current job (an old job's copy in the
 * dead-letter queue must not bury an event that was retried since). Returns the letter when it
 * changed the row.
 */
export async function markDead(
  state: QueueState,
  db: Queryable,
  id: string,
  token: string,
  error?: StoredError,
): Promise<DeadLetter | undefined> {
  const { rows } = await db.query(
    `UPDATE ${state.settings.table}
     SET state = 'dead', dead_at = now(), updated_at = now(), last_error = COALESCE($3, last_error)
     WHERE id = $1 AND job_token = $2 AND state = 'pending' RETURNING ${DEAD_COLUMNS}`,
    [id, token, error ? JSON.stringify(error) : null],
  );
  return rows[0] ? toLetter(rows[0] as DeadRow) : undefined;
}

/** dead → pending with a new job, in one transaction: the retried event is processed once more. */
async function retryOne(state: QueueState, id: string): Promise<boolean> {
  let event: PaymentEvent | undefined;
  await inTransaction(state.pool, async (client) => {
    const token = randomUUID();
    const { rows } = await client.query(
      `UPDATE ${state.settings.table}
       SET state = 'pending', dead_at = NULL, updated_at = now(), job_token = $2
       WHERE id = $1 AND state = 'dead' RETURNING payment_key, event`,
      [id, token],
    );
    if (rows[0]) {
      const data: JobData = { id, paymentKey: rows[0].payment_key, token };
      await state.boss.send(state.settings.queueName, data, jobOptions(state, client));
      event = rows[0].event;
    }
  });
  if (event) notify(state, 'retried', { id, event });
  return event !== undefined;
}

/** The dead letters: list, retry one, retry all (oldest first, so a payment's order holds). */
export function createDeadLetters(state: QueueState): DeadLetterSource {
  const table = state.settings.table;
  return {
    async list(limit = 100) {
      await ensureStarted(state);
      const { rows } = await state.pool.query(
        `SELECT ${DEAD_COLUMNS} FROM ${table} WHERE state = 'dead' ORDER BY dead_at DESC, seq DESC LIMIT $1`,
        [limit],
      );
      return (rows as DeadRow[]).map(toLetter);
    },
    async retry(id) {
      await ensureStarted(state);
      return retryOne(state, id);
    },
    async retryAll() {
      await ensureStarted(state);
      const { rows } = await state.pool.query(
        `SELECT id FROM ${table} WHERE state = 'dead' ORDER BY seq`,
      );
      let count = 0;
      for (const row of rows as Array<{ id: string }>) if (await retryOne(state, row.id)) count++;
      return count;
    },
  };
}
