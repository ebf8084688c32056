import {
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  ProviderConfigError,
  resolveMaxAge,
  splitKeyModes,
  type MaxAge,
  type MaxAgeOptions,
  type ModeKey,
  type MountModeOptions,
  type PaymentMode,
} from '@payhook/core/plugin';
import { NUSA_SOURCE } from './schema';

/** Nusa's two status APIs, one per environment, as Midtrans's api.midtrans.com and api.sandbox. */
export const NUSA_API = 'https://api.nusa.example';
export const NUSA_SANDBOX_API = 'https://api.sandbox.nusa.example';

/** The status API `confirm` asks: the base URL of each environment, and how long to wait. */
export interface NusaStatusQueryOptions {
  /** The status API of live server keys (default NUSA_API; Midtrans: https://api.midtrans.com). */
  baseUrl?: string;
  /**
   * The status API of test (sandbox) server keys (default NUSA_SANDBOX_API; Midtrans:
   * https://api.sandbox.midtrans.com). A sandbox key is unknown to the live API: asked there, the
   * query is refused and the notice can never be confirmed.
   */
  sandboxBaseUrl?: string;
  /** How long one status query may take, in milliseconds (default 10 000). */
  timeoutMs?: number;
}

export interface NusaOptions extends MaxAgeOptions, MountModeOptions {
  /**
   * The server keys, tried in order: a rotation's old and new, and the sandbox key tagged
   * `{ key, mode: 'test' }` on a live mount that also takes test payments (`allowTestMode`). A
   * bare key has the mount's `mode` (live unless given). The key that verified a notice also asks
   * the status API, at the base URL of its mode.
   */
  serverKeys: readonly ModeKey<string>[];
  statusQuery?: NusaStatusQueryOptions;
}

/** The options checked once, at construction. */
export interface NusaSettings {
  serverKeys: string[];
  /** The mode of each server key, by its index: the definition's `keyModes`. */
  keyModes: PaymentMode[];
  /** The status API of each mode, without a trailing slash. */
  baseUrls: Readonly<Record<PaymentMode, string>>;
  timeoutMs: number;
  limits: MaxAge;
}

const baseUrl = (value: unknown, fallback: string, option: string): string =>
  checkHttpUrl(value ?? fallback, option, NUSA_SOURCE).href.replace(/\/+$/, '');

/** Checked at construction: a missing key or a bad URL fails at boot, not at the first payment. */
export function readNusaOptions(options: NusaOptions): NusaSettings {
  const given: unknown = options?.serverKeys;
  if (!Array.isArray(given) || given.length === 0)
    throw new ProviderConfigError('serverKeys', 'must list at least one server key', {
      source: NUSA_SOURCE,
    });
  const { keys, modes } = splitKeyModes<unknown>(given, options, 'serverKeys', NUSA_SOURCE);
  const serverKeys = keys.map((key, i) =>
    checkRequiredText(key, `serverKeys[${i}]`, 'a server key from the Nusa dashboard', NUSA_SOURCE),
  );
  const query = options.statusQuery ?? {};
  return {
    serverKeys,
    keyModes: modes,
    baseUrls: Object.freeze({
      live: baseUrl(query.baseUrl, NUSA_API, 'statusQuery.baseUrl'),
      test: baseUrl(query.sandboxBaseUrl, NUSA_SANDBOX_API, 'statusQuery.sandboxBaseUrl'),
    }),
    timeoutMs: checkPositiveMs(query.timeoutMs, 10_000, 'statusQuery.timeoutMs', NUSA_SOURCE),
    limits: resolveMaxAge(options, NUSA_SOURCE),
  };
}
