import type { Cluster, Redis } from 'ioredis';
import { StoreError } from '@payhook/core';
import { evalScript, script } from './scripts';
import { SOURCE, type ResolvedStoreOptions } from './store-options';

/** The value a processed event keeps; a claim holds its token instead (16 base64url characters). */
export const DONE = 'done';

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

/**
 * Claims whose answer never came, token → prefixed key, oldest first (see orphaned-claims.ts),
 * and what the next log line tells: orphans answered for, those of them still held and released,
 * forgotten beyond maxOrphanedClaims.
 */
export interface OrphanedClaims {
  readonly tokens: Map<string, string>;
  /** A release pass is running (releaseOrphans). */
  flushing: boolean;
  settled: number;
  released: number;
  forgotten: number;
}

/** Everything a store's functions share; one per createRedisStore call. */
export interface StoreState {
  readonly options: ResolvedStoreOptions;
  readonly client: Redis | Cluster;
  /** Created from `url`: the store closes it and logs its outages. */
  readonly owned: boolean;
  closed: boolean;
  readonly orphans: OrphanedClaims;
  /**
   * Redis answered (a script call succeeded, or the client is ready again): resume releasing the
   * orphaned claims. Set by createRedisStore, which links this state to orphaned-claims.ts.
   */
  readonly resumeOrphans: () => void;
}

/** Runs one of the store's scripts on `redisKey`; any failure is a StoreError naming `op`. */
export async function runScript(
  state: StoreState,
  op: keyof typeof SCRIPTS,
  redisKey: string,
  args: string[],
  { withSource = false } = {},
): Promise<unknown> {
  if (state.closed) throw new StoreError(op, new Error('the store is closed'), SOURCE);
  const { client, options } = state;
  let result: unknown;
  try {
    result = await evalScript(
      client,
      SCRIPTS[op],
      redisKey,
      args,
      options.commandTimeoutMs,
      withSource,
    );
  } catch (cause) {
    throw new StoreError(op, cause, SOURCE);
  }
  // Redis answers again: release what earlier claims may have left behind.
  if (state.orphans.tokens.size > 0 && !state.orphans.flushing) state.resumeOrphans();
  return result;
}
