import {
  createGatewayMiddleware,
  defineProvider,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import { normalizeCallback } from './normalize';
import {
  resolveOptions,
  upgradeOptions,
  type NewpayMiddlewareOptions,
  type NewpayProviderOptions,
} from './options';
import { createFetchStatus } from './status-query';
import { NEWPAY_PROVIDER_ID, newpayCallbackSchema, SOURCE, type NewpayCallback } from './schema';
import { verifyCallbackBody } from './verify';

/**
 * When the awaited-payment sweeper asks uniQueryPay. NewPay retries a callback 3 times and stops
 * (v2: after 10 s, 5 min and 30 min; v1: every 5 min: NewPay's API documentation,
 * https://newpay-api-document.gitbook.io/newpay-api-document/). A first check a minute after the
 * payment is awaited spares a query when the callback or its 10 s retry came; the cap of 10
 * minutes (core's is 30) keeps asking at least that often once NewPay's retries are over (~35
 * min), when the query is the only way left to hear of the payment.
 */
const NEWPAY_SWEEP = Object.freeze({ firstCheckMs: 60_000, maxIntervalMs: 10 * 60_000 });

/** The NewPay provider: v1 and v2 payment and refund callbacks, SHA256withRSA. */
export function createNewpayProvider(
  options: NewpayProviderOptions,
): PaymentProvider<NewpayCallback> {
  const { verifier, timeZone, keyModes, query } = resolveOptions(options);
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
    fetchStatus: query ? createFetchStatus({ timeZone, ...query }) : undefined,
    // uniQueryPay takes either order number (status-query.ts), so an order the merchant awaits by its own
    // number can be asked about before NewPay's number is known.
    statusLookups: query ? ['reference', 'orderId'] : undefined,
    sweep: NEWPAY_SWEEP,
    // Checked by core: a sandbox key on a live mount needs allowTestMode, or it is refused here.
    mode: options.mode,
    allowTestMode: options.allowTestMode,
    keyModes,
  });
}

/** Express middleware for NewPay callbacks: mount it on the callBackUrl path. */
export function createNewpayMiddleware(
  hub: PaymentHub,
  options: NewpayMiddlewareOptions,
): GatewayMiddleware<NewpayCallback> {
  // The hub's logger hears of deprecated options; the provider then sees the new shape only.
  return createGatewayMiddleware(hub, upgradeOptions(options, hub.logger), createNewpayProvider);
}
