import { ConfigError } from '../errors';
import type { InboxEntry, InboxFilter, InboxPage } from './types';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

/** Whether an entry passes every criterion the filter sets (an empty filter passes all). */
export function matches(entry: InboxEntry, filter: InboxFilter): boolean {
  if (filter.provider !== undefined && entry.provider !== filter.provider) return false;
  if (filter.transport !== undefined && entry.transport !== filter.transport) return false;
  if (filter.outcome !== undefined) {
    const wanted = typeof filter.outcome === 'string' ? [filter.outcome] : filter.outcome;
    if (!wanted.includes(entry.outcome)) return false;
  }
  const at = entry.receivedAt.getTime();
  if (filter.from !== undefined && at < filter.from.getTime()) return false;
  if (filter.to !== undefined && at >= filter.to.getTime()) return false;
  if (filter.replayOf !== undefined && entry.replayOf !== filter.replayOf) return false;
  if (filter.orderId !== undefined && !entry.events.some((e) => e.orderId === filter.orderId))
    return false;
  if (
    filter.transactionId !== undefined &&
    !entry.events.some((e) => e.transactionId === filter.transactionId)
  )
    return false;
  if (filter.eventId !== undefined && !entry.events.some((e) => e.id === filter.eventId))
    return false;
  return true;
}

/** The page's limit (checked) and the memory inbox's cursor: the sequence number to stay below. */
export function checkPage(page: InboxPage): { limit: number; before: number } {
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new ConfigError('limit', `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  if (page.cursor === undefined) return { limit, before: Infinity };
  const before = /^[1-9][0-9]{0,15}$/.test(page.cursor) ? Number(page.cursor) : NaN;
  if (!Number.isSafeInteger(before))
    throw new ConfigError('cursor', 'is not a cursor this inbox returned');
  return { limit, before };
}
