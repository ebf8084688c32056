import {
  assertTimeZone,
  checkPositiveMs,
  checkWholeNumber,
  moveDeprecatedOptions,
  optionFailer,
  ProviderConfigError,
  resolveMaxAge,
  type Logger,
  type OptionFailer,
  type MaxAge,
  type MaxAgeOptions,
  type MountModeOptions,
  type PaymentMode,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { resolveReconnect, type ReconnectOptions, type ResolvedReconnect } from './backoff';
import { SOURCE } from './schema';
import type { LailaolabSource } from './source';
import { checkApiBase, checkKey } from './status-query';
import type { StatusLookupOptions } from './confirm';

/**
 * Status queries a minute for webhooks naming a transaction nobody awaits: one a second on
 * average bounds what a junk flood costs on the merchant's key, well above the rate at which a
 * shop's genuine notices for unwatched payments arrive.
 */
export const DEFAULT_UNWATCHED_QUERIES_PER_MINUTE = 600;

/** Gateway wall clock (the docs name no zone: assume Asia/Vientiane, UTC+7). */
export const DEFAULT_TIME_ZONE = 'Asia/Vientiane';

/**
 * https://payment-doc.lailaolab.com/v1/subscription:
 * `https://payment-Support.lailaolab.com/?key=<PAYMENT_Support_SECRET>`.
 */
export const DEFAULT_SOCKET_URL = 'https://payment-Support.lailaolab.com/';

/**
 * `mode` is the mode of the merchant's keys (`secretKey`, `apiKey`), hence of every delivery: the
 * socket channel is that key's, and every webhook is confirmed by the status API asked with it.
 * `allowTestMode` has nothing to act on (no other key verifies anything), so `true` is refused.
 */
export interface LailaolabProviderOptions extends MaxAgeOptions, MountModeOptions {
  /** The secret key from the PhaJay portal: `?key=` and `join::<key>` on the socket. */
  secretKey: string;
  /** Key for the status API's Basic auth, when it differs from `secretKey` (of the same mode). */
  apiKey?: string;
  /** The status API, which confirms every payment outcome: `{ baseUrl?, timeoutMs? }`. */
  statusQuery?: LailaolabStatusQueryOptions;
  /** @deprecated Give `statusQuery.baseUrl` (accepted, with a one-time warning). */
  apiBase?: string;
  /** IANA zone of `txnDateTime` and of the status API's times without an offset (default Asia/Vientiane). */
  timeZone?: string;
  /**
   * Currency of a status record that states none, and of secret-channel messages (default `LAK`:
   * the gateway's amounts are kip, https://payment-doc.lailaolab.com/v1/subscription). Never taken
   * from the message: a `sourceCurrency` that differs from it is refused.
   */
  currency?: string;
  /**
   * Confirm every socket payment outcome through the status API before emitting it (default
   * true). `false` trusts the secret channel alone: events then say `verification:
   * 'secret-channel'` and carry the message's own order, amount and time. Webhook deliveries are
   * always confirmed: they carry no signature.
   */
  confirmByStatusQuery?: boolean;
  /** @deprecated Give `statusQuery.timeoutMs` (accepted, with a one-time warning). */
  statusTimeoutMs?: number;
  /**
   * Webhook only (anyone can POST it): how long a status answer that will not change (not found,
   * paid, failed, expired, refunded) is reused for other webhooks naming the same transaction, in
   * ms (default 30,000; 0: never).
   */
  statusCacheMs?: number;
  /** Webhook only: most status answers kept for reuse; the oldest goes first (default 1,000). */
  statusCacheSize?: number;
  /**
   * Webhook only: most status queries in flight at once; beyond it the webhook gets the retry
   * answer without a query (default 16). Socket messages, from the secret channel, and the hub's
   * sweeper (its `awaited.concurrency`) are not counted.
   */
  maxStatusQueries?: number;
  /**
   * Webhook only: most status queries in any 60 s about transactions the merchant does not await
   * (no awaiting entry `lailaolab:ref:<transactionId>` in the hub's awaited list: `source.watch()`
   * or `hub.expectPayment(provider, { reference })`); beyond it such webhooks get the retry answer
   * without a query (503 ERR_STATUS_BUDGET on `error`). Default 600: a junk flood then costs at
   * most ten queries a second on your key, while a shop that awaits nothing keeps its real notices
   * flowing up to that rate; Lailaolab documents no retry schedule, so a budget below the shop's
   * real rate would delay real payments. 0: only awaited transactions are ever asked about.
   */
  unwatchedQueriesPerMinute?: number;
}

/**
 * The status API's options (`statusQuery`); it is asked with `apiKey` (default `secretKey`), the
 * key of the mount's `mode`: the answer, and so every confirmed event, is about that mode's money.
 */
export interface LailaolabStatusQueryOptions {
  /** Status API host (default https://payment-gateway.lailaolab.com). */
  baseUrl?: string;
  /** Timeout of one status API call (default 10,000 ms). */
  timeoutMs?: number;
}

/** Old names of the status API's options, by their name inside `statusQuery`. */
const DEPRECATED_STATUS_OPTIONS = { apiBase: 'baseUrl', statusTimeoutMs: 'timeoutMs' } as const;

export interface LailaolabSourceOptions extends LailaolabProviderOptions {
  /** Socket.IO server (default the documented https://payment-Support.lailaolab.com/). */
  url?: string;
  /** Put `?key=<secretKey>` (URL-encoded) on the URL, as the docs do (default true). */
  keyInUrl?: boolean;
  /** Backoff between reconnect attempts; forever by default. */
  reconnect?: ReconnectOptions;
  /**
   * How long `watch(id)` awaits a transaction: its `until` (default 1 hour). Past it with no final
   * answer, the hub sends `awaited.overdue`.
   */
  watchTtlMs?: number;
  /** Connection attempt timeout (default 20,000 ms). */
  connectTimeoutMs?: number;
  /** Extra socket.io-client options (transports, extraHeaders...). Reconnection stays ours. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /**
   * @deprecated Accepted (checked as before) but ignored, with a warning on the hub's logger: the
   * periodic sweep is the hub's, every `awaited.sweepEveryMs` of `createPaymentHub` (0: only
   * `hub.sweep()` and the source's sweep after every connect).
   */
  sweepIntervalMs?: number;
  /**
   * @deprecated Accepted (checked as before) but ignored, with a warning on the hub's logger: the
   * sweeper's status queries in flight are the hub's `awaited.concurrency`.
   */
  statusConcurrency?: number;
  /**
   * @deprecated Removed: throws a ProviderConfigError. Watched transactions are the hub's awaited
   * payments: give the list to the hub, `createPaymentHub({ awaited: { list } })`.
   */
  watchList?: unknown;
  /**
   * @deprecated Removed: throws a ProviderConfigError. The limit is the awaited list's:
   * `createPaymentHub({ awaited: { list: createMemoryAwaitedList({ maxEntries }) } })`.
   */
  maxWatched?: unknown;
}

export interface LailaolabMiddlewareOptions
  extends Partial<LailaolabProviderOptions>, WebhookMiddlewareOptions {
  /**
   * The running socket source, if any: its provider is shared and its state is reported on GET.
   * The middleware never opens a socket of its own. Without a source, `secretKey` is required
   * (the webhook is confirmed through the status API with it), and the middleware's own provider
   * reads the hub's awaited list for `unwatchedQueriesPerMinute`.
   */
  source?: LailaolabSource;
}

/** The provider's options, checked. */
export interface ResolvedOptions {
  secretKey: string;
  apiKey: string;
  apiBase: string;
  statusTimeoutMs: number;
  timeZone: string;
  currency: string;
  confirmByStatusQuery: boolean;
  maxAge: MaxAge;
  cache: StatusLookupOptions;
  /** As given: defineProvider checks them and names the option. */
  mode: PaymentMode | undefined;
  allowTestMode: boolean | undefined;
}

/** The source's own options, checked (the provider's are in ResolvedOptions). */
export interface SourceConfig {
  reconnect: ResolvedReconnect;
  watchTtlMs: number;
  connectTimeoutMs: number;
  /** The socket URL, key included when `keyInUrl`. */
  url: string;
  /** The URL without its query (the key): what log lines and reports name. */
  where: string;
  /** The documented channel, `join::<secretKey>`: every transaction of the merchant. */
  channel: string;
  socketOptions: Partial<ManagerOptions & SocketOptions> | undefined;
  /** What the hub's logger is told about deprecated options given (one line each). */
  deprecations: readonly string[];
}

const fail: OptionFailer = optionFailer(SOURCE);

const whole = (value: unknown, fallback: number, option: string, min = 1): number =>
  checkWholeNumber(value, fallback, option, { min, source: SOURCE, provider: true });

const wholeMs = (value: unknown, fallback: number, option: string, min = 1): number =>
  checkWholeNumber(value, fallback, option, {
    min,
    unit: 'milliseconds',
    source: SOURCE,
    provider: true,
  });

/**
 * The provider's options, checked. Deprecated names (`apiBase`, `statusTimeoutMs`) are read into
 * `statusQuery`, with a one-time warning through `logger` (the hub's, for the source and the
 * middleware) or `process.emitWarning`; giving them with `statusQuery` is a ProviderConfigError.
 */
export function resolveProviderOptions(
  given: LailaolabProviderOptions,
  logger?: Pick<Logger, 'warn'>,
): ResolvedOptions {
  if (!given || typeof given !== 'object') fail('options', 'must be an object with secretKey');
  // Deprecated names are checked under their own names, as given.
  const deprecated = given.apiBase !== undefined || given.statusTimeoutMs !== undefined;
  const options = moveDeprecatedOptions(
    given,
    'statusQuery',
    DEPRECATED_STATUS_OPTIONS,
    SOURCE,
    logger,
  );
  const statusQuery = options.statusQuery ?? {};
  if (statusQuery === null || typeof statusQuery !== 'object')
    fail('statusQuery', 'must be an object: { baseUrl?, timeoutMs? }');
  const secretKey = checkKey(options.secretKey, 'secretKey');
  const apiKey = options.apiKey === undefined ? secretKey : checkKey(options.apiKey, 'apiKey');
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  const currency = options.currency ?? 'LAK';
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    fail('currency', 'must be an ISO 4217 code such as LAK');
  const confirm = options.confirmByStatusQuery;
  if (confirm !== undefined && typeof confirm !== 'boolean')
    fail('confirmByStatusQuery', 'must be true or false');
  const maxAge = resolveMaxAge(options, SOURCE);
  checkAllowTestMode(options.allowTestMode);
  const apiBase = checkApiBase(statusQuery.baseUrl, deprecated ? 'apiBase' : 'statusQuery.baseUrl');
  const statusTimeoutMs = checkPositiveMs(
    statusQuery.timeoutMs,
    10_000,
    deprecated ? 'statusTimeoutMs' : 'statusQuery.timeoutMs',
    SOURCE,
  );
  return {
    secretKey,
    apiKey,
    apiBase,
    statusTimeoutMs,
    timeZone,
    currency,
    confirmByStatusQuery: confirm ?? true,
    maxAge,
    cache: checkCacheOptions(options),
    mode: options.mode,
    allowTestMode: options.allowTestMode,
  };
}

/**
 * A live mount that "also takes test deliveries" cannot be built here: nothing is signed, so no
 * key of another mode could ever vouch for a delivery. A sandbox webhook posted to a live mount is
 * asked about with the live key, unknown there, and refused; the socket channel is the live key's.
 * Accepting the option would let the merchant believe otherwise. Anything but a boolean is left
 * to defineProvider, whose error says what the option takes.
 */
function checkAllowTestMode(value: unknown): void {
  if (value === true)
    fail(
      'allowTestMode',
      "has nothing to act on for Lailaolab: every delivery is confirmed with (or comes through the channel of) this mount's own key, so it has the mount's mode; give the sandbox key to a second source or middleware with mode: 'test'",
    );
}

/**
 * The webhook's status cache, cap and budget (`statusCacheMs`, `statusCacheSize`,
 * `maxStatusQueries`, `unwatchedQueriesPerMinute`).
 */
export function checkCacheOptions(options: {
  statusCacheMs?: number;
  statusCacheSize?: number;
  maxStatusQueries?: number;
  unwatchedQueriesPerMinute?: number;
}): StatusLookupOptions {
  return {
    cacheMs: wholeMs(options.statusCacheMs, 30_000, 'statusCacheMs', 0),
    cacheSize: whole(options.statusCacheSize, 1_000, 'statusCacheSize'),
    maxInFlight: whole(options.maxStatusQueries, 16, 'maxStatusQueries'),
    unwatchedPerMinute: whole(
      options.unwatchedQueriesPerMinute,
      DEFAULT_UNWATCHED_QUERIES_PER_MINUTE,
      'unwatchedQueriesPerMinute',
      0,
    ),
  };
}

/** Options of the source's own watch list, gone with it: the awaited list is the hub's. */
const REMOVED: Record<'watchList' | 'maxWatched', string> = {
  watchList:
    "was removed: watched transactions are the hub's awaited payments; give the list to the hub, createPaymentHub({ awaited: { list: createRedisAwaitedList(...) | createPostgresAwaitedList(...) | createMemoryAwaitedList({ maxEntries }) } })",
  maxWatched:
    "was removed: the limit is the awaited list's, createPaymentHub({ awaited: { list: createMemoryAwaitedList({ maxEntries }) } }) (or the Redis or PostgreSQL list: createRedisAwaitedList(...) | createPostgresAwaitedList(...))",
};

function checkRemoved(options: LailaolabSourceOptions): void {
  for (const option of ['watchList', 'maxWatched'] as const)
    if (options[option] !== undefined) fail(option, REMOVED[option]);
}

/** Deprecated options still accepted: checked as before, ignored, and named in a warning. */
function deprecations(options: LailaolabSourceOptions): string[] {
  const warnings: string[] = [];
  if (options.sweepIntervalMs !== undefined) {
    wholeMs(options.sweepIntervalMs, 0, 'sweepIntervalMs', 0);
    warnings.push(
      'sweepIntervalMs is deprecated and ignored: the hub sweeps awaited payments every awaited.sweepEveryMs (createPaymentHub({ awaited: { sweepEveryMs } }); 0: only hub.sweep() and the sweep after every connect)',
    );
  }
  if (options.statusConcurrency !== undefined) {
    whole(options.statusConcurrency, 1, 'statusConcurrency');
    warnings.push(
      "statusConcurrency is deprecated and ignored: the hub's sweeper runs awaited.concurrency status queries at once (createPaymentHub({ awaited: { concurrency } }))",
    );
  }
  return warnings;
}

/** The source's options, checked before any socket opens (and before the hub is touched). */
export function resolveSourceOptions(
  options: LailaolabSourceOptions,
  secretKey: string,
): SourceConfig {
  const reconnect = resolveReconnect(options.reconnect);
  checkRemoved(options);
  const warnings = deprecations(options);
  const watchTtlMs = wholeMs(options.watchTtlMs, 3_600_000, 'watchTtlMs');
  const connectTimeoutMs = wholeMs(options.connectTimeoutMs, 20_000, 'connectTimeoutMs');
  const url = lailaolabSocketUrl(
    options.url ?? DEFAULT_SOCKET_URL,
    secretKey,
    options.keyInUrl ?? true,
  );
  const parsed = new URL(url);
  return {
    reconnect,
    watchTtlMs,
    connectTimeoutMs,
    url,
    where: `${parsed.origin}${parsed.pathname}`,
    // The documented channel carries every transaction of the merchant
    // (https://payment-doc.lailaolab.com/v1/subscription).
    channel: `join::${secretKey}`,
    socketOptions: options.socketOptions,
    deprecations: warnings,
  };
}

/** The socket URL with the key as the docs put it: `?key=` URL-encoded (keys hold `$`, `/`, `.`). */
export function lailaolabSocketUrl(url: string, secretKey: string, keyInUrl = true): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ProviderConfigError('url', 'must be an absolute http(s) or ws(s) URL', {
      source: SOURCE,
      cause,
    });
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol))
    fail('url', 'must be an absolute http(s) or ws(s) URL');
  if (keyInUrl) parsed.searchParams.set('key', secretKey);
  return parsed.toString();
}
