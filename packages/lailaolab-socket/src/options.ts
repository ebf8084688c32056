import { ProviderConfigError, type WebhookMiddlewareOptions } from '@payhook/core';
import {
  assertTimeZone,
  checkPositiveMs,
  checkWholeNumber,
  resolveMaxAge,
  type MaxAge,
  type MaxAgeOptions,
} from '@payhook/core/plugin';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { resolveReconnect, type ReconnectOptions, type ResolvedReconnect } from './backoff';
import { SOURCE } from './schema';
import type { LailaolabSource } from './source';
import { checkApiBase, checkKey } from './status-client';
import type { StatusLookupOptions } from './status-lookup';
import type { WatchList } from './watch-list';

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

export interface LailaolabProviderOptions extends MaxAgeOptions {
  /** The secret key from the PhaJay portal: `?key=` and `join::<key>` on the socket. */
  secretKey: string;
  /** Key for the status API's Basic auth, when it differs from `secretKey`. */
  apiKey?: string;
  /** Status API host (default https://payment-gateway.lailaolab.com). */
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
  /** Timeout of one status API call (default 10,000 ms). */
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
   * answer without a query (default 16). Socket messages, from the secret channel, and the
   * source's sweep (`statusConcurrency`) are not counted.
   */
  maxStatusQueries?: number;
  /**
   * Webhook only: most status queries in any 60 s about transactions the merchant does not await
   * (not on the source's watch list; without a source, none is awaited); beyond it such webhooks
   * get the retry answer without a query (503 ERR_STATUS_BUDGET on `error`). Default 600: a junk
   * flood then costs at most ten queries a second on your key, while a shop that watches nothing
   * (the webhook alone, no source) keeps its real notices flowing up to that rate; Lailaolab
   * documents no retry schedule, so a budget below the shop's real rate would delay real payments.
   * 0: only watched transactions are ever asked about.
   */
  unwatchedQueriesPerMinute?: number;
}

export interface LailaolabSourceOptions extends LailaolabProviderOptions {
  /** Socket.IO server (default the documented https://payment-Support.lailaolab.com/). */
  url?: string;
  /** Put `?key=<secretKey>` (URL-encoded) on the URL, as the docs do (default true). */
  keyInUrl?: boolean;
  /** Backoff between reconnect attempts; forever by default. */
  reconnect?: ReconnectOptions;
  /** Status sweep of the watched transactions every N ms (default 60,000; 0 = only after connects). */
  sweepIntervalMs?: number;
  /** How long a watched transaction is followed (default 1 hour). */
  watchTtlMs?: number;
  /**
   * Where watched transactions are kept. Default: a list in this process (`maxWatched` entries),
   * which dies with it and is not seen by other instances. A shared one, such as
   * `createRedisWatchList({ store, name: 'lailaolab' })` from `@payhook/redis-store`, survives a
   * restart and is swept by every instance (give them a shared store too). The source never closes
   * it.
   */
  watchList?: WatchList;
  /**
   * Most transactions in the default watch list; those closest to their expiry are dropped beyond
   * it (default 10,000). A `watchList` you give has its own limit.
   */
  maxWatched?: number;
  /** Status queries in flight at once during a sweep (default 4). */
  statusConcurrency?: number;
  /** Connection attempt timeout (default 20,000 ms). */
  connectTimeoutMs?: number;
  /** Extra socket.io-client options (transports, extraHeaders...). Reconnection stays ours. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export interface LailaolabMiddlewareOptions
  extends Partial<LailaolabProviderOptions>, WebhookMiddlewareOptions {
  /**
   * The running socket source, if any: its provider is shared and its state is reported on GET.
   * The middleware never opens a socket of its own. Without a source, `secretKey` is required
   * (the webhook is confirmed through the status API with it).
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
}

/** The source's own options, checked (the provider's are in ResolvedOptions). */
export interface SourceConfig {
  reconnect: ResolvedReconnect;
  sweepIntervalMs: number;
  watchTtlMs: number;
  /** The merchant's list; undefined: a memory list of `maxWatched` entries. */
  watchList: WatchList | undefined;
  maxWatched: number;
  concurrency: number;
  connectTimeoutMs: number;
  /** The socket URL, key included when `keyInUrl`. */
  url: string;
  /** The URL without its query (the key): what log lines and reports name. */
  where: string;
  /** The documented channel, `join::<secretKey>`: every transaction of the merchant. */
  channel: string;
  socketOptions: Partial<ManagerOptions & SocketOptions> | undefined;
}

const fail = (option: string, problem: string): never => {
  throw new ProviderConfigError(option, problem, { source: SOURCE });
};

const whole = (value: unknown, fallback: number, option: string, min = 1): number =>
  checkWholeNumber(value, fallback, option, { min, source: SOURCE, provider: true });

const wholeMs = (value: unknown, fallback: number, option: string, min = 1): number =>
  checkWholeNumber(value, fallback, option, {
    min,
    unit: 'milliseconds',
    source: SOURCE,
    provider: true,
  });

export function resolveProviderOptions(options: LailaolabProviderOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') fail('options', 'must be an object with secretKey');
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
  const apiBase = checkApiBase(options.apiBase);
  const statusTimeoutMs = checkPositiveMs(
    options.statusTimeoutMs,
    10_000,
    'statusTimeoutMs',
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
  };
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

function checkWatchList(options: LailaolabSourceOptions): WatchList | undefined {
  const given = options.watchList;
  if (given === undefined) return undefined;
  if (
    !given ||
    typeof given.add !== 'function' ||
    typeof given.remove !== 'function' ||
    typeof given.list !== 'function'
  )
    fail(
      'watchList',
      'must have add, remove and list (createMemoryWatchList, createRedisWatchList)',
    );
  if (options.maxWatched !== undefined)
    fail('maxWatched', 'applies to the default watch list only: give the limit to your watchList');
  return given;
}

/** The source's options, in the order they were always checked, before any socket opens. */
export function resolveSourceOptions(
  options: LailaolabSourceOptions,
  secretKey: string,
): SourceConfig {
  const reconnect = resolveReconnect(options.reconnect);
  const sweepIntervalMs = wholeMs(options.sweepIntervalMs, 60_000, 'sweepIntervalMs', 0);
  const watchTtlMs = wholeMs(options.watchTtlMs, 3_600_000, 'watchTtlMs');
  const maxWatched = whole(options.maxWatched, 10_000, 'maxWatched');
  const watchList = checkWatchList(options);
  const concurrency = whole(options.statusConcurrency, 4, 'statusConcurrency');
  const connectTimeoutMs = wholeMs(options.connectTimeoutMs, 20_000, 'connectTimeoutMs');
  const url = lailaolabSocketUrl(
    options.url ?? DEFAULT_SOCKET_URL,
    secretKey,
    options.keyInUrl ?? true,
  );
  const parsed = new URL(url);
  return {
    reconnect,
    sweepIntervalMs,
    watchTtlMs,
    watchList,
    maxWatched,
    concurrency,
    connectTimeoutMs,
    url,
    where: `${parsed.origin}${parsed.pathname}`,
    // The documented channel carries every transaction of the merchant
    // (https://payment-doc.lailaolab.com/v1/subscription).
    channel: `join::${secretKey}`,
    socketOptions: options.socketOptions,
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
