import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { IdempotencyStore, Logger } from '@payhook/core';
import { closeOwnedClient, createOwnedClient } from './client';
import { dropOrphans, releaseOrphans } from './orphaned-claims';
import { waitForReady } from './scripts';
import { resolveRedisStoreOptions, SOURCE } from './store-options';
import { claimKey, commitClaim, markKeyDone, releaseClaim, renewClaim } from './store-operations';
import type { StoreState } from './store-state';

export { FAIL_FAST_REDIS_OPTIONS } from './client';
export { DONE } from './store-state';

export interface RedisStoreOptions {
  /**
   * An ioredis client (Redis or Cluster) you own: the store never closes it. Configure it with
   * FAIL_FAST_REDIS_OPTIONS; the store's own `commandTimeoutMs` bounds every call either way.
   */
  client?: Redis | Cluster;
  /** A Redis URL (`redis://`, `rediss://`); the store creates the client and closes it in `close()`. */
  url?: string;
  /** Extra ioredis options for the client created from `url` (TLS, password...); they win over ours. */
  redisOptions?: RedisOptions;
  /**
   * Put before every key, e.g. `payhook:shop-1:`. Every instance that must see the same payments
   * uses the same prefix; anything else on the Redis uses another.
   */
  prefix: string;
  /**
   * Shortest lease a claim gets, whatever the caller asks. The hub passes its own `leaseMs` on each
   * claim; the longer of the two wins, so a store shared by several instances can enforce one floor.
   */
  leaseMs?: number;
  /**
   * Shortest retention of a processed event, whatever the caller asks (the hub passes its
   * `retentionMs`); the longer wins. Use it to keep one replay window across every instance.
   */
  ttlMs?: number;
  /** Longest a store call may take before it rejects (default 1,000 ms). */
  commandTimeoutMs?: number;
  /** Told about connection loss and recovery (pino-compatible); silent by default. */
  logger?: Logger;
  /**
   * Told when a commit or release finds the claim held by someone else, or a renew finds it no longer
   * held (lapsed, taken over or done): the lease ran out while the listener ran and another delivery
   * may have processed the same event.
   */
  onLostClaim?: (key: string, operation: 'commit' | 'release' | 'renew') => void;
  /**
   * Most claims remembered whose answer never came (the command timed out or the connection
   * dropped while it was in flight), to be released by token once Redis answers again; default
   * 10,000. Beyond it the oldest is forgotten (logged) and holds its key until its lease ends.
   */
  maxOrphanedClaims?: number;
}

export interface RedisStore extends IdempotencyStore {
  /** The ioredis client in use, for health checks. */
  readonly client: Redis | Cluster;
  readonly prefix: string;
  /**
   * A new lease of `leaseMs` (or the store's `leaseMs` floor, if longer) from now, only while `token`
   * holds the key: one Lua script (GET, compare, PEXPIRE). False when the claim lapsed, was taken
   * over or is done; the hub calls it for listeners that outlive its handler timeout.
   */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** One SET: the key is done for `ttlMs` whatever it held (used for completion markers). */
  markDone(key: string, ttlMs: number): Promise<void>;
  /** Resolves once the client is connected; rejects with a StoreError after `timeoutMs` (default 5,000). */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the client if the store created it from `url`; a client you passed in stays open. */
  close(): Promise<void>;
}

/** The client and the state every store function shares, with the orphans' resume wired in. */
function createStoreState(options: RedisStoreOptions): StoreState {
  const resolved = resolveRedisStoreOptions(options);
  const { given, url, commandTimeoutMs, redisOptions } = resolved;
  const state: StoreState = {
    options: resolved,
    client: given ?? createOwnedClient(url!, commandTimeoutMs, redisOptions),
    owned: !given,
    closed: false,
    orphans: { tokens: new Map(), flushing: false, settled: 0, released: 0, forgotten: 0 },
    resumeOrphans: () => {
      if (state.orphans.tokens.size > 0) void releaseOrphans(state);
    },
  };
  return state;
}

/** Without a listener ioredis prints every reconnect failure; report an outage once instead. */
function logOutages(state: StoreState): void {
  const { client, options } = state;
  let down = false;
  client.on('error', (error: Error) => {
    if (down || state.closed) return;
    down = true;
    options.logger.warn({ err: error }, `${SOURCE}: Redis connection lost: ${error.message}`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    options.logger.info({}, `${SOURCE}: Redis connection restored`);
  });
}

async function closeStore(state: StoreState): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  state.client.off('ready', state.resumeOrphans);
  dropOrphans(state);
  if (state.owned) await closeOwnedClient(state.client);
}

/**
 * An IdempotencyStore on Redis, so that several app instances process each payment once:
 * claim is SET NX PX, commit, release and renew are Lua scripts that check the claim's token.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const state = createStoreState(options);
  const { client } = state;
  if (state.owned) logOutages(state);
  client.on('ready', state.resumeOrphans);
  return {
    client,
    prefix: state.options.prefix,
    claim: (key, leaseMs) => claimKey(state, key, leaseMs),
    commit: (key, token, ttlMs) => commitClaim(state, key, token, ttlMs),
    release: (key, token) => releaseClaim(state, key, token),
    renew: (key, token, leaseMs) => renewClaim(state, key, token, leaseMs),
    markDone: (key, ttlMs) => markKeyDone(state, key, ttlMs),
    ready: (timeoutMs = 5_000) => waitForReady(client, timeoutMs, state.closed, 'store', SOURCE),
    close: () => closeStore(state),
  };
}
