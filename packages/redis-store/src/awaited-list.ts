import type { Cluster, Redis, RedisOptions } from 'ioredis';
import {
  AWAITED_STATES,
  AwaitedListFullError,
  ConfigError,
  SETTLED_BY,
  StoreError,
  awaitedKey,
  type AwaitedCounts,
  type AwaitedLease,
  type AwaitedList,
  type AwaitedListFilter,
  type AwaitedMatch,
  type AwaitedPayment,
  type AwaitedReschedule,
  type AwaitedSettlement,
  type AwaitedState,
  type NewAwaitedPayment,
  type SettledBy,
} from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { AWAITED_KEY_PARTS, AWAITED_SCRIPTS, type AwaitedKeyPart } from './awaited-scripts';
import { closeOwnedClient, createOwnedClient } from './client';
import { checkConnection, LIST_NAME, listPrefix } from './list-options';
import type { RedisStore } from './redis-store';
import { evalScript, waitForReady } from './scripts';

const SOURCE = '@payhook/redis-store';

export interface RedisAwaitedListOptions {
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
  /** Put before the keys, as the store's `prefix` (taken from `store` when given). */
  prefix?: string;
  /**
   * Which list (default `awaited`): the keys are `{<prefix>awaited:<name>}:<part>`. Every instance
   * that must share the list uses the same prefix and name.
   */
  name?: string;
  /** Most payments awaiting at once; one more is refused (ERR_AWAITED_FULL), none dropped (default 100,000). */
  maxEntries?: number;
  /** Longest a call may take before it rejects (default 1,000 ms). */
  commandTimeoutMs?: number;
}

/**
 * An AwaitedList on Redis, shared by every instance that names the same prefix and name and kept
 * across restarts: each call is one Lua script over keys in one hash slot. No key has a TTL: an
 * awaiting entry stays until settled or made overdue, and `purge` deletes ended ones.
 */
export interface RedisAwaitedList extends AwaitedList {
  /** Every key of the list, `{<prefix>awaited:<name>}:<part>`. */
  readonly keys: Readonly<Record<AwaitedKeyPart, string>>;
  readonly client: Redis | Cluster;
  /** Resolves once the client is connected; rejects with a StoreError after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the client if the list created it from `url`; a client given (or a store's) stays open. */
  close(): Promise<void>;
}

/** RedisAwaitedListOptions checked, with their defaults. */
interface ResolvedAwaitedOptions {
  readonly given: Redis | Cluster | undefined;
  readonly url: string | undefined;
  readonly redisOptions: RedisOptions | undefined;
  readonly keys: Readonly<Record<AwaitedKeyPart, string>>;
  /** The same keys in the scripts' KEYS order. */
  readonly keyList: readonly string[];
  readonly maxEntries: number;
  readonly commandTimeoutMs: number;
}

interface AwaitedListState {
  readonly options: ResolvedAwaitedOptions;
  readonly client: Redis | Cluster;
  /** Created from `url`: the list closes it. */
  readonly owned: boolean;
  closed: boolean;
}

/** What Redis holds per entry: numbers as integer strings, and the lease nobody else sees. */
interface StoredEntry extends Omit<
  AwaitedPayment,
  'until' | 'createdAt' | 'checks' | 'nextCheckAt' | 'settledAt'
> {
  until: string;
  createdAt: string;
  checks: string;
  nextCheckAt: string;
  settledAt: string | null;
  leaseOwner: string | null;
  leaseUntil: string;
}

/** Every key shares the hash tag `{<prefix>awaited:<name>}`: one slot, so one script on a Cluster. */
function awaitedKeys(options: RedisAwaitedListOptions): Record<AwaitedKeyPart, string> {
  const prefix = listPrefix(options, SOURCE);
  const name = options.name ?? 'awaited';
  if (typeof name !== 'string' || !LIST_NAME.test(name))
    throw new ConfigError('name', 'must be 1-100 of [A-Za-z0-9_.:-], e.g. "awaited"', {
      source: SOURCE,
    });
  const tag = `{${prefix}awaited:${name}}`;
  const keys = {} as Record<AwaitedKeyPart, string>;
  for (const part of AWAITED_KEY_PARTS) keys[part] = `${tag}:${part}`;
  return keys;
}

