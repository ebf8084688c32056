import { createHash, randomBytes } from 'node:crypto';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import {
  ConfigError,
  StoreError,
  silentLogger,
  type Claim,
  type IdempotencyStore,
  type Logger,
} from '@payhook/core';

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
   * Told when a commit or release finds the claim held by someone else: the lease ran out while the
   * listener ran and another delivery may have processed the same event.
   */
  onLostClaim?: (key: string, operation: 'commit' | 'release') => void;
}

export interface RedisStore extends IdempotencyStore {
  /** The ioredis client in use, for health checks. */
  readonly client: Redis | Cluster;
  readonly prefix: string;
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

// The completion marker: done whatever the key held (a completion outranks a probe's claim).
const MARK = `redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) return 1`;

interface Script {
  source: string;
  sha: string;
}
const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});
const SCRIPTS = {
  claim: script(CLAIM),
  commit: script(COMMIT),
  release: script(RELEASE),
  mark: script(MARK),
};

const TOKEN = /^[A-Za-z0-9_-]{16}$/;

function positiveMs(value: number | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new ConfigError(option, 'must be a positive whole number of milliseconds', {
      source: SOURCE,
    });
  return value;
}

/**
 * An IdempotencyStore on Redis, so that several app instances process each payment once:
 * claim is SET NX PX, commit and release are Lua scripts that check the claim's token.
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

  const run = async (op: keyof typeof SCRIPTS, key: string, args: string[]): Promise<unknown> => {
    if (closed) throw new StoreError(op, new Error('the store is closed'), SOURCE);
    const { sha, source } = SCRIPTS[op];
    const call = async (): Promise<unknown> => {
      try {
        return await client.evalsha(sha, 1, key, ...args);
      } catch (error) {
        // A fresh server (restart, failover to a replica) has an empty script cache.
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(source, 1, key, ...args);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    // The client's own settings may queue commands while Redis is away (a client passed in with
    // ioredis defaults): this bound makes every store call settle, so a delivery never hangs.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([call(), timeout]);
    } catch (cause) {
      throw new StoreError(op, cause, SOURCE);
    } finally {
      clearTimeout(timer);
    }
  };

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
      const token = randomBytes(12).toString('base64url');
      const result = await run('claim', redisKey, [token, lease, DONE]);
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

    async markDone(key, ttlMs) {
      const redisKey = checkKey(key, 'markDone');
      const ttl = checkMs(ttlMs, minTtlMs, 'ttlMs', 'markDone');
      await run('mark', redisKey, [ttl, DONE]);
    },

    ready(timeoutMs = 5_000) {
      if (client.status === 'ready') return Promise.resolve();
      if (closed || client.status === 'end')
        return Promise.reject(new StoreError('connect', new Error('the store is closed'), SOURCE));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(
            new StoreError(
              'connect',
              new Error(`Redis was not ready within ${timeoutMs} ms`),
              SOURCE,
            ),
          );
        }, timeoutMs);
        const onReady = (): void => {
          clearTimeout(timer);
          resolve();
        };
        client.once('ready', onReady);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
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
