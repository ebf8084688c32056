/**
 * The list of transactions the socket source follows for its status sweep. The source keeps its
 * entries in a `WatchList`: in this process by default (`createMemoryWatchList`), or in a shared
 * backend that outlives the process and is seen by every instance (`createRedisWatchList` from
 * `@payhook/redis-store`, which has the same shape).
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
 * Ids, each followed until its expiry (milliseconds since the epoch). Every call is async and may
 * reject (a shared backend that is down); the source reports that and keeps what it could not
 * write in its own process until the next sweep.
 */
export interface WatchList {
  /** Follow `id` until `expiresAt`; an id already listed gets the new expiry. */
  add(id: string, expiresAt: number): Promise<WatchListAddResult>;
  remove(id: string): Promise<WatchListRemoveResult>;
  /** The ids still followed; expired entries are deleted and counted, not returned. */
  list(): Promise<WatchListEntries>;
  /**
   * Optional: whether `id` is followed and not expired. The webhook asks it for every transaction
   * it would spend a status query on (its budget spares watched ones); without it, `list()` is
   * read instead, which costs the whole list per such webhook.
   */
  has?(id: string): Promise<boolean>;
}

export interface MemoryWatchListOptions {
  /** Most entries kept; beyond it, those closest to their expiry are dropped (default 10,000). */
  maxEntries?: number;
}

const checkId = (id: unknown): void => {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024)
    throw new TypeError('watch list: id must be a non-empty string of at most 1024 characters');
};
const checkExpiry = (expiresAt: unknown): void => {
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt))
    throw new TypeError(
      'watch list: expiresAt must be a whole number of milliseconds since the epoch',
    );
};

/** The default: a Map in this process. It dies with the process and each instance has its own. */
export function createMemoryWatchList(options: MemoryWatchListOptions = {}): WatchList {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0)
    throw new TypeError('watch list: maxEntries must be a positive whole number');
  const entries = new Map<string, number>();
  // Each call does its work before its first (only) await point: the Map is up to date as soon as
  // the call returns, as a caller of a synchronous list would expect.
  return {
    async add(id, expiresAt) {
      checkId(id);
      checkExpiry(expiresAt);
      entries.delete(id);
      entries.set(id, expiresAt);
      const dropped: string[] = [];
      while (entries.size > maxEntries) {
        let soonest: string | undefined;
        let at = Infinity;
        for (const [key, value] of entries)
          if (value < at) {
            at = value;
            soonest = key;
          }
        entries.delete(soonest!);
        dropped.push(soonest!);
      }
      return { size: entries.size, dropped };
    },
    async remove(id) {
      checkId(id);
      const removed = entries.delete(id);
      return { removed, size: entries.size };
    },
    async has(id) {
      const expiresAt = entries.get(id);
      return expiresAt !== undefined && expiresAt > Date.now();
    },
    async list() {
      const now = Date.now();
      let expired = 0;
      for (const [id, at] of entries)
        if (at <= now) {
          entries.delete(id);
          expired++;
        }
      const ids = [...entries].sort((a, b) => a[1] - b[1]).map(([id]) => id);
      return { ids, expired };
    },
  };
}
