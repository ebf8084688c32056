import { LRUCache } from 'lru-cache';
import { ConfigError } from './errors';

/**
 * The result of trying to take an event for processing:
 * - claimed: this caller holds it for `leaseMs` and must commit or release with `token`;
 * - done: it was processed before (a redelivery or a replay);
 * - busy: another caller holds it right now.
 */
export type Claim<C = undefined> =
  { state: 'claimed'; token: string; context?: C } | { state: 'done' } | { state: 'busy' };

export interface ClaimOptions {
  /**
   * The token of a claim this one joins: a transactional store takes the key inside that claim's
   * transaction (committed or rolled back with it). Other stores ignore it.
   */
  join?: string;
}

/**
 * `C` is what a claim hands the listeners beside the hub's own context (e.g. `{ tx }` for a
 * database transaction); `undefined` for stores that hand nothing.
 */
export interface IdempotencyStore<C = undefined> {
  claim(key: string, leaseMs: number, options?: ClaimOptions): Promise<Claim<C>>;
  /**
   * True when the claim's context is a transaction holding the listeners' own writes, committed by
   * `commit`: a failed commit then rolled those writes back (the hub answers retry and does not
   * retry the commit), and listeners that outlive the handler timeout are rolled back when they
   * settle (the gateway was told to retry; the redelivery processes the event).
   */
  readonly transactional?: boolean;
  /**
   * Optional: the longest one call waits on the store's backend before it gives up (a statement
   * deadline, a connect timeout). The hub refuses a store whose deadline is not shorter than its
   * handlerTimeoutMs: a store that can wait longer than the gateway's patience hangs the request.
   */
  readonly deadlineMs?: number;
  /**
   * claimed → done, kept for `ttlMs`. The listeners did succeed, so a commit whose lease expired
   * still records `done` when nobody else holds the key; it never overwrites another holder's claim.
   */
  commit(key: string, token: string, ttlMs: number): Promise<void>;
  /**
   * Drops the claim so a redelivery can process the event, only while `token` still holds it.
   * `abandoned`: the hub gave up on listeners that are still running (the hard cap); a store that
   * holds a resource for them (a connection) destroys it rather than reusing it.
   */
  release(key: string, token: string, options?: { abandoned?: boolean }): Promise<void>;
  /**
   * Optional: extends the claim to `leaseMs` from now, only while `token` still holds it (false
   * otherwise). The hub renews the claim of a listener that outlives the handler timeout, so that
   * only a process that dies lets the lease lapse.
   */
  renew?(key: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Optional: record `key` as done at once, whatever it holds (one write instead of claim + commit).
   * The hub uses it for the marker that lets a late failure notice be recognised as stale.
   */
  markDone?(key: string, ttlMs: number): Promise<void>;
  /** Optional: free resources (connections) at shutdown. */
  close?(): Promise<void>;
}

/** What a store's claims hand the listeners (`{}` for a store that hands nothing). */
export type StoreContext<S> =
  S extends IdempotencyStore<infer C>
    ? [C] extends [undefined]
      ? object
      : unknown extends C
        ? object
        : C
    : object;

export interface MemoryStoreOptions {
  /** Most keys kept (claims and done markers together). Default 100,000. */
  max?: number;
  /** Told when a still-valid `done` marker is evicted to make room: replay protection got shorter. */
  onEvict?: (key: string) => void;
}

type Entry = { state: 'claimed'; token: string } | { state: 'done' };
const MEMORY_STORE = Symbol('payhook.memoryStore');

/** True for the store createMemoryStore makes (it forgets on restart). */
export function isMemoryStore(store: IdempotencyStore<unknown>): boolean {
  return (store as { [MEMORY_STORE]?: true })[MEMORY_STORE] === true;
}
/** One shared marker: a done entry then costs only its key and the cache's bookkeeping. */
const DONE: Entry = Object.freeze({ state: 'done' });

/**
 * The default store: in-process, bounded by count with lru-cache. It protects one process while it
 * runs: it forgets everything on restart, and each instance has its own. For several instances, or
 * replays across restarts, use @payhook/redis-store.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): IdempotencyStore {
  const max = options.max ?? 100_000;
  if (!Number.isSafeInteger(max) || max < 1)
    throw new ConfigError('max', 'must be a positive integer');
  const onEvict = options.onEvict;
  const cache = new LRUCache<string, Entry>({
    max,
    ttlAutopurge: false,
    dispose: onEvict
      ? (value, key, reason) => {
          if (reason === 'evict' && value.state === 'done') onEvict(key);
        }
      : undefined,
  });
  let claims = 0;
  const store: IdempotencyStore & { [MEMORY_STORE]: true } = {
    [MEMORY_STORE]: true,
    async claim(key, leaseMs) {
      const entry = cache.get(key);
      if (entry?.state === 'done') return { state: 'done' };
      if (entry?.state === 'claimed') return { state: 'busy' };
      // Tokens never leave this process: a count is as unique as a UUID, and costs no randomness.
      const token = `${++claims}`;
      cache.set(key, { state: 'claimed', token }, { ttl: leaseMs });
      return { state: 'claimed', token };
    },
    async commit(key, token, ttlMs) {
      const entry = cache.get(key);
      if (entry === undefined || (entry.state === 'claimed' && entry.token === token)) {
        cache.set(key, DONE, { ttl: ttlMs });
      }
    },
    async release(key, token) {
      const entry = cache.get(key);
      if (entry?.state === 'claimed' && entry.token === token) cache.delete(key);
    },
    async renew(key, token, leaseMs) {
      const entry = cache.get(key);
      if (entry?.state !== 'claimed' || entry.token !== token) return false;
      cache.set(key, entry, { ttl: leaseMs });
      return true;
    },
    async markDone(key, ttlMs) {
      cache.set(key, DONE, { ttl: ttlMs });
    },
  };
  return store;
}
