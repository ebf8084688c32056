import { isPaymentMode, type PaymentMode } from './events';
import { ModeMismatchError, ProviderConfigError } from './errors';

/**
 * Test and live mode. A gateway gives a merchant two environments, each with its own keys; the
 * money is real only in one. Each verification key has a mode (the mount's own unless the merchant
 * tags it), the mount has a mode (live unless told), and the pipeline refuses a delivery whose
 * key's mode is not the mount's: a sandbox notification can never complete a real order. A live
 * mount may opt in to test deliveries (`allowTestMode`), which then reach listeners with
 * `event.mode === 'test'` and ids of their own.
 */

/** A key as a merchant gives it: the key alone (the mount's mode) or tagged with its mode. */
export type ModeKey<Key> = Key | { readonly key: Key; readonly mode: PaymentMode };

/** The mode settings of one mount, as a plugin reads them from its options. */
export interface MountModeOptions {
  /** What this endpoint receives: `live` money (the default) or the gateway's `test` environment. */
  mode?: PaymentMode;
  /** A live mount that also accepts test-mode deliveries, as `mode: 'test'` events. Default false. */
  allowTestMode?: boolean;
}

const isTagged = (entry: unknown): entry is { key: unknown; mode: unknown } =>
  entry !== null &&
  typeof entry === 'object' &&
  !Buffer.isBuffer(entry) &&
  Object.hasOwn(entry, 'mode') &&
  Object.hasOwn(entry, 'key');

/**
 * Splits a key list into the keys (for verify, in the same order) and each one's mode: a tagged
 * entry `{ key, mode }` its own, a bare key the mount's `mode` (default live). The index verify
 * reports (`verified(payload, { keyIndex })`) then names both. Throws a ProviderConfigError
 * naming `option[i].mode` for a mode that is neither `live` nor `test`, and `option[i]` for a key
 * the mount would refuse every delivery of (the rule of checkModes, told in the merchant's words:
 * `keyModes[i]` is a name the merchant never wrote).
 *
 * @example const { keys, modes } = splitKeyModes(options.secrets, options, 'secrets', SOURCE)
 */
export function splitKeyModes<Key>(
  entries: readonly ModeKey<Key>[],
  mount: MountModeOptions,
  option: string,
  source?: string,
): { keys: Key[]; modes: PaymentMode[] } {
  const fallback = mount.mode ?? 'live';
  const keys: Key[] = [];
  const modes: PaymentMode[] = [];
  entries.forEach((entry, i) => {
    if (!isTagged(entry)) {
      keys.push(entry as Key);
      modes.push(fallback);
      return;
    }
    if (!isPaymentMode(entry.mode))
      throw new ProviderConfigError(`${option}[${i}].mode`, `must be 'live' or 'test'`, { source });
    const refusal = keyRefusal(mount, entry.mode as PaymentMode);
    if (refusal) throw new ProviderConfigError(`${option}[${i}]`, refusal, { source });
    keys.push(entry.key as Key);
    modes.push(entry.mode as PaymentMode);
  });
  return { keys, modes };
}

/**
 * Why a mount refuses every delivery verified by a key of `mode`, or null. A mount whose own
 * settings are bad gets null: checkModes names `mode` or `allowTestMode`, the actual mistake.
 */
function keyRefusal(
  mount: { mode?: unknown; allowTestMode?: unknown },
  mode: PaymentMode,
): string | null {
  const mountMode = mount.mode ?? 'live';
  const allow = mount.allowTestMode;
  if (!isPaymentMode(mountMode)) return null;
  if (allow !== undefined && typeof allow !== 'boolean') return null;
  if (mode === 'test' && mountMode === 'live' && allow !== true)
    return 'is a test key on a live mount, whose deliveries would all be refused: remove it, mount it with mode: test, or set allowTestMode: true';
  if (mode === 'live' && mountMode === 'test')
    return 'is a live key on a test mount: live payments belong on a live mount';
  return null;
}

/** The checked mode settings of a provider definition (see ProviderDefinition.mode). */
export interface CheckedModes {
  mode: PaymentMode;
  allowTestMode: boolean;
  keyModes: readonly PaymentMode[] | undefined;
}

/**
 * Checks a definition's `mode`, `allowTestMode` and `keyModes` at construction: a key whose
 * deliveries the mount would refuse every time is a configuration mistake (a test secret pasted
 * into a live mount's list is exactly how test events used to mix with live ones), so it is an
 * error here rather than a 403 at the first delivery.
 */
