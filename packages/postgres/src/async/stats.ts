import { ensureStarted } from './start';
import type { QueueState, QueueStats } from './types';

/**
 * The operator's numbers, from the event table's partial indexes (pending and dead rows only): a
 * scrape stays cheap however many events were processed.
 */
export async function readStats(state: QueueState): Promise<QueueStats> {
  await ensureStarted(state);
  const { rows } = await state.pool.query(
    `SELECT
       (SELECT count(*) FROM ${state.settings.table} WHERE state = 'pending') AS depth,
       (SELECT floor(extract(epoch FROM now() - min(queued_at)) * 1000)
          FROM ${state.settings.table} WHERE state = 'pending') AS oldest,
       (SELECT coalesce(sum(attempts), 0) FROM ${state.settings.table} WHERE state = 'pending') AS attempts,
       (SELECT count(*) FROM ${state.settings.table} WHERE state = 'pending' AND attempts > 0) AS retrying,
       (SELECT count(*) FROM ${state.settings.table} WHERE state = 'dead') AS dead`,
  );
  const row = rows[0] as Record<string, string | null>;
  return {
    depth: Number(row.depth),
    oldestPendingAgeMs: row.oldest === null ? null : Math.max(0, Number(row.oldest)),
    attempts: Number(row.attempts),
    retrying: Number(row.retrying),
    dead: Number(row.dead),
  };
}
