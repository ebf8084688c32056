import {
  assertTimeZone,
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  loadPrivateKey,
  loadPublicKeys,
  moveDeprecatedOptions,
  optionFailer,
  resolveMaxAge,
  splitKeyModes,
  type KeyInput,
  type Logger,
  type ModeKey,
  type MountModeOptions,
  type OptionFailer,
  type MaxAge,
  type MaxAgeOptions,
  type PaymentMode,
  type WebhookMiddlewareOptions,
} from '@payhook/core/plugin';
import type { KeyObject } from 'node:crypto';
import type { PaymentQueryConfig } from './status-query';
import { SOURCE } from './schema';
import { COUNTRIES, isCountryCode, type CountryCode } from './tables';

export interface SignedParamOptions extends MaxAgeOptions, MountModeOptions {
  /**
   * The platform's RSA public key ("Please ask the Platform administrator for the RSA public key of
   * Platform"): PEM, or bare Base64 DER (SubjectPublicKeyInfo) as the portal hands it out. During a
   * key rotation, a list (old and new): the keys are tried in order and `event.keyIndex` says which
   * one matched. An entry may be `{ key, mode: 'test' }` (the sandbox platform's key); a bare key
   * has the mount's `mode`.
   */
  platformPublicKey: KeyInput | readonly ModeKey<KeyInput>[];
  /** Provider id; prefixes every event id and store key. Default `signed-param`; e.g. `paycools`. */
  id?: string;
  /**
   * The merchant account's country (required). Refund notifications name no currency and no
   * country, so they are read in this one; so is any payment whose channel code has no country
   * prefix, and the clock of its `yyyy-MM-dd HH:mm:ss` times. fetchStatus sends it as countryCode.
   */
  country: CountryCode;
  /** IANA zones of the platform's `yyyy-MM-dd HH:mm:ss` times, per country (defaults: COUNTRIES). */
  timeZones?: Partial<Record<CountryCode, string>>;
  /**
   * Merchant binding: the prefix every `mchOrderId` of yours starts with. A payment notification
   * whose `mchOrderId` does not start with it is refused (401 ERR_SENDER_UNKNOWN): the param names
   * no merchant, and the platform signs every merchant's notifications with the same key.
   */
  orderIdPrefix?: string;
  /** The payment query: enables fetchStatus. */
  statusQuery?: SignedParamStatusQueryOptions;
  /** @deprecated Give `statusQuery.baseUrl` (accepted, with a one-time warning). */
  baseUrl?: string;
  /** @deprecated Give `statusQuery.appId` (accepted, with a one-time warning). */
  appId?: string;
  /** @deprecated Give `statusQuery.merchantPrivateKey` (accepted, with a one-time warning). */
  merchantPrivateKey?: KeyInput;
  /** @deprecated Give `statusQuery.timeoutMs` (accepted, with a one-time warning). */
  queryTimeoutMs?: number;
}

/**
 * The payment query's options (`statusQuery`): all three of baseUrl, appId and the key. All three
 * belong to the mount's mode: a live mount asks the live API with the live appId and key, a
 * `mode: 'test'` mount the sandbox's with its own. The answer is not signed, so nothing in it can
 * say otherwise: the events it yields take the mount's mode.
 */
export interface SignedParamStatusQueryOptions {
  /** The platform API origin, e.g. `https://openapi.paycools.com`. */
  baseUrl: string;
  /** The merchant's appId. */
  appId: string;
  /** The merchant's RSA private key (PEM or Base64 PKCS#8 DER) that signs `param`. */
  merchantPrivateKey: KeyInput;
  /** Request timeout in ms (default 10,000). */
  timeoutMs?: number;
}

/** Old names of the payment query's options, by their name inside `statusQuery`. */
const DEPRECATED_STATUS_OPTIONS = {
  baseUrl: 'baseUrl',
  appId: 'appId',
  merchantPrivateKey: 'merchantPrivateKey',
  queryTimeoutMs: 'timeoutMs',
} as const;

/**
 * The payment query's options in their one shape: the deprecated top-level names move into
 * `statusQuery`, with a one-time warning through `logger` (the hub's, when the middleware builds
 * the provider) or `process.emitWarning`. Giving them with `statusQuery` is a ProviderConfigError.
 */
export function upgradeOptions<T extends SignedParamOptions>(
  options: T,
  logger?: Pick<Logger, 'warn'>,
): T {
  return moveDeprecatedOptions(options, 'statusQuery', DEPRECATED_STATUS_OPTIONS, SOURCE, logger);
}

/** The provider's options plus the adapter's (`limit`, `onResult`). */
export interface SignedParamMiddlewareOptions
  extends SignedParamOptions, WebhookMiddlewareOptions {}

/** The options as read at construction: what normalize needs. */
export interface Settings {
  country: CountryCode;
  timeZones: Record<CountryCode, string>;
  /** How old a signed time may be: checked on notifications, never on fetchStatus answers. */
  limits: MaxAge;
  /** Merchant binding: every payment's mchOrderId must start with it, when set. */
  orderIdPrefix: string | undefined;
}

