import {
  assertTimeZone,
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  moveDeprecatedOptions,
  optionFailer,
  resolveMaxAge,
  splitKeyModes,
  type Logger,
  type ModeKey,
  type MountModeOptions,
  type OptionFailer,
  type MaxAge,
  type MaxAgeOptions,
  type PaymentMode,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import { SOURCE } from './schema';

export interface PayinProviderOptions extends MaxAgeOptions, MountModeOptions {
  /** Your Cashy merchant id (numeric); the `MerchantId` header must name it. */
  merchantId: string | number;
  /**
   * Your Cashy apiKey: it signs every request and webhook. During a rotation, a list (old and
   * new): webhooks are checked against each in order and `event.keyIndex` says which one matched;
   * API requests (fetchStatus) are signed with the first of the mount's mode. An entry may be
   * `{ key, mode: 'test' }` (a sandbox apiKey); a bare key has the mount's `mode`.
   */
  apiKey: string | readonly ModeKey<string>[];
  /**
   * IANA zone of `completionTime`, which carries no offset. Default `Asia/Jakarta` (GMT+7, the
   * zone of the Indonesian webhook doc, https://www.showdoc.com.cn/IdCashyEnglish); other countries
   * differ (their docs give GMT+8 PHP, GMT+3 BRA/TZA, GMT-5 COL).
   */
  timeZone?: string;
  /** ISO 4217 code put on events; Cashy's webhook does not carry one. Default null. */
  currency?: string | null;
  /**
   * Decimal places of amounts: `100.1` becomes `100.10` at 2. More places with a non-zero digit
   * are refused, never rounded. Default 0 for MXN, TZS and CLP (integer countries), else 2.
   */
  amountScale?: number;
  /** Cashy's API (`/api/payInQuery`): enables `fetchStatus`. */
  statusQuery?: PayinStatusQueryOptions;
  /**
   * @deprecated Give `statusQuery.baseUrl`: still accepted, with a one-time warning. Giving it with
   * `statusQuery` is a ProviderConfigError.
   */
  baseUrl?: string;
  /**
   * @deprecated Give `statusQuery.timeoutMs`: still accepted, with a one-time warning. Giving it
   * with `statusQuery` is a ProviderConfigError.
   */
  timeoutMs?: number;
}

/**
 * The status API's options; requests are signed with `apiKey` (the first of the mount's mode).
 * Both belong to the mount's mode: a live mount asks Cashy's live API with a live apiKey, a
 * `mode: 'test'` mount the stage API (`.../stage-api/`) with the sandbox apiKey.
 */
export interface PayinStatusQueryOptions {
  /** API base URL (with any path prefix, e.g. `.../stage-api/`). */
  baseUrl: string;
  /** Timeout of API calls in ms (default 10,000). */
  timeoutMs?: number;
}

export interface PayinMiddlewareOptions extends PayinProviderOptions, WebhookMiddlewareOptions {}

/**
 * The default zone of `completionTime`: GMT+7, from the Indonesian webhook doc
 * (https://www.showdoc.com.cn/IdCashyEnglish).
 */
export const DEFAULT_TIME_ZONE = 'Asia/Jakarta';

/** Countries whose amounts are whole units (Cashy's country docs type them as integers). */
const INTEGER_CURRENCIES = new Set(['MXN', 'TZS', 'CLP']);

const fail: OptionFailer = optionFailer(SOURCE);

/** Cashy answers `MerchantId_not_Number` to anything else (its error codes, e.g. pak/appendix.html). */
export function checkMerchantId(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,32}$/.test(text.trim()))
    return fail('merchantId', 'is required: your numeric Cashy merchant id');
  return text.trim();
}

export function checkApiKey(value: unknown, option = 'apiKey'): string {
  return checkRequiredText(value, option, 'the apiKey from the Cashy merchant back office', SOURCE);
}

/**
 * One apiKey, or several during a rotation (old and new, tried in that order), each with its mode
 * when a list was given (a bare key: the mount's). The first of the mount's mode signs API
 * requests, so list the key in force first.
 */
