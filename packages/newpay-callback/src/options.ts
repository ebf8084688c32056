import type { KeyObject } from 'node:crypto';
import {
  assertTimeZone,
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  loadPrivateKey,
  loadPublicKeys,
  optionFailer,
  isPaymentMode,
  resolveMaxAge,
  splitKeyModes,
  warnDeprecatedOption,
  type KeyInput,
  type Logger,
  type ModeKey,
  type MountModeOptions,
  type OptionFailer,
  type PaymentMode,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import { SOURCE } from './schema';
import type { EmptyValueReading, NestedKeyOrder } from './signing';
import type { CallbackVerifierConfig } from './verify';

/** NewPay writes Lao wall time: its callbacks' times are read in this zone unless told otherwise. */
export const DEFAULT_TIME_ZONE = 'Asia/Vientiane';
export const DEFAULT_QUERY_BASE_URL = 'https://prod-openapi-v2.newpay.la/beta/pay';

/**
 * The status API (v2 uniQueryPay): `statusQuery` enables `fetchStatus`. Its credentials and URL
 * belong to the mount's mode (`mode`): a live mount asks NewPay's live environment with the live
 * merchant key, a `mode: 'test'` mount the sandbox with the sandbox key.
 */
export interface NewpayStatusQueryOptions {
  /** Your merchant id (`mchId`), sent with every query. */
  mchId: string;
  /** Your merchant private key (PEM or Base64 DER): signs the query. */
  merchantPrivateKey: KeyInput;
  /** Default https://prod-openapi-v2.newpay.la/beta/pay (the query goes to `${baseUrl}/uniQueryPay`). */
  baseUrl?: string;
  /** Default 10,000 ms. */
  timeoutMs?: number;
}

/** @deprecated The old name of {@link NewpayStatusQueryOptions}. */
export type NewpayQueryOptions = NewpayStatusQueryOptions;

export interface NewpayProviderOptions extends MountModeOptions {
  /**
   * NewPay's platform public key (PEM or bare Base64 DER): verifies callbacks and query answers.
   * During a key rotation, give the old and the new key as an array: they are tried in order and
   * each event then carries `keyIndex`, the index of the key that verified it. An entry of the
   * array may be `{ key, mode: 'test' }` (the sandbox's key); a bare key has the mount's `mode`.
   */
  platformPublicKey: KeyInput | readonly ModeKey<KeyInput>[];
  /**
   * Your appId. Required: NewPay signs every merchant's callbacks with the same platform key, so a
   * genuine callback for another app would otherwise verify here.
   */
  appId: string | number;
  /** Zone used to write `occurredAt` (default Asia/Vientiane, UTC+7). */
  timeZone?: string;
  /**
   * Oldest signed time accepted, in ms before the callback is received (default 24 h): v1
   * `timestamp`, v2 `data.paytime`. Older is refused with 401 ERR_DELIVERY_STALE. The hub's
   * `retentionMs` must be longer (checked at mount), so a replay is refused by its age once the
   * store has forgotten it.
   */
  maxAgeMs?: number;
  /** How far a signed time may be ahead of this server's clock, in ms (default 5 minutes). */
  clockSkewMs?: number;
  /** Which empty-value reading verifies (default `either`). Pin it once NewPay confirms one. */
  emptyValues?: EmptyValueReading | 'either';
  /** Key order of nested objects in the sign string (default `either`). */
  nestedKeys?: NestedKeyOrder | 'either';
  /** Enables `fetchStatus` (v2 uniQueryPay): `{ mchId, merchantPrivateKey, baseUrl?, timeoutMs? }`. */
  statusQuery?: NewpayStatusQueryOptions;
  /**
   * @deprecated The old name of `statusQuery`: still accepted, with a one-time warning. Giving
   * both is a ProviderConfigError.
   */
  query?: NewpayStatusQueryOptions;
}

/** The provider's options plus the adapter's (`limit`, `onResult`). */
export interface NewpayMiddlewareOptions extends NewpayProviderOptions, WebhookMiddlewareOptions {}

/** The query options, checked: what `createFetchStatus` needs besides the verifier. */
export interface ResolvedQuery {
  mchId: string;
  merchantPrivateKey: KeyObject;
  baseUrl: string;
  timeoutMs: number;
}

/** Every option, checked at construction: a bad setting stops the app at boot. */
export interface ResolvedOptions {
  verifier: CallbackVerifierConfig;
  timeZone: string;
  /** The mode of each platform key, by index (a single key: none, the mount's). */
  keyModes?: PaymentMode[];
  /** uniQueryPay's verifier: the platform keys of the mount's mode only. */
  query?: ResolvedQuery & { verifier: CallbackVerifierConfig };
}

const fail: OptionFailer = optionFailer(SOURCE);

function checkAppId(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.trim() !== '' && value.trim() === value) return value;
  return fail('appId', 'is required: your NewPay appId (a string or a whole number)');
}

const EMPTY_VALUE_READINGS = ['either', 'keep', 'drop'] as const;
const NESTED_KEY_ORDERS = ['either', 'sorted', 'received'] as const;

function checkReading<T extends string>(
  value: unknown,
  option: string,
  allowed: readonly T[],
): T | 'either' {
  if (value === undefined) return 'either';
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  return fail(option, `must be one of ${allowed.join(', ')}`);
}