const fail: OptionFailer = optionFailer(SOURCE);

const COUNTRY_LIST = Object.keys(COUNTRIES).join(', ');

/**
 * The platform keys, loaded, and each one's mode when a list was given (a single key: none, the
 * mount's). The middleware reads them too, for the hub-wide check of shared keys (mounts.ts).
 */
export function readPlatformKeys(options: SignedParamOptions): {
  publicKeys: KeyObject[];
  keyModes?: PaymentMode[];
} {
  const given = options.platformPublicKey;
  if (!Array.isArray(given))
    return { publicKeys: loadPublicKeys(given as KeyInput, 'platformPublicKey', SOURCE) };
  const { keys, modes } = splitKeyModes(given, options, 'platformPublicKey', SOURCE);
  return { publicKeys: loadPublicKeys(keys, 'platformPublicKey', SOURCE), keyModes: modes };
}

/** The options object itself: anything else would fail later, on a less helpful property read. */
export function checkOptionsObject(options: unknown): asserts options is SignedParamOptions {
  if (!options || typeof options !== 'object')
    fail('options', 'must be an object with platformPublicKey and country');
}

export function readSettings(options: SignedParamOptions): Settings {
  if (options.country === undefined)
    fail(
      'country',
      `is required: your platform account's country (${COUNTRY_LIST}); refund notifications name no currency and are read in it`,
    );
  if (!isCountryCode(options.country)) fail('country', `must be one of ${COUNTRY_LIST}`);
  const prefix = options.orderIdPrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix.trim() === ''))
    fail('orderIdPrefix', 'must be a non-empty string: the start of every mchOrderId of yours');
  return {
    country: options.country,
    timeZones: readTimeZones(options.timeZones),
    limits: resolveMaxAge(options, SOURCE),
    orderIdPrefix: prefix,
  };
}

/** Each country's default zone (COUNTRIES), overridden per country by the `timeZones` option. */
function readTimeZones(given: SignedParamOptions['timeZones']): Record<CountryCode, string> {
  const timeZones = Object.fromEntries(
    (Object.keys(COUNTRIES) as CountryCode[]).map((c) => [c, COUNTRIES[c].timeZone]),
  ) as Record<CountryCode, string>;
  if (given === undefined) return timeZones;
  if (given === null || typeof given !== 'object')
    fail('timeZones', 'must map country codes to IANA zones, e.g. { ID: "Asia/Makassar" }');
  for (const [country, zone] of Object.entries(given)) {
    if (!isCountryCode(country))
      fail(`timeZones.${country}`, `is not a country of ${COUNTRY_LIST}`);
    timeZones[country as CountryCode] = assertTimeZone(zone, `timeZones.${country}`, SOURCE);
  }
  return timeZones;
}

/** The fetchStatus options, all or none: undefined when none is given. */
export function readQueryConfig(
  given: SignedParamOptions,
  settings: Settings,
): PaymentQueryConfig | undefined {
  // Deprecated names are checked under their own names, as given.
  const deprecated = Object.keys(DEPRECATED_STATUS_OPTIONS).some(
    (name) => given[name as keyof typeof DEPRECATED_STATUS_OPTIONS] !== undefined,
  );
  const name = (option: keyof SignedParamStatusQueryOptions): string =>
    deprecated ? (option === 'timeoutMs' ? 'queryTimeoutMs' : option) : `statusQuery.${option}`;
  const statusQuery = upgradeOptions(given).statusQuery;
  if (statusQuery === undefined) return undefined;
  if (statusQuery === null || typeof statusQuery !== 'object')
    return fail('statusQuery', 'must be an object: { baseUrl, appId, merchantPrivateKey }');
  const { baseUrl, appId, merchantPrivateKey, timeoutMs } = statusQuery;
  // The old names enabled the query when any of the three was given: all three are then required.
  if (
    deprecated &&
    baseUrl === undefined &&
    appId === undefined &&
    merchantPrivateKey === undefined
  )
    return undefined;
  if (baseUrl === undefined)
    fail(
      name('baseUrl'),
      'must be the platform API URL (https://...) when fetchStatus is configured',
    );
  const origin = checkHttpUrl(baseUrl, name('baseUrl'), SOURCE).href.replace(/\/+$/, '');
  checkRequiredText(
    appId,
    name('appId'),
    'the merchant appId, when fetchStatus is configured',
    SOURCE,
  );
  const key = loadPrivateKey(
    merchantPrivateKey as NonNullable<typeof merchantPrivateKey>,
    name('merchantPrivateKey'),
    SOURCE,
  );
  return {
    url: `${origin}/open-api/payment/query`,
    appId: appId as string,
    merchantKey: key,
    country: settings.country,
    timeoutMs: checkPositiveMs(timeoutMs, 10_000, name('timeoutMs'), SOURCE),
    orderIdPrefix: settings.orderIdPrefix,
  };
}
