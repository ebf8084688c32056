/** How many status queries one process may still ask a gateway this minute. */
export interface QueryBudget {
  /** Spends one query at `now` (ms); false, spending nothing, when the last 60 s already hold the cap. */
  take(now: number): boolean;
}

const WINDOW_MS = 60_000;

/**
 * A sliding log of the last minute's query times: exact ("at most N in any 60 s"), unlike a fixed
 * window that allows 2N across its edge, and N numbers of memory at most.
 */
export function createQueryBudget(perMinute: number): QueryBudget {
  const spent: number[] = [];
  return {
    take(now) {
      while (spent.length > 0 && spent[0]! <= now - WINDOW_MS) spent.shift();
      if (spent.length >= perMinute) return false;
      spent.push(now);
      return true;
    },
  };
}