export function checkModes(
  given: { mode?: unknown; allowTestMode?: unknown; keyModes?: unknown },
  fail: (option: string, problem: string) => never,
): CheckedModes {
  const mode = given.mode ?? 'live';
  if (!isPaymentMode(mode)) fail('mode', `must be 'live' or 'test'`);
  if (given.allowTestMode !== undefined && typeof given.allowTestMode !== 'boolean')
    fail('allowTestMode', 'must be a boolean when given');
  const allowTestMode = given.allowTestMode === true;
  if (allowTestMode && mode === 'test')
    fail('allowTestMode', 'is for a live mount: a test mount takes test deliveries already');
  const keyModes = given.keyModes;
  if (keyModes === undefined) return { mode: mode as PaymentMode, allowTestMode, keyModes };
  if (!Array.isArray(keyModes)) return fail('keyModes', `must be a list of 'live' or 'test'`);
  keyModes.forEach((m: unknown, i) => {
    if (!isPaymentMode(m)) fail(`keyModes[${i}]`, `must be 'live' or 'test'`);
    const refusal = keyRefusal({ mode, allowTestMode }, m as PaymentMode);
    if (refusal) fail(`keyModes[${i}]`, refusal);
  });
  return { mode: mode as PaymentMode, allowTestMode, keyModes: Object.freeze([...keyModes]) };
}

/**
 * The mode of one verified delivery: what verify said (`verified(payload, { mode })`, for a
 * gateway whose signature itself says test or live), else the matching key's, else the mount's.
 * A ModeMismatchError when the mount does not take that mode.
 */
export function deliveryMode(
  provider: {
    readonly mode?: PaymentMode;
    readonly allowTestMode?: boolean;
    readonly keyModes?: readonly PaymentMode[];
    readonly source: string;
  },
  said: { keyIndex?: number; mode?: PaymentMode },
): PaymentMode {
  const mount = provider.mode ?? 'live';
  if (said.mode !== undefined && !isPaymentMode(said.mode))
    throw new TypeError(`verify said mode ${String(said.mode)}: must be 'live' or 'test'`);
  const mode = said.mode ?? keyMode(provider.keyModes, said.keyIndex);
  const resolved = mode ?? mount;
  if (resolved === mount) return resolved;
  if (resolved === 'test' && provider.allowTestMode === true) return resolved;
  throw new ModeMismatchError(resolved, mount, provider.source);
}

/**
 * The mode of the key verify named, from keyModes (undefined without keyModes: the mount's). Keys
 * all of one mode need no index: verify may return the bare payload (one key, or a rotation of
 * sandbox keys), and their mode still counts. An index no key has, or none when the keys differ,
 * leaves the mode unknown: a TypeError (401), never the mount's mode, which on a live mount that
 * allows test mode would make a sandbox-signed delivery a live payment.
 */
function keyMode(
  keyModes: readonly PaymentMode[] | undefined,
  keyIndex: number | undefined,
): PaymentMode | undefined {
  if (keyModes === undefined || keyModes.length === 0) return undefined;
  if (keyIndex === undefined) {
    if (keyModes.every((m) => m === keyModes[0])) return keyModes[0];
    throw new TypeError('verify named no key (keyIndex), and the keys have different modes');
  }
  if (!Number.isInteger(keyIndex) || keyIndex < 0 || keyIndex >= keyModes.length)
    throw new TypeError(`verify named key ${String(keyIndex)}: no such key (keyModes)`);
  return keyModes[keyIndex];
}

/**
 * A gateway's key (a draft id, a transaction id) in its mode, for event ids and completion markers:
 * `test:<key>` in test mode. A live key is kept as it is, except one that starts with `test:` or
 * `live:`, which gets `live:` in front: a key is the gateway's text, and without that a live
 * transaction `test:A1` would have the id of the sandbox transaction `A1` (a live payment dropped
 * as a duplicate, or its failure superseded by a sandbox completion). No key of the four shipped
 * gateways starts with either, so their live ids are unchanged.
 */
export function modeKey(mode: PaymentMode | undefined, key: string): string {
  if (mode === 'test') return `test:${key}`;
  return key.startsWith('test:') || key.startsWith('live:') ? `live:${key}` : key;
}
