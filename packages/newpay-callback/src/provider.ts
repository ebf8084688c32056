import { ProviderConfigError, type PaymentHub, type PaymentProvider } from '@payhook/core';
import {
  assertTimeZone,
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  createGatewayMiddleware,
  defineProvider,
  loadPrivateKey,
  loadPublicKeys,
  resolveMaxAge,
  type GatewayMiddleware,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { normalizeCallback } from './normalize';
import { createFetchStatus, DEFAULT_QUERY_BASE_URL } from './query';
import { newpayCallbackSchema } from './schema';
import { SOURCE } from './sign';
import type {
  NewpayCallback,
  NewpayMiddlewareOptions,
  NewpayProviderOptions,
  NewpayQueryOptions,
} from './types';
import { verifyCallbackBody, type CallbackVerifierConfig } from './verify';

export const NEWPAY_PROVIDER_ID = 'newpay';
export const DEFAULT_TIME_ZONE = 'Asia/Vientiane';

const fail = (option: string, problem: string, cause?: unknown): never => {
  throw new ProviderConfigError(option, problem, { source: SOURCE, cause });
};

function checkAppId(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.trim() !== '' && value.trim() === value) return value;
  return fail('appId', 'is required: your NewPay appId (a string or a whole number)');
}

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

function checkQuery(query: NewpayQueryOptions) {
  if (typeof query !== 'object' || query === null) fail('query', 'must be an object');
  checkRequiredText(query.mchId, 'query.mchId', 'your NewPay mchId, to query NewPay', SOURCE);
  if (query.merchantPrivateKey === undefined)
    fail('query.merchantPrivateKey', 'is required to sign queries');
  const merchantPrivateKey = loadPrivateKey(
    query.merchantPrivateKey,
    'query.merchantPrivateKey',
    SOURCE,
  );
  const baseUrl = query.baseUrl ?? DEFAULT_QUERY_BASE_URL;
  checkHttpUrl(baseUrl, 'query.baseUrl', SOURCE);
  const timeoutMs = checkPositiveMs(query.timeoutMs, 10_000, 'query.timeoutMs', SOURCE);
  return { mchId: query.mchId, merchantPrivateKey, baseUrl, timeoutMs };
}

/** The NewPay provider: v1 and v2 payment and refund callbacks, SHA256withRSA. */
export function createNewpayProvider(
  options: NewpayProviderOptions,
): PaymentProvider<NewpayCallback> {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  if (options.platformPublicKey === undefined || options.platformPublicKey === null)
    fail('platformPublicKey', 'is required: the NewPay platform public key (PEM or Base64 DER)');
  // One key, or several during a rotation (old and new), tried in order.
  const publicKeys = loadPublicKeys(options.platformPublicKey, 'platformPublicKey', SOURCE);
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
    readings: {
      emptyValues: checkReading(options.emptyValues, 'emptyValues', [
        'either',
        'keep',
        'drop',
      ] as const),
      nestedKeys: checkReading(options.nestedKeys, 'nestedKeys', [
        'either',
        'sorted',
        'received',
      ] as const),
    },
  };
  const query = options.query === undefined ? undefined : checkQuery(options.query);
  return defineProvider<NewpayCallback>({
    id: NEWPAY_PROVIDER_ID,
    source: SOURCE,
    schema: newpayCallbackSchema,
    contentTypes: ['application/json'],
    verify: (delivery) =>
      verifyCallbackBody(delivery, verifier) as unknown as
        NewpayCallback | VerifiedPayload<NewpayCallback>,
    normalize: (raw, context) =>
      normalizeCallback(raw, { timeZone, receivedAt: context.delivery.receivedAt }),
    // The hub checks at mount that its retention outlives this.
    maxAgeMs: maxAge.maxAgeMs,
    clockSkewMs: maxAge.clockSkewMs,
    ack: {
      ok: { status: 200, body: { transResult: 'SUCCESS' } },
      retry: { status: 500, body: { transResult: 'FAIL' } },
    },
    fetchStatus: query ? createFetchStatus({ verifier, timeZone, ...query }) : undefined,
  });
}

/** Express middleware for NewPay callbacks: mount it on the callBackUrl path. */
export function createNewpayMiddleware(
  hub: PaymentHub,
  options: NewpayMiddlewareOptions,
): GatewayMiddleware<NewpayCallback> {
  return createGatewayMiddleware(hub, options, createNewpayProvider);
}
