import {
  createGatewayMiddleware,
  defineProvider,
  verified,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
} from '@payhook/core/plugin';
import { normalizeParam, normalizeQueryData } from './normalize';
import {
  checkOptionsObject,
  readPlatformKeys,
  readQueryConfig,
  readSettings,
  upgradeOptions,
  type SignedParamMiddlewareOptions,
  type SignedParamOptions,
} from './options';
import { keyFingerprint, registerMount } from './mounts';
import { createPaymentQuery } from './status-query';
import { SOURCE, PARAM_SCHEMA, type SignedParamPayload, type SignedParamRaw } from './schema';
import { verifySignedParam } from './verify';

export const DEFAULT_PROVIDER_ID = 'signed-param';

/**
 * The platform's fixed success answer (its Payment Notification pages: "code ... fixed value 10000",
 * e.g. https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html).
 */
export const ACK_OK = Object.freeze({ code: 10000, message: 'Success' });
/** Anything else makes the platform deliver again; this body says why. */
export const ACK_RETRY = Object.freeze({ code: 50300, message: 'Retry later' });

/**
 * When the awaited-payment sweeper asks the payment query. No page of the platform's docs gives a
 * retry schedule for notifications (neither the notification pages cited above nor the query's,
 * https://docs.paycools.com/en/v2/Payment/CollectionStatus.html), so a lost notification may
 * never come again: a first check a minute after the payment is awaited, then at least every 10
 * minutes (core's cap is 30), since the query may be the only way to hear of the payment.
 */
const PLATFORM_SWEEP = Object.freeze({ firstCheckMs: 60_000, maxIntervalMs: 10 * 60_000 });

/** The "Platform" provider: `{param, sign}` notifications, SHA256withRSA over the param text. */
export function createSignedParamProvider(
  options: SignedParamOptions,
): PaymentProvider<SignedParamRaw> {
  checkOptionsObject(options);
  const { publicKeys, keyModes } = readPlatformKeys(options);
  const settings = readSettings(options);
  const query = readQueryConfig(options, settings);
  return defineProvider<SignedParamRaw>({
    id: options.id ?? DEFAULT_PROVIDER_ID,
    source: SOURCE,
    schema: PARAM_SCHEMA,
    contentTypes: ['application/json'],
    verification: 'signature',
    verify: (delivery) => {
      const { payload, keyIndex } = verifySignedParam(delivery.body, publicKeys);
      return verified(payload, { keyIndex });
    },
    normalize: (raw, { delivery }) =>
      normalizeParam(raw as SignedParamPayload, settings, {
        receivedAt: delivery.receivedAt,
        checkAge: true,
      }),
    // The hub checks at mount that it remembers processed events for longer than this.
    maxAgeMs: settings.limits.maxAgeMs,
    clockSkewMs: settings.limits.clockSkewMs,
    ack: { ok: { body: { ...ACK_OK } }, retry: { status: 503, body: { ...ACK_RETRY } } },
    fetchStatus: query
      ? createPaymentQuery(query, (data, receivedAt) =>
          normalizeQueryData(data, settings, receivedAt),
        )
      : undefined,
    // The payment query takes mchOrderId or transactionId (status-query.ts).
    statusLookups: query ? ['reference', 'orderId'] : undefined,
    // A mount with an orderIdPrefix asks only about its own orders (mounts.ts): mounts sharing the
    // id each recover their own awaited payments.
    asksAbout: ({ orderId }) =>
      settings.orderIdPrefix === undefined ||
      orderId === null ||
      orderId.startsWith(settings.orderIdPrefix),
    sweep: PLATFORM_SWEEP,
    // Checked by core: a sandbox key on a live mount needs allowTestMode, or it is refused here.
    mode: options.mode,
    allowTestMode: options.allowTestMode,
    keyModes,
  });
}

/**
 * The Express middleware for the notification URL, with the provider it runs on. Mounts of one hub
 * that share a platform key must keep their payments apart with `orderIdPrefix` (mounts.ts):
 * refused here, at boot, otherwise.
 */
export function createSignedParamMiddleware(
  hub: PaymentHub,
  options: SignedParamMiddlewareOptions,
): GatewayMiddleware<SignedParamRaw> {
  // The hub's logger hears of deprecated options; the provider then sees the new shape only.
  const middleware = createGatewayMiddleware(
    hub,
    upgradeOptions(options, hub.logger),
    createSignedParamProvider,
  );
  // The options passed the provider's checks above: the keys load and the prefix is a string.
  // Every key counts, whatever its mode: a sandbox key shared by two mounts credits twice too.
  const { publicKeys } = readPlatformKeys(options);
  registerMount(hub, {
    id: middleware.provider.id,
    fingerprints: publicKeys.map(keyFingerprint),
    orderIdPrefix: options.orderIdPrefix,
  });
  return middleware;
}
