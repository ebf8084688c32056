import { ProviderConfigError } from './errors';

/**
 * Option checks every gateway plugin needs at construction. Each throws a ProviderConfigError
 * naming the option, so a bad setting stops the app at boot rather than at the first payment.
 */

/** An http(s) URL, parsed; anything else names the option. */
export function checkHttpUrl(value: unknown, option: string, source?: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ProviderConfigError(option, 'must be an http(s) URL', { source });
  }
  return url;
}

/** A positive whole number of milliseconds, or `fallback` when absent. */
export function checkPositiveMs(
  value: unknown,
  fallback: number,
  option: string,
  source?: string,
): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0) {
    throw new ProviderConfigError(option, 'must be a positive whole number of milliseconds', {
      source,
    });
  }
  return ms;
}

/** A non-empty string (a key, an id); `what` says where the merchant finds it. */
export function checkRequiredText(
  value: unknown,
  option: string,
  what: string,
  source?: string,
): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ProviderConfigError(option, `is required: ${what}`, { source });
  }
  return value;
}
