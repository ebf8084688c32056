import { randomBytes } from 'node:crypto';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { evalScript, script, waitForReady } from './scripts';
import {
  ConfigError,
  StoreError,
  silentLogger,
  type Claim,
  type IdempotencyStore,
  type Logger,
} from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';

const SOURCE = '@payhook/redis-store';

/** The value a processed event keeps; a claim holds its token instead (16 base64url characters). */
export const DONE = 'done';

/**
 * ioredis settings for a store that must fail fast: ioredis's defaults queue commands while Redis is
 * away and retry them 20 times per reconnect, so a delivery would hang until the gateway times out
 * instead of getting its retry answer. Applied to the client the store creates from `url`; use them
 * when you build the client yourself.
 */
export const FAIL_FAST_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  // A command issued while disconnected is refused at once instead of waiting for a reconnect.
  enableOfflineQueue: false,
  // Commands in flight when the connection drops are refused at the first reconnect attempt...
  maxRetriesPerRequest: 0,
  // ...and never replayed later: a claim the store already reported as failed must not land after.
  autoResendUnfulfilledCommands: false,
  connectTimeout: 2_000,
  // close() during an outage: ioredis keeps a 2 s timer for a socket that is already gone.
  disconnectTimeout: 200,
  // Keep reconnecting, with a capped backoff, so the store recovers by itself when Redis returns.
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
});

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

