import { randomBytes } from 'node:crypto';
import { StoreError, type Claim } from '@payhook/core';
import { rememberOrphan } from './orphaned-claims';
import { SOURCE } from './store-options';
import { DONE, runScript, type StoreState } from './store-state';

const TOKEN = /^[A-Za-z0-9_-]{16}$/;

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

function checkKey(state: StoreState, key: unknown, op: string): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new StoreError(op, new TypeError('key must be a non-empty string'), SOURCE);
  return state.options.prefix + key;
}

/** The caller's duration or the store's floor, whichever is longer, as Redis takes it. */
function checkMs(value: unknown, floor: number, name: string, op: string): string {
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
}

/** A token this store never issued could equal DONE or be empty; it must match nothing. */
function isOurToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN.test(token);
}

export async function claimKey(state: StoreState, key: string, leaseMs: number): Promise<Claim> {
  const redisKey = checkKey(state, key, 'claim');
  const lease = checkMs(leaseMs, state.options.minLeaseMs, 'leaseMs', 'claim');
  // Generated here, not in Lua: a claim whose answer is lost can still be released by its token.
  const token = randomBytes(12).toString('base64url');
  let result: unknown;
  try {
    result = await runScript(state, 'claim', redisKey, [token, lease, DONE]);
  } catch (error) {
    if (mayHaveRun((error as StoreError).cause)) rememberOrphan(state, token, redisKey);
    throw error;
  }
  if (result === 1) return { state: 'claimed', token };
  if (result === 2) return { state: 'done' };
  return { state: 'busy' };
}

/**
 * Runs one of the token-checked scripts. A token this store never issued, or an answer saying
 * another holder (or nobody, for renew) has the key, is a lost claim: onLostClaim hears it, and
 * the result is false.
 */
async function runHeld(
  state: StoreState,
  op: 'commit' | 'release' | 'renew',
  key: string,
  redisKey: string,
  token: unknown,
  args: string[],
): Promise<boolean> {
  const { onLostClaim } = state.options;
  if (!isOurToken(token)) {
    onLostClaim?.(key, op);
    return false;
  }
  const result = await runScript(state, op, redisKey, [token, ...args]);
  // commit and release also succeed on 2 (already done, already gone); renew only while held.
  const held = op === 'renew' ? result === 1 : result !== 0;
  if (!held) onLostClaim?.(key, op);
  return held;
}

export async function commitClaim(
  state: StoreState,
  key: string,
  token: string,
  ttlMs: number,
): Promise<void> {
  const redisKey = checkKey(state, key, 'commit');
  const ttl = checkMs(ttlMs, state.options.minTtlMs, 'ttlMs', 'commit');
  await runHeld(state, 'commit', key, redisKey, token, [ttl, DONE]);
}

export async function releaseClaim(state: StoreState, key: string, token: string): Promise<void> {
  await runHeld(state, 'release', key, checkKey(state, key, 'release'), token, []);
}

export async function renewClaim(
  state: StoreState,
  key: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const redisKey = checkKey(state, key, 'renew');
  const lease = checkMs(leaseMs, state.options.minLeaseMs, 'leaseMs', 'renew');
  return runHeld(state, 'renew', key, redisKey, token, [lease]);
}

export async function markKeyDone(state: StoreState, key: string, ttlMs: number): Promise<void> {
  const redisKey = checkKey(state, key, 'markDone');
  const ttl = checkMs(ttlMs, state.options.minTtlMs, 'ttlMs', 'markDone');
  await runScript(state, 'mark', redisKey, [ttl, DONE]);
}
