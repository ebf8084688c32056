import { checkWholeNumber } from '@payhook/core/plugin';
import { SOURCE } from './options';
import { ensureStarted } from './start';
import type { QueueState } from './types';

/**
 * Deletes done events older than `olderThanMs` (default 7 days); resolves with how many. Safe once
 * their jobs are gone: a redelivery of the same event is refused by the store's processed record,
 * not by this table, so this only bounds the table's size. Dead and pending events are kept.
 */
export async function purgeDone(state: QueueState, olderThanMs?: number): Promise<number> {
  const ms = checkWholeNumber(olderThanMs, 7 * 24 * 3_600_000, 'olderThanMs', { source: SOURCE });
  await ensureStarted(state);
  const { rowCount } = await state.pool.query(
    `DELETE FROM ${state.settings.table}
     WHERE state = 'done' AND done_at < now() - $1 * interval '1 millisecond'`,
    [ms],
  );
  return rowCount ?? 0;
}
