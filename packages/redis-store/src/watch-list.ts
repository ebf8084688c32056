import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ConfigError, StoreError } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { closeOwnedClient, createOwnedClient } from './client';
import { checkConnection, LIST_NAME, listPrefix } from './list-options';
import type { RedisStore } from './redis-store';
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
  /**
   * Whether `id` is listed and not expired: one ZSCORE, where `list()` reads every entry. The
   * Lailaolab webhook asks it for each notice it would spend a status query on.
   */
  has(id: string): Promise<boolean>;
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

// KEYS[1] the set; ARGV: id, now. One entry's score: no need to read the whole list.
const HAS = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[2]) then return 1 end
return 0`;

const SCRIPTS = {
  add: script(ADD),
  remove: script(REMOVE),
  list: script(LIST),
  has: script(HAS),
};

function checkId(id: unknown, op: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024)
    throw new StoreError(
      op,
      new TypeError('id must be a non-empty string of at most 1024 characters'),
      SOURCE,
    );
  return id;
}

/** RedisWatchListOptions checked, with their defaults. */
interface ResolvedWatchListOptions {
  readonly given: Redis | Cluster | undefined;
  readonly url: string | undefined;
  readonly redisOptions: RedisOptions | undefined;
  readonly key: string;
  readonly maxEntries: number;
  readonly commandTimeoutMs: number;
}

/** The sorted set's key, from the store's prefix (or `prefix`) and `name`. */
function watchListKey(options: RedisWatchListOptions): string {
  const prefix = listPrefix(options, SOURCE);
  if (typeof options.name !== 'string' || !LIST_NAME.test(options.name))
    throw new ConfigError('name', 'must be 1-100 of [A-Za-z0-9_.:-], e.g. "lailaolab"', {
      source: SOURCE,
    });
  return `${prefix}watch-list:${options.name}`;
}

/** Checks every option at construction (a ConfigError names the first wrong one). */
function resolveWatchListOptions(options: RedisWatchListOptions): ResolvedWatchListOptions {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'must be an object with store, client or url, and name', {
      source: SOURCE,
    });
  checkConnection(options, SOURCE);
  const key = watchListKey(options);
  const maxEntries = checkWholeNumber(options.maxEntries, 10_000, 'maxEntries', { source: SOURCE });
  const commandTimeoutMs = checkWholeNumber(options.commandTimeoutMs, 1_000, 'commandTimeoutMs', {
    unit: 'milliseconds',
    source: SOURCE,
  });
  const given = options.store?.client ?? options.client;
  return {
    given,
    url: options.url,
    redisOptions: options.redisOptions,
    key,
    maxEntries,
    commandTimeoutMs,
  };
}

/** What a watch list's functions share. */
interface WatchListState {
  readonly options: ResolvedWatchListOptions;
  readonly client: Redis | Cluster;
  /** Created from `url`: the list closes it. */
  readonly owned: boolean;
  closed: boolean;
}

async function runScript(
  state: WatchListState,
  op: keyof typeof SCRIPTS,
  args: string[],
): Promise<unknown> {
  if (state.closed)
    throw new StoreError(`watch list ${op}`, new Error('the list is closed'), SOURCE);
  const { key, commandTimeoutMs } = state.options;
  try {
    return await evalScript(state.client, SCRIPTS[op], key, args, commandTimeoutMs);
  } catch (cause) {
    throw new StoreError(`watch list ${op}`, cause, SOURCE);
  }
}

async function addEntry(
  state: WatchListState,
  id: string,
  expiresAt: number,
): Promise<RedisWatchListAddResult> {
  checkId(id, 'watch list add');
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt))
    throw new StoreError(
      'watch list add',
      new TypeError('expiresAt must be a whole number of milliseconds since the epoch'),
      SOURCE,
    );
  const args = [id, String(expiresAt), String(Date.now()), String(state.options.maxEntries)];
  const [size, dropped] = (await runScript(state, 'add', args)) as [number, string[]];
  return { size, dropped };
}

async function removeEntry(
  state: WatchListState,
  id: string,
): Promise<{ removed: boolean; size: number }> {
  checkId(id, 'watch list remove');
  const [removed, size] = (await runScript(state, 'remove', [id])) as [number, number];
  return { removed: removed === 1, size };
}

async function listEntries(state: WatchListState): Promise<{ ids: string[]; expired: number }> {
  const [expired, ids] = (await runScript(state, 'list', [String(Date.now())])) as [
    number,
    string[],
  ];
  return { ids, expired };
}

async function hasEntry(state: WatchListState, id: string): Promise<boolean> {
  checkId(id, 'watch list has');
  return (await runScript(state, 'has', [id, String(Date.now())])) === 1;
}

async function closeWatchList(state: WatchListState): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  if (state.owned) await closeOwnedClient(state.client);
}

/**
 * A watch list on Redis (see RedisWatchList), for the entries a process must not forget when it
 * restarts and other instances must see: the Lailaolab source's watched transactions.
 */
export function createRedisWatchList(options: RedisWatchListOptions): RedisWatchList {
  const resolved = resolveWatchListOptions(options);
  const { given, url, commandTimeoutMs, redisOptions } = resolved;
  const state: WatchListState = {
    options: resolved,
    client: given ?? createOwnedClient(url!, commandTimeoutMs, redisOptions),
    owned: !given,
    closed: false,
  };
  const { client } = state;
  // An owned client without an error listener prints every reconnect failure; each call reports.
  if (state.owned) client.on('error', () => undefined);
  return {
    key: resolved.key,
    client,
    add: (id, expiresAt) => addEntry(state, id, expiresAt),
    remove: (id) => removeEntry(state, id),
    list: () => listEntries(state),
    has: (id) => hasEntry(state, id),
    ready: (timeoutMs = 5_000) =>
      waitForReady(client, timeoutMs, state.closed, 'watch list', SOURCE),
    close: () => closeWatchList(state),
  };
}
