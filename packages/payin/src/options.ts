import { ProviderConfigError } from '@payhook/core';

export const SOURCE = '@payhook/payin';

const fail = (option: string, problem: string, cause?: unknown): never => {
  throw new ProviderConfigError(option, problem, { source: SOURCE, cause });
};

/** Cashy answers `MerchantId_not_Number` to anything else (providers.md §4.6). */
export function checkMerchantId(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,32}$/.test(text.trim()))
    return fail('merchantId', 'is required: your numeric Cashy merchant id');
  return text.trim();
}

export function checkApiKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    return fail('apiKey', 'is required: the apiKey from the Cashy merchant back office');
  return value;
}

/** Joined by appending `api/payIn`, so a path prefix such as `/stage-api/` is kept. */
export function checkBaseUrl(value: unknown): URL {
  if (typeof value !== 'string') return fail('baseUrl', 'must be the Cashy API base URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    return fail('baseUrl', 'is not a URL', cause);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return fail('baseUrl', 'must be an http(s) URL');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

export function checkTimeout(value: unknown): number {
  if (value === undefined) return 10_000;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    return fail('timeoutMs', 'must be a positive whole number of milliseconds');
  return value;
}

export { fail as configFail };
