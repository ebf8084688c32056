// The worked example of docs/writing-a-store.md: its blocks are this file's code, verbatim
// (store-docs.test.ts checks it), and the kit runs on the store below.
import { randomUUID } from 'node:crypto';
import type { Claim, IdempotencyStore } from '@payhook/core';

/** One key: held by `token` until `until` (ms since epoch), or done (no token) until `until`. */
interface Entry {
  token?: string;
  until: number;
}

/**
 * A store on a Map, one rule per method. A store on a shared backend does each method's read and
 * write in one atomic step there (a Lua script, one SQL statement, a conditional put).
 */
export function createMapStore(): IdempotencyStore {
  const entries = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.until <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  const heldBy = (key: string, token: string): boolean => live(key)?.token === token;
  return {
    async claim(key, leaseMs): Promise<Claim> {
      const entry = live(key);
      if (entry) return { state: entry.token === undefined ? 'done' : 'busy' };
      const token = randomUUID();
      entries.set(key, { token, until: Date.now() + leaseMs });
      return { state: 'claimed', token };
    },
    async commit(key, token, ttlMs) {
      // The listeners succeeded: done, even after the lease lapsed, unless another holds the key.
      const entry = live(key);
      if (entry === undefined || entry.token === token)
        entries.set(key, { until: Date.now() + ttlMs });
    },
    async release(key, token) {
      if (heldBy(key, token)) entries.delete(key);
    },
    async renew(key, token, leaseMs) {
      if (!heldBy(key, token)) return false;
      entries.set(key, { token, until: Date.now() + leaseMs });
      return true;
    },
    async markDone(key, ttlMs) {
      entries.set(key, { until: Date.now() + ttlMs });
    },
  };
}

// The test (in a package of your own, its test/store.test.ts):
import { runStoreConformance } from '@payhook/core/testing';

runStoreConformance({
  name: 'map store',
  create: () => createMapStore(),
  // Nothing to free at shutdown: without `without`, a missing close() fails the kit.
  without: ['close'],
});