/** Checks every option at construction (a ConfigError names the first wrong one). */
function resolveAwaitedOptions(options: RedisAwaitedListOptions): ResolvedAwaitedOptions {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'must be an object with store, client or url', {
      source: SOURCE,
    });
  checkConnection(options, SOURCE);
  const keys = awaitedKeys(options);
  const maxEntries = checkWholeNumber(options.maxEntries, 100_000, 'maxEntries', {
    source: SOURCE,
  });
  const commandTimeoutMs = checkWholeNumber(options.commandTimeoutMs, 1_000, 'commandTimeoutMs', {
    unit: 'milliseconds',
    source: SOURCE,
  });
  return {
    given: options.store?.client ?? options.client,
    url: options.url,
    redisOptions: options.redisOptions,
    keys: Object.freeze(keys),
    keyList: AWAITED_KEY_PARTS.map((part) => keys[part]),
    maxEntries,
    commandTimeoutMs,
  };
}

// Arguments are checked before Redis sees them: a script would store whatever it is given, and a
// 1.5 or NaN time would then break every later comparison.
const refused = (op: string, message: string): StoreError =>
  new StoreError(`awaited list ${op}`, new TypeError(message), SOURCE);

/** A whole number (of milliseconds, or a count) as the integer string Redis keeps. */
function whole(op: string, value: unknown, name: string, min = -Infinity): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw refused(op, `${name} must be a whole number${min === 0 ? ' (0 or more)' : ''}`);
  return String(value);
}

function text(op: string, value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw refused(op, `${name} must be a non-empty string`);
  return value;
}

function textOrNull(op: string, value: unknown, name: string): string | null {
  return value === null ? null : text(op, value, name);
}

/** The new entry as Redis keeps it, checked: what core's memory list would fill in, filled in. */
function toStored(entry: NewAwaitedPayment): StoredEntry {
  if (!entry || typeof entry !== 'object') throw refused('add', 'the entry must be an object');
  if (typeof entry.allowOlderThanMaxAge !== 'boolean')
    throw refused('add', 'allowOlderThanMaxAge must be a boolean');
  return {
    key: text('add', entry.key, 'key'),
    provider: text('add', entry.provider, 'provider'),
    orderId: textOrNull('add', entry.orderId, 'orderId'),
    reference: textOrNull('add', entry.reference, 'reference'),
    until: whole('add', entry.until, 'until'),
    createdAt: whole('add', entry.createdAt, 'createdAt'),
    state: 'awaiting',
    checks: '0',
    nextCheckAt: whole('add', entry.nextCheckAt, 'nextCheckAt'),
    lastResult: null,
    settledAt: null,
    settledBy: null,
    eventId: null,
    allowOlderThanMaxAge: entry.allowOlderThanMaxAge,
    leaseOwner: null,
    leaseUntil: '0',
  };
}

/** An entry as a caller sees it: numbers again, no lease. */
function fromStored(raw: string): AwaitedPayment {
  const { leaseOwner: _owner, leaseUntil: _until, ...s } = JSON.parse(raw) as StoredEntry;
  return {
    ...s,
    until: Number(s.until),
    createdAt: Number(s.createdAt),
    checks: Number(s.checks),
    nextCheckAt: Number(s.nextCheckAt),
    settledAt: s.settledAt === null ? null : Number(s.settledAt),
  };
}

