import type { PaymentHub, PaymentProvider } from '@payhook/core';
import {
  createGatewayMiddleware,
  defineProvider,
  type GatewayMiddleware,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { normalizeCallback } from './normalize';
import {
  resolveOptions,
  type NewpayMiddlewareOptions,
  type NewpayProviderOptions,
} from './options';
import { createFetchStatus } from './query';
import { NEWPAY_PROVIDER_ID, newpayCallbackSchema, SOURCE, type NewpayCallback } from './schema';
import { verifyCallbackBody } from './verify';

/** The NewPay provider: v1 and v2 payment and refund callbacks, SHA256withRSA. */
export function createNewpayProvider(
  options: NewpayProviderOptions,
): PaymentProvider<NewpayCallback> {
  const { verifier, timeZone, query } = resolveOptions(options);
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
    maxAgeMs: verifier.maxAge.maxAgeMs,
    clockSkewMs: verifier.maxAge.clockSkewMs,
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