/** `name` is the option as the merchant gave it: `statusQuery`, or the deprecated `query`. */
function checkQuery(query: NewpayStatusQueryOptions, name: string): ResolvedQuery {
  if (typeof query !== 'object' || query === null) fail(name, 'must be an object');
  checkRequiredText(query.mchId, `${name}.mchId`, 'your NewPay mchId, to query NewPay', SOURCE);
  if (query.merchantPrivateKey === undefined)
    fail(`${name}.merchantPrivateKey`, 'is required to sign queries');
  const merchantPrivateKey = loadPrivateKey(
    query.merchantPrivateKey,
    `${name}.merchantPrivateKey`,
    SOURCE,
  );
  const baseUrl = query.baseUrl ?? DEFAULT_QUERY_BASE_URL;
  checkHttpUrl(baseUrl, `${name}.baseUrl`, SOURCE);
  const timeoutMs = checkPositiveMs(query.timeoutMs, 10_000, `${name}.timeoutMs`, SOURCE);
  return { mchId: query.mchId, merchantPrivateKey, baseUrl, timeoutMs };
}

/**
 * The status API's options in their one shape: `query` (deprecated) becomes `statusQuery`, with a
 * one-time warning through `logger` (the hub's, when built by the middleware) or
 * `process.emitWarning`. Both given is a ProviderConfigError.
 */
export function upgradeOptions<T extends NewpayProviderOptions>(
  options: T,
  logger?: Pick<Logger, 'warn'>,
): T {
  if (typeof options !== 'object' || options === null || options.query === undefined)
    return options;
  if (options.statusQuery !== undefined)
    fail('query', 'is the deprecated name of statusQuery: give statusQuery only');
  warnDeprecatedOption(SOURCE, 'query', 'statusQuery', logger);
  const { query, ...rest } = options;
  return { ...rest, statusQuery: query } as T;
}

export function resolveOptions(
  given: NewpayProviderOptions,
  logger?: Pick<Logger, 'warn'>,
): ResolvedOptions {
  if (typeof given !== 'object' || given === null) fail('options', 'must be an object');
  const deprecatedName = given.query !== undefined;
  const options = upgradeOptions(given, logger);
  const { publicKeys, keyModes } = readPlatformKeys(options);
  const appId = checkAppId(options.appId);
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  // NewPay signs a time in its callbacks (v1 timestamp, v2 data.paytime): how old it may be.
  const maxAge = resolveMaxAge(options, SOURCE);
  const verifier: CallbackVerifierConfig = {
    publicKeys,
    reportKeyIndex: Array.isArray(options.platformPublicKey),
    appId,
    maxAge,
    timeZone,
    // Frozen: verify.ts builds the list of readings once per readings object.
    readings: Object.freeze({
      emptyValues: checkReading(options.emptyValues, 'emptyValues', EMPTY_VALUE_READINGS),
      nestedKeys: checkReading(options.nestedKeys, 'nestedKeys', NESTED_KEY_ORDERS),
    }),
  };
  const name = deprecatedName ? 'query' : 'statusQuery';
  const query =
    options.statusQuery === undefined
      ? undefined
      : {
          ...checkQuery(options.statusQuery, name),
          verifier: queryVerifier(verifier, keyModes, options.mode, name),
        };
  return { verifier, timeZone, keyModes, query };
}

/**
 * The platform keys, loaded, and each one's mode when a list was given. One key, or several during
 * a rotation (old and new) or for a live mount that also takes sandbox callbacks, tried in order.
 */
function readPlatformKeys(options: NewpayProviderOptions): {
  publicKeys: KeyObject[];
  keyModes?: PaymentMode[];
} {
  const given = options.platformPublicKey;
  if (given === undefined || given === null)
    fail('platformPublicKey', 'is required: the NewPay platform public key (PEM or Base64 DER)');
  if (!Array.isArray(given))
    return { publicKeys: loadPublicKeys(given as KeyInput, 'platformPublicKey', SOURCE) };
  const { keys, modes } = splitKeyModes(given, options, 'platformPublicKey', SOURCE);
  return { publicKeys: loadPublicKeys(keys, 'platformPublicKey', SOURCE), keyModes: modes };
}

/**
 * uniQueryPay is asked with the mount's own merchant key, so its answer is about the mount's
 * environment: only platform keys of the mount's mode may vouch for it. Otherwise an answer signed
 * with the sandbox key would become a live event through the sweeper (status answers take the
 * mount's mode), which is the mixing that tagging the key exists to prevent.
 */
function queryVerifier(
  verifier: CallbackVerifierConfig,
  keyModes: readonly PaymentMode[] | undefined,
  mode: unknown,
  name: string,
): CallbackVerifierConfig {
  if (keyModes === undefined) return verifier;
  const mountMode = mode ?? 'live';
  const publicKeys = verifier.publicKeys.filter((_, i) => keyModes[i] === mountMode);
  // An unknown mode is left to defineProvider, whose error names `mode`.
  if (publicKeys.length === 0 && isPaymentMode(mountMode))
    fail(
      name,
      `needs a platformPublicKey of the mount's mode (${String(mountMode)}) to verify uniQueryPay answers`,
    );
  return { ...verifier, publicKeys };
}