async function run(
  state: AwaitedListState,
  op: keyof typeof AWAITED_SCRIPTS,
  args: string[],
): Promise<unknown> {
  if (state.closed)
    throw new StoreError(`awaited list ${op}`, new Error('the list is closed'), SOURCE);
  const { keyList, commandTimeoutMs } = state.options;
  try {
    return await evalScript(state.client, AWAITED_SCRIPTS[op], keyList, args, commandTimeoutMs);
  } catch (cause) {
    throw new StoreError(`awaited list ${op}`, cause, SOURCE);
  }
}

/** The nil reply of a script ("nothing changed") or one entry. */
const entryOrNull = (reply: unknown): AwaitedPayment | null =>
  typeof reply === 'string' ? fromStored(reply) : null;

async function add(state: AwaitedListState, entry: NewAwaitedPayment): Promise<AwaitedPayment> {
  const stored = toStored(entry);
  const { maxEntries } = state.options;
  // Scored by -createdAt so that ZRANGE lists newest first, ties in key order as core's list does.
  const args = [JSON.stringify(stored), String(maxEntries), String(-Number(stored.createdAt))];
  const [added, raw] = (await run(state, 'add', args)) as [number, string?];
  if (added === 0) throw new AwaitedListFullError(maxEntries, SOURCE);
  return fromStored(raw!);
}

async function settle(
  state: AwaitedListState,
  match: AwaitedMatch,
  settlement: AwaitedSettlement,
): Promise<AwaitedPayment | null> {
  const provider = text('settle', match?.provider, 'provider');
  const orderId = textOrNull('settle', match.orderId, 'orderId');
  const reference = textOrNull('settle', match.reference, 'reference');
  if (!SETTLED_BY.includes(settlement?.by as SettledBy))
    throw refused('settle', `by must be one of ${SETTLED_BY.join(', ')}`);
  const args = [
    orderId === null ? '' : awaitedKey(provider, { orderId }),
    reference === null ? '' : awaitedKey(provider, { reference }),
    reference === null ? '' : `${provider}\u0000${reference}`,
    whole('settle', settlement.at, 'at'),
    settlement.by,
    text('settle', settlement.eventId, 'eventId'),
  ];
  return entryOrNull(await run(state, 'settle', args));
}

async function lease(state: AwaitedListState, request: AwaitedLease): Promise<AwaitedPayment[]> {
  const owner = text('lease', request?.owner, 'owner');
  const now = whole('lease', request.now, 'now');
  whole('lease', request.leaseMs, 'leaseMs', 0);
  const until = whole('lease', request.now + request.leaseMs, 'now + leaseMs');
  const limit = whole('lease', request.limit, 'limit', 0);
  if (limit === '0') return [];
  const dueBy = request.dueBy === undefined ? now : whole('lease', request.dueBy, 'dueBy');
  const provider =
    request.provider === undefined ? '' : text('lease', request.provider, 'provider');
  const args = [now, until, owner, limit, dueBy, provider];
  return ((await run(state, 'lease', args)) as string[]).map(fromStored);
}

async function reschedule(
  state: AwaitedListState,
  key: string,
  owner: string,
  next: AwaitedReschedule,
): Promise<boolean> {
  const args = [
    text('reschedule', key, 'key'),
    text('reschedule', owner, 'owner'),
    whole('reschedule', next?.nextCheckAt, 'nextCheckAt'),
    whole('reschedule', next.checks, 'checks', 0),
    JSON.stringify(textOrNull('reschedule', next.lastResult, 'lastResult')),
  ];
  return (await run(state, 'reschedule', args)) === 1;
}

async function expire(
  state: AwaitedListState,
  key: string,
  at: number,
  lastResult: string | null,
): Promise<AwaitedPayment | null> {
  // `at` is checked but not kept: an overdue entry ends at its `until`, as in core's memory list.
  whole('expire', at, 'at');
  const args = [
    text('expire', key, 'key'),
    JSON.stringify(textOrNull('expire', lastResult, 'lastResult')),
  ];
  return entryOrNull(await run(state, 'expire', args));
}

