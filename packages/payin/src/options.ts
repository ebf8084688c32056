import { ProviderConfigError } from '@payhook/core';
import { checkHttpUrl, checkPositiveMs, checkRequiredText } from '@payhook/core/plugin';

export const SOURCE = '@payhook/payin';

const fail = (option: string, problem: string, cause?: unknown): never => {
  throw new ProviderConfigError(option, problem, { source: SOURCE, cause });
};

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
 * One apiKey, or several during a rotation (old and new, tried in that order). The first one signs
 * API requests, so list the key in force first.
 */
export function checkApiKeys(value: unknown): string[] {
  if (!Array.isArray(value)) return [checkApiKey(value)];
  if (value.length === 0) return fail('apiKey', 'must hold at least one apiKey');
  return value.map((key, i) => checkApiKey(key, `apiKey[${i}]`));
}

/** Joined by appending `api/payIn`, so a path prefix such as `/stage-api/` is kept. */
export function checkBaseUrl(value: unknown): URL {
  const url = checkHttpUrl(value, 'baseUrl', SOURCE);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

export function checkTimeout(value: unknown): number {
  return checkPositiveMs(value, 10_000, 'timeoutMs', SOURCE);
}

export { fail as configFail };
