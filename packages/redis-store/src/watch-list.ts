import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { ConfigError, StoreError } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { FAIL_FAST_REDIS_OPTIONS, type RedisStore } from './redis-store';
import { evalScript, script, waitForReady } from './scripts';

const SOURCE = '@payhook/redis-store';

export interface RedisWatchListOptions {
  /**
   * A store from `createRedisStore`: the list uses its client and its prefix (and never closes the
   * client). Give `store`, or `client` or `url` with `prefix`.
   */
  store?: Pick<RedisStore, 'client' | 'prefix'>;
  /** An ioredis client (Redis or Cluster) you own, configured with FAIL_FAST_REDIS_OPTIONS. */
  client?: Redis | Cluster;
  /** A Redis URL; the list creates its client (fail-fast settings) and closes it in `close()`. */
  url?: string;
  /** Extra ioredis options for the client created from `url`. */
  redisOptions?: RedisOptions;
  /** Put before the key, as the store's `prefix` (taken from `store` when given). */
  prefix?: string;
  /**
   * Which list, e.g. `lailaolab`: the key is `<prefix>watch-list:<name>`. Every instance that must
   * share the list uses the same prefix and name.
   */
  name: string;
  /** Most entries kept; beyond it, those closest to their expiry are dropped (default 10,000). */
  maxEntries?: number;
  /** Longest a call may take before it rejects (default 1,000 ms). */
  commandTimeoutMs?: number;
}

export interface RedisWatchListAddResult {
  size: number;
  /** Ids dropped to keep within `maxEntries`: those closest to their expiry. */
  dropped: string[];
}

/**
 * A list of ids, each kept until its expiry, shared by every process that names the same key: a
 * sorted set scored by the expiry (milliseconds since the epoch, the writer's clock). Reads drop
 * the entries whose expiry has passed. It stores ids and times only, no token or secret.
 * The Lailaolab socket source takes it as its `watchList`.
 */
export interface RedisWatchList {
  /** The sorted set's key: `<prefix>watch-list:<name>`. */
  readonly key: string;
  readonly client: Redis | Cluster;
  /** Keeps `id` until `expiresAt`; an id already listed gets the new expiry. One Lua script. */
  add(id: string, expiresAt: number): Promise<RedisWatchListAddResult>;
  remove(id: string): Promise<{ removed: boolean; size: number }>;
  /** The ids not yet expired, soonest expiry first; the expired ones are deleted and counted. */
  list(): Promise<{ ids: string[]; expired: number }>;
  /** Resolves once the client is connected; rejects with a StoreError after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the client if the list created it from `url`; a client given (or a store's) stays open. */
  close(): Promise<void>;
}

// KEYS[1] the set; ARGV: id, expiresAt, now, maxEntries. Ends with the key's own expiry set to the
// latest entry's (relative to the writer's now, plus a minute), so an abandoned list goes away.
const ADD = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local size = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[4])
local dropped = {}
if size > max then
  dropped = redis.call('ZRANGE', KEYS[1], 0, size - max - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - max - 1)
  size = max
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  local ttl = tonumber(last[2]) - tonumber(ARGV[3]) + 60000
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
end
return {size, dropped}`;

const REMOVE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
return {removed, redis.call('ZCARD', KEYS[1])}`;

// KEYS[1] the set; ARGV[1] now. An entry whose expiry is now or earlier has ended.
const LIST = `
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return {expired, redis.call('ZRANGE', KEYS[1], 0, -1)}`;

const SCRIPTS = { add: script(ADD), remove: script(REMOVE), list: script(LIST) };

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

function checkId(id: unknown, op: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024)
    throw new StoreError(
      op,
      new TypeError('id must be a non-empty string of at most 1024 characters'),
      SOURCE,
    );
  return id;
}

/**
 * A watch list on Redis (see RedisWatchList), for the entries a process must not forget when it
 * restarts and other instances must see: the Lailaolab source's watched transactions.
 */
export function createRedisWatchList(options: RedisWatchListOptions): RedisWatchList {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'must be an object with store, client or url, and name', {
      source: SOURCE,
    });
  const { store, url } = options;
  const sources = [store, options.client, url].filter((v) => v !== undefined).length;
  if (sources > 1)
    throw new ConfigError('store', '(or client, or url): give only one of them', {
      source: SOURCE,
    });
  if (sources === 0)
    throw new ConfigError('store', 'or client or url is required', { source: SOURCE });
  if (store !== undefined && (!store || !store.client || typeof store.prefix !== 'string'))
    throw new ConfigError('store', 'must come from createRedisStore()', { source: SOURCE });
  if (url !== undefined && (typeof url !== 'string' || url.length === 0))
    throw new ConfigError('url', 'must be a redis:// or rediss:// URL', { source: SOURCE });
  const given = store?.client ?? options.client;
  if (given && typeof (given as Redis).evalsha !== 'function')
    throw new ConfigError('client', 'must be an ioredis Redis or Cluster client', {
      source: SOURCE,
    });
  if (store !== undefined && options.prefix !== undefined && options.prefix !== store.prefix)
    throw new ConfigError('prefix', "is the store's when store is given", { source: SOURCE });
  const prefix = store?.prefix ?? options.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new ConfigError('prefix', 'is required, e.g. "payhook:shop-1:"', { source: SOURCE });
  if (typeof options.name !== 'string' || !NAME.test(options.name))
    throw new ConfigError('name', 'must be 1-100 of [A-Za-z0-9_.:-], e.g. "lailaolab"', {
      source: SOURCE,
    });
  const maxEntries = checkWholeNumber(options.maxEntries, 10_000, 'maxEntries', { source: SOURCE });
  const commandTimeoutMs = checkWholeNumber(options.commandTimeoutMs, 1_000, 'commandTimeoutMs', {
    unit: 'milliseconds',
    source: SOURCE,
  });

  const key = `${prefix}watch-list:${options.name}`;
  const owned = !given;
  const client: Redis | Cluster =
    given ??
    new Redis(url!, {
      ...FAIL_FAST_REDIS_OPTIONS,
      commandTimeout: commandTimeoutMs,
      ...options.redisOptions,
    });
  // An owned client without an error listener prints every reconnect failure; each call reports.
  if (owned) client.on('error', () => undefined);
  let closed = false;

  const run = async (op: keyof typeof SCRIPTS, args: string[]): Promise<unknown> => {
    if (closed) throw new StoreError(`watch list ${op}`, new Error('the list is closed'), SOURCE);
    try {
      return await evalScript(client, SCRIPTS[op], key, args, commandTimeoutMs);
    } catch (cause) {
      throw new StoreError(`watch list ${op}`, cause, SOURCE);
    }
  };

  return {
    key,
    client,

    async add(id, expiresAt) {
      checkId(id, 'watch list add');
      if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt))
        throw new StoreError(
          'watch list add',
          new TypeError('expiresAt must be a whole number of milliseconds since the epoch'),
          SOURCE,
        );
      const [size, dropped] = (await run('add', [
        id,
        String(expiresAt),
        String(Date.now()),
        String(maxEntries),
      ])) as [number, string[]];
      return { size, dropped };
    },

    async remove(id) {
      checkId(id, 'watch list remove');
      const [removed, size] = (await run('remove', [id])) as [number, number];
      return { removed: removed === 1, size };
    },

    async list() {
      const [expired, ids] = (await run('list', [String(Date.now())])) as [number, string[]];
      return { ids, expired };
    },

    ready(timeoutMs = 5_000) {
      return waitForReady(client, timeoutMs, closed, 'watch list', SOURCE);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!owned || client.status === 'end') return;
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