async function get(state: AwaitedListState, key: string): Promise<AwaitedPayment | null> {
  return entryOrNull(await run(state, 'get', [text('get', key, 'key')]));
}

/** Entries one list script reads at most (about 8 ms of Redis with a provider filter). */
const LIST_BUDGET = 500;

/**
 * Newest first, in scripts of LIST_BUDGET entries each: a filter that matches few of many entries
 * reads them all, and one script doing that would hold Redis (and every webhook) for seconds.
 * Pages are read at different moments: an entry that changes meanwhile is shown as it was read.
 */
async function list(
  state: AwaitedListState,
  filter: AwaitedListFilter = {},
): Promise<AwaitedPayment[]> {
  const { state: wanted, provider } = filter ?? {};
  if (wanted !== undefined && !AWAITED_STATES.includes(wanted as AwaitedState))
    throw refused('list', `state must be one of ${AWAITED_STATES.join(', ')}`);
  const match = [wanted ?? '', provider === undefined ? '' : text('list', provider, 'provider')];
  const limit = Number(whole('list', filter?.limit ?? 100, 'limit', 0));
  const found = new Map<string, AwaitedPayment>();
  let cursor = ['', ''];
  while (found.size < limit) {
    const args = [...match, String(limit - found.size), String(LIST_BUDGET), ...cursor];
    const reply = (await run(state, 'list', args)) as [string[], string, string, number];
    const [raws, key, score, done] = reply;
    for (const raw of raws) {
      const entry = fromStored(raw);
      if (!found.has(entry.key)) found.set(entry.key, entry);
    }
    if (done === 1) break;
    cursor = [key, score];
  }
  return [...found.values()].slice(0, limit);
}

async function counts(state: AwaitedListState, now: number): Promise<AwaitedCounts> {
  const reply = await run(state, 'counts', [whole('counts', now, 'now')]);
  const [awaiting, overdue, settled] = reply as [number, number, number];
  return { awaiting, overdue, settled };
}

/** Entries one purge script deletes at most: a large purge is many short scripts, not one long one. */
const PURGE_BATCH = 500;

async function purge(state: AwaitedListState, before: number): Promise<number> {
  const cutoff = whole('purge', before, 'before');
  let purged = 0;
  for (;;) {
    const batch = (await run(state, 'purge', [cutoff, String(PURGE_BATCH)])) as number;
    purged += batch;
    if (batch < PURGE_BATCH) return purged;
  }
}

async function closeAwaitedList(state: AwaitedListState): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  if (state.owned) await closeOwnedClient(state.client);
}

/**
 * The awaited-payment list on Redis (see RedisAwaitedList): give it to the hub as `awaited` so that
 * every instance sees the payments any of them awaits, and a restart forgets none.
 */
export function createRedisAwaitedList(options: RedisAwaitedListOptions): RedisAwaitedList {
  const resolved = resolveAwaitedOptions(options);
  const { given, url, commandTimeoutMs, redisOptions } = resolved;
  const state: AwaitedListState = {
    options: resolved,
    client: given ?? createOwnedClient(url!, commandTimeoutMs, redisOptions),
    owned: !given,
    closed: false,
  };
  const { client } = state;
  // An owned client without an error listener prints every reconnect failure; each call reports.
  if (state.owned) client.on('error', () => undefined);
  return {
    keys: resolved.keys,
    client,
    add: (entry) => add(state, entry),
    settle: (match, settlement) => settle(state, match, settlement),
    lease: (request) => lease(state, request),
    reschedule: (key, owner, next) => reschedule(state, key, owner, next),
    expire: (key, at, lastResult) => expire(state, key, at, lastResult),
    get: (key) => get(state, key),
    list: (filter) => list(state, filter),
    counts: (now) => counts(state, now),
    purge: (before) => purge(state, before),
    ready: (timeoutMs = 5_000) =>
      waitForReady(client, timeoutMs, state.closed, 'awaited list', SOURCE),
    close: () => closeAwaitedList(state),
  };
}