// One round trip each. The claim reads the state in the same script, so "done" and "busy" are never
// confused by a key that expires between two commands.
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[3] then return 2 end
return 0`;

// A missing key also becomes done: the lease lapsed with nobody taking it over, and this holder's
// listeners did succeed, so remembering it prevents a second dispatch. Another holder's claim is
// never overwritten.
const COMMIT = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or not v then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
  return 1
end
if v == ARGV[3] then return 2 end
return 0`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
if not v then return 2 end
return 0`;

// A new lease from now, only while this holder's token holds the key: never revives a claim that
// lapsed, never touches another holder's claim or a done marker.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

// The completion marker: done whatever the key held (a completion outranks a probe's claim).
const MARK = `redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) return 1`;

const SCRIPTS = {
  claim: script(CLAIM),
  commit: script(COMMIT),
  release: script(RELEASE),
  renew: script(RENEW),
  mark: script(MARK),
};

const TOKEN = /^[A-Za-z0-9_-]{16}$/;

function positiveMs(value: number | undefined, option: string): number | undefined {
  return value === undefined
    ? undefined
    : checkWholeNumber(value, 0, option, { unit: 'milliseconds', source: SOURCE });
}

function positiveCount(value: number | undefined, option: string): number | undefined {
  return value === undefined ? undefined : checkWholeNumber(value, 0, option, { source: SOURCE });
}

/**
 * Whether a command that failed may still have run on Redis: it timed out, or the connection dropped
 * while it was in flight. A command refused before it was sent (offline, store closed) or answered
 * with a Redis error did not change anything.
 */
function mayHaveRun(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name === 'ReplyError') return false;
  return !error.message.includes('enableOfflineQueue');
}

/**
 * An IdempotencyStore on Redis, so that several app instances process each payment once:
 * claim is SET NX PX, commit, release and renew are Lua scripts that check the claim's token.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'must be an object with client or url, and prefix', {
      source: SOURCE,
    });
  const { client: given, url } = options;
  if (given && url !== undefined)
    throw new ConfigError('client', 'and url are exclusive: give one', { source: SOURCE });
  if (!given && (typeof url !== 'string' || url.length === 0))
    throw new ConfigError('url', 'or client is required (an ioredis client or a redis:// URL)', {
      source: SOURCE,
    });
  if (given && typeof (given as Redis).evalsha !== 'function')
    throw new ConfigError('client', 'must be an ioredis Redis or Cluster client', {
      source: SOURCE,
    });
  const prefix = options.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new ConfigError('prefix', 'is required, e.g. "payhook:shop-1:"', { source: SOURCE });
  const minLeaseMs = positiveMs(options.leaseMs, 'leaseMs') ?? 0;
  const minTtlMs = positiveMs(options.ttlMs, 'ttlMs') ?? 0;
  if (minLeaseMs > 0 && minTtlMs > 0 && minTtlMs < minLeaseMs)
    throw new ConfigError('ttlMs', 'must be at least leaseMs', { source: SOURCE });
  const commandTimeoutMs = positiveMs(options.commandTimeoutMs, 'commandTimeoutMs') ?? 1_000;
  const logger = options.logger ?? silentLogger;
  const onLostClaim = options.onLostClaim;
  const maxOrphanedClaims = positiveCount(options.maxOrphanedClaims, 'maxOrphanedClaims') ?? 10_000;

  const owned = !given;
  const client: Redis | Cluster =
    given ??
    new Redis(url!, {
      ...FAIL_FAST_REDIS_OPTIONS,
      commandTimeout: commandTimeoutMs,
      ...options.redisOptions,
    });
  let closed = false;

  if (owned) {
    // Without a listener ioredis prints every reconnect failure; report an outage once instead.
    let down = false;
    client.on('error', (error: Error) => {
      if (down || closed) return;
      down = true;
      logger.warn({ err: error }, `${SOURCE}: Redis connection lost: ${error.message}`);
    });
    client.on('ready', () => {
      if (!down) return;
      down = false;
      logger.info({}, `${SOURCE}: Redis connection restored`);
    });
  }

  const run = async (
    op: keyof typeof SCRIPTS,
    key: string,
    args: string[],
    { withSource = false } = {},
  ): Promise<unknown> => {
    if (closed) throw new StoreError(op, new Error('the store is closed'), SOURCE);
    try {
      const result = await evalScript(client, SCRIPTS[op], key, args, commandTimeoutMs, withSource);
      // Redis answers again: release what earlier claims may have left behind.
      if (orphans.size > 0 && !flushing) void releaseOrphans();
      return result;
    } catch (cause) {
      throw new StoreError(op, cause, SOURCE);
    }
  };

  /**
   * Claims whose answer never came, token → prefixed key, oldest first. Their SET NX may have run
   * (or may still run: a frozen Redis executes what is in its socket when it resumes), and then it
   * holds the key for the whole lease with nobody to dispatch, commit or release it: the hub
   * answered the gateway with its retry body. Each is released by its token, which this store
   * generated and nobody else ever used, once Redis answers again.
   */
  const orphans = new Map<string, string>();
  let flushing = false;
  /** Since the last log line: orphans answered for, those of them still held and released, forgotten. */
  let settled = 0;
  let released = 0;
  let forgotten = 0;

  /** true: answered (released, already gone, or not ours); false: no answer, kept for later. */
  const releaseOrphan = async (token: string, redisKey: string): Promise<boolean> => {
    try {
      // EVAL, not EVALSHA: the answer of a NOSCRIPT fallback may be lost too (a restarted server).
      const result = await run('release', redisKey, [token], { withSource: true });
      if (orphans.delete(token)) settled++;
      if (result === 1) released++;
      return true;
    } catch {
      return false; // kept: the next answer from Redis, or its 'ready', tries again
    }
  };

  const rememberOrphan = (token: string, redisKey: string): void => {
    if (closed) return;
    orphans.set(token, redisKey);
    if (orphans.size > maxOrphanedClaims) {
      const [oldest] = orphans.keys();
      orphans.delete(oldest!);
      if (forgotten++ === 0)
        logger.warn(
          { maxOrphanedClaims },
          `${SOURCE}: more than ${maxOrphanedClaims} claims without an answer; forgetting the oldest, ` +
            'whose keys then stay claimed until their lease ends',
        );
    }
    // At once: on a connection that is still open (a frozen or slow Redis), this release is queued
    // behind the claim and runs right after it when Redis resumes, before any later redelivery.
    void releaseOrphan(token, redisKey).then((answered) => {
      if (answered && orphans.size === 0) report();
    });
  };

  const report = (): void => {
    if (settled === 0 && forgotten === 0) return;
    logger.info(
      { settled, released, forgotten },
      `${SOURCE}: ${settled} claims whose answer was lost are settled (${released} still held, released now)` +
        (forgotten > 0 ? `; ${forgotten} more were forgotten (maxOrphanedClaims)` : ''),
    );
    settled = 0;
    released = 0;
    forgotten = 0;
  };

  const releaseOrphans = async (): Promise<void> => {
    if (flushing || closed) return;
    flushing = true;
    try {
      while (orphans.size > 0 && !closed) {
        const batch = [...orphans].slice(0, 100);
        const answered = await Promise.all(batch.map(([t, k]) => releaseOrphan(t, k)));
        // Redis is away again: stop here, the next answer or 'ready' resumes.
        if (!answered.every(Boolean)) return;
      }
      report();
    } finally {
      flushing = false;
    }
  };
  const onReady = (): void => {
    if (orphans.size > 0) void releaseOrphans();
  };
  client.on('ready', onReady);

  const checkKey = (key: unknown, op: string): string => {
    if (typeof key !== 'string' || key.length === 0)
      throw new StoreError(op, new TypeError('key must be a non-empty string'), SOURCE);
    return prefix + key;
  };
  const checkMs = (value: unknown, floor: number, name: string, op: string): string => {
    const ms = Math.max(
      typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0,
      floor,
    );
    if (ms === 0)
      throw new StoreError(
        op,
        new TypeError(`${name} must be a positive whole number of milliseconds`),
        SOURCE,
      );
    return String(ms);
  };

  return {
    client,
    prefix,

    async claim(key, leaseMs): Promise<Claim> {
      const redisKey = checkKey(key, 'claim');
      const lease = checkMs(leaseMs, minLeaseMs, 'leaseMs', 'claim');
      // Generated here, not in Lua: a claim whose answer is lost can still be released by its token.
      const token = randomBytes(12).toString('base64url');
      let result: unknown;
      try {
        result = await run('claim', redisKey, [token, lease, DONE]);
      } catch (error) {
        if (mayHaveRun((error as StoreError).cause)) rememberOrphan(token, redisKey);
        throw error;
      }
      if (result === 1) return { state: 'claimed', token };
      if (result === 2) return { state: 'done' };
      return { state: 'busy' };
    },

    async commit(key, token, ttlMs) {
      const redisKey = checkKey(key, 'commit');
      const ttl = checkMs(ttlMs, minTtlMs, 'ttlMs', 'commit');
      // A token this store never issued could equal DONE or be empty; it must match nothing.
      if (typeof token !== 'string' || !TOKEN.test(token)) {
        onLostClaim?.(key, 'commit');
        return;
      }
      const result = await run('commit', redisKey, [token, ttl, DONE]);
      if (result === 0) onLostClaim?.(key, 'commit');
    },

    async release(key, token) {
      const redisKey = checkKey(key, 'release');
      if (typeof token !== 'string' || !TOKEN.test(token)) {
        onLostClaim?.(key, 'release');
        return;
      }
      const result = await run('release', redisKey, [token]);
      if (result === 0) onLostClaim?.(key, 'release');
    },

    async renew(key, token, leaseMs) {
      const redisKey = checkKey(key, 'renew');
      const lease = checkMs(leaseMs, minLeaseMs, 'leaseMs', 'renew');
      if (typeof token !== 'string' || !TOKEN.test(token)) {
        onLostClaim?.(key, 'renew');
        return false;
      }
      const held = (await run('renew', redisKey, [token, lease])) === 1;
      if (!held) onLostClaim?.(key, 'renew');
      return held;
    },

    async markDone(key, ttlMs) {
      const redisKey = checkKey(key, 'markDone');
      const ttl = checkMs(ttlMs, minTtlMs, 'ttlMs', 'markDone');
      await run('mark', redisKey, [ttl, DONE]);
    },

    ready(timeoutMs = 5_000) {
      return waitForReady(client, timeoutMs, closed, 'store', SOURCE);
    },

    async close() {
      if (closed) return;
      closed = true;
      client.off('ready', onReady);
      if (orphans.size > 0)
        logger.warn(
          { left: orphans.size },
          `${SOURCE}: closed with ${orphans.size} claims whose answer was lost; those that landed hold their keys until their lease ends`,
        );
      orphans.clear();
      if (!owned || client.status === 'end') return;
      // quit() resolves on Redis's OK, before the socket is gone: wait for 'end' so nothing is left open.
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      if (client.status === 'ready') {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      } else client.disconnect();
      await ended;
    },
  };
}
