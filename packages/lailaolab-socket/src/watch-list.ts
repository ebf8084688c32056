/**
 * @deprecated The shape of the source's former `watchList` option, which was removed: watched
 * transactions are the hub's awaited payments (`createPaymentHub({ awaited: { list } })`). Kept,
 * as types only, because `createRedisWatchList` (@payhook/redis-store) and
 * `createPostgresWatchList` (@payhook/postgres) still have this shape; nothing in this package
 * uses it.
 */

/** What `add` did: the list's size afterwards, and the entries dropped to keep within its limit. */
export interface WatchListAddResult {
  size: number;
  /** Ids no longer followed because the list was full: those closest to their expiry. */
  dropped: string[];
}

export interface WatchListRemoveResult {
  /** Whether the id was on the list. */
  removed: boolean;
  size: number;
}

export interface WatchListEntries {
  /** Ids whose watch has not ended, soonest expiry first. */
  ids: string[];
  /** Entries whose expiry had passed: deleted by this read, never returned. */
  expired: number;
}

/**
 * @deprecated Ids, each followed until its expiry (milliseconds since the epoch): the shape of the
 * removed `watchList` option. Use an AwaitedList (`createPaymentHub({ awaited: { list } })`).
 */
export interface WatchList {
  /** Follow `id` until `expiresAt`; an id already listed gets the new expiry. */
  add(id: string, expiresAt: number): Promise<WatchListAddResult>;
  remove(id: string): Promise<WatchListRemoveResult>;
  /** The ids still followed; expired entries are deleted and counted, not returned. */
  list(): Promise<WatchListEntries>;
  /** Optional: whether `id` is followed and not expired. */
  has?(id: string): Promise<boolean>;
}