export function checkApiKeys(
  value: unknown,
  mount: MountModeOptions = {},
): { apiKeys: string[]; keyModes?: PaymentMode[] } {
  if (!Array.isArray(value)) return { apiKeys: [checkApiKey(value)] };
  if (value.length === 0) return fail('apiKey', 'must hold at least one apiKey');
  const { keys, modes } = splitKeyModes(value as ModeKey<unknown>[], mount, 'apiKey', SOURCE);
  return { apiKeys: keys.map((key, i) => checkApiKey(key, `apiKey[${i}]`)), keyModes: modes };
}

/** Joined by appending `api/payIn`, so a path prefix such as `/stage-api/` is kept. */
export function checkBaseUrl(value: unknown, option = 'baseUrl'): URL {
  const url = checkHttpUrl(value, option, SOURCE);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

export function checkTimeout(value: unknown, option = 'timeoutMs'): number {
  return checkPositiveMs(value, 10_000, option, SOURCE);
}

/** Old names of the status API's options, by their name inside `statusQuery`. */
const DEPRECATED_STATUS_OPTIONS = { baseUrl: 'baseUrl', timeoutMs: 'timeoutMs' } as const;

/**
 * The status API's options in their one shape: the deprecated `baseUrl`/`timeoutMs` move into
 * `statusQuery`, with a one-time warning through `logger` (the hub's, when the middleware builds
 * the provider) or `process.emitWarning`. Giving them with `statusQuery` is a ProviderConfigError.
 */
export function upgradeOptions<T extends PayinProviderOptions>(
  options: T,
  logger?: Pick<Logger, 'warn'>,
): T {
  return moveDeprecatedOptions(options, 'statusQuery', DEPRECATED_STATUS_OPTIONS, SOURCE, logger);
}

/** The client's settings from `statusQuery`, checked; undefined when it is not given. */
export function readStatusQuery(
  statusQuery: PayinStatusQueryOptions | undefined,
): { baseUrl: string; timeoutMs: number } | undefined {
  if (statusQuery === undefined) return undefined;
  if (statusQuery === null || typeof statusQuery !== 'object')
    return fail('statusQuery', 'must be an object: { baseUrl, timeoutMs? }');
  const base = checkBaseUrl(statusQuery.baseUrl, 'statusQuery.baseUrl');
  return {
    baseUrl: base.href,
    timeoutMs: checkTimeout(statusQuery.timeoutMs, 'statusQuery.timeoutMs'),
  };
}

/** The provider's options as read at construction. */
export interface PayinSettings {
  merchantId: string;
  /** Webhooks are checked against each, in order. */
  apiKeys: string[];
  /** The mode of each apiKey, by index (a single key: none, the mount's). */
  keyModes?: PaymentMode[];
  /**
   * The key that signs API requests: the first of the mount's mode, since the API answers about
   * that mode's orders only. Undefined when no key has the mount's mode (a live mount that lists
   * only sandbox keys): then there is no status query to make.
   */
  requestKey: string | undefined;
  limits: MaxAge;
  timeZone: string;
  currency: string | null;
  /** Decimal places of amounts. */
  scale: number;
}

export function readProviderOptions(options: PayinProviderOptions): PayinSettings {
  if (!options || typeof options !== 'object')
    return fail('merchantId', 'is required (options object missing)');
  const merchantId = checkMerchantId(options.merchantId);
  const { apiKeys, keyModes } = checkApiKeys(options.apiKey, options);
  const mountMode = options.mode ?? 'live';
  const requestKey = keyModes ? apiKeys.find((_, i) => keyModes[i] === mountMode) : apiKeys[0];
  const limits = resolveMaxAge(options, SOURCE);
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  const currency = options.currency ?? null;
  if (currency !== null && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)))
    fail('currency', 'must be an ISO 4217 code such as "IDR", or null');
  const scale = options.amountScale ?? (currency && INTEGER_CURRENCIES.has(currency) ? 0 : 2);
  if (!Number.isInteger(scale) || scale < 0 || scale > 4)
    fail('amountScale', 'must be a whole number from 0 to 4');
  return { merchantId, apiKeys, keyModes, requestKey, limits, timeZone, currency, scale };
}
