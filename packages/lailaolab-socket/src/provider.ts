import {
  createGatewayMiddleware,
  defineProvider,
  ProviderConfigError,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
  type ReplyInit,
  type StatusLookup,
  type WebhookMiddleware,
} from '@payhook/core/plugin';
import { writeHealth } from './health';
import { normalizeMessage, normalizeStatus, type LailaolabConfirmation } from './normalize';
import {
  resolveProviderOptions,
  type LailaolabMiddlewareOptions,
  type LailaolabProviderOptions,
  type ResolvedOptions,
} from './options';
import {
  messageSchema,
  PROVIDER_ID,
  SOURCE,
  type LailaolabMessage,
  type LailaolabPayload,
} from './schema';
import { createLailaolabStatusClient } from './status-query';
import { awaitedOn, createStatusLookup, type IsAwaited } from './confirm';
import { createConfirm, decodeDelivery, isDecodedDelivery } from './verify';

export type LailaolabProvider = PaymentProvider<
  LailaolabPayload,
  LailaolabConfirmation | undefined
>;

/**
 * Lailaolab documents only "return with status 200 for success"
 * (https://payment-doc.lailaolab.com/v1/connect-subscription/debit-subscription); nothing is said of
 * retries.
 */
export const LAILAOLAB_ACK: { ok: ReplyInit; retry: ReplyInit } = {
  ok: { status: 200, body: 'OK' },
  retry: { status: 500, body: 'RETRY' },
};

/**
 * When the awaited-payment sweeper asks the status API. The socket has no replay (a message missed
 * while disconnected never comes again), the webhook is unsigned (every outcome is confirmed by a
 * status query anyway) and nothing is said of its retries
 * (https://payment-doc.lailaolab.com/v1/connect-subscription/debit-subscription): the status
 * query is the one dependable way to hear of a payment, so a first check 30 s after the payment is
 * awaited and at least every 5 minutes after that (core's: 60 s, doubling to 30 minutes).
 */
const LAILAOLAB_SWEEP = Object.freeze({ firstCheckMs: 30_000, maxIntervalMs: 5 * 60_000 });

/**
 * The status API answers by the gateway's transactionId only
 * (`GET /v1/api/payment/check-transaction/status/{transactionId}`,
 * https://payment-doc.lailaolab.com/v1/check-transaction-status): there is no lookup by the
 * merchant's order number, so the hub must not ask by one.
 */
const LAILAOLAB_LOOKUPS: readonly StatusLookup[] = ['reference'];

/**
 * The Lailaolab (PhaJay) provider. Socket deliveries (`transport: 'socket'`, empty body, decoded
 * `message`) come through the secret channel; webhook deliveries (JSON body) carry no signature.
 * Its `confirm` step asks the status API about every payment outcome of the webhook, and of the
 * socket unless `confirmByStatusQuery: false`; normalize then builds the event from that record.
 */
export function createLailaolabProvider(options: LailaolabProviderOptions): LailaolabProvider {
  return buildProvider(resolveProviderOptions(options));
}

/**
 * The provider from checked options: the source and the middleware build theirs this way, sharing
 * the checks, and give `isAwaited` (the hub's awaited list) so that the webhook's budget counts
 * only ids nobody awaits.
 */
export function buildProvider(resolved: ResolvedOptions, isAwaited?: IsAwaited): LailaolabProvider {
  const { timeZone, currency } = resolved;
  const client = createLailaolabStatusClient({
    apiKey: resolved.apiKey,
    apiBase: resolved.apiBase,
    timeoutMs: resolved.statusTimeoutMs,
  });
  const lookup = createStatusLookup(client, resolved.cache, isAwaited);
  return defineProvider<LailaolabPayload, LailaolabConfirmation | undefined>({
    id: PROVIDER_ID,
    source: SOURCE,
    schema: messageSchema,
    verification: 'secret-channel',
    maxAgeMs: resolved.maxAge.maxAgeMs,
    clockSkewMs: resolved.maxAge.clockSkewMs,
    verify: decodeDelivery,
    confirm: createConfirm({ resolved, client, lookup }),
    normalize: (raw, { delivery, confirmation }) =>
      normalizeMessage(raw as LailaolabMessage, {
        timeZone,
        currency,
        receivedAt: delivery.receivedAt,
        channel: isDecodedDelivery(delivery) ? 'socket' : 'webhook',
        confirmation,
      }),
    ack: LAILAOLAB_ACK,
    async fetchStatus(transactionId, asked) {
      // statusLookups says 'reference' only: another lookup is a caller's bug, refused unasked.
      if (asked !== undefined && asked?.by !== 'reference')
        throw new TypeError(
          `${SOURCE}: the status API looks up a transactionId only, not by ${String(asked?.by)}`,
        );
      // Always a fresh answer: the sweep asks because the record may have changed.
      const result = await client.check(transactionId);
      if (!result.found) return null;
      const drafts = normalizeStatus(result.response, {
        timeZone,
        currency,
        receivedAt: new Date(),
      });
      return Array.isArray(drafts) ? drafts.map((d) => ({ ...d, raw: result.response })) : drafts;
    },
    statusLookups: LAILAOLAB_LOOKUPS,
    sweep: LAILAOLAB_SWEEP,
    // No key list: the mount's mode is every delivery's (options.ts), checked by core.
    mode: resolved.mode,
    allowTestMode: resolved.allowTestMode,
  });
}

/**
 * With a source, the webhook runs the source's provider and its mode: a `mode` given here that
 * differs would be ignored, and the webhook's events would silently be of the other mode.
 */
function checkSourceMode(options: LailaolabMiddlewareOptions): void {
  const { source, mode } = options;
  if (source === undefined || mode === undefined) return;
  const sourceMode = source.provider.mode ?? 'live';
  if (mode !== sourceMode)
    throw new ProviderConfigError(
      'mode',
      `is ${String(mode)} but the source's is ${sourceMode}: the webhook runs the source's provider; give mode to createLailaolabSource`,
      { source: SOURCE },
    );
}

/**
 * Express middleware for the Lailaolab portal webhook (POST, unsigned: every payment outcome is
 * confirmed through the status API before it is emitted) and a health route (GET/HEAD) for the
 * host app's probes: 200 when the socket is connected or there is none, 503 otherwise.
 */
export function createLailaolabMiddleware(
  hub: PaymentHub,
  options: LailaolabMiddlewareOptions,
): GatewayMiddleware<LailaolabPayload> {
  if (!options || typeof options !== 'object')
    throw new ProviderConfigError('options', 'must be an object', { source: SOURCE });
  const source = options.source;
  if (source !== undefined && (typeof source.status !== 'function' || !source.provider))
    throw new ProviderConfigError('source', 'must come from createLailaolabSource()', {
      source: SOURCE,
    });
  checkSourceMode(options);
  // A payment heard through the webhook settles its awaited payment in hub.receive.
  const webhook = createGatewayMiddleware(
    hub,
    options,
    // A running source shares its provider; without one, the webhook has its own, which reads the
    // hub's awaited list too.
    (providerOptions): PaymentProvider<LailaolabPayload> =>
      source?.provider ??
      buildProvider(
        resolveProviderOptions(providerOptions as LailaolabProviderOptions, hub.logger),
        awaitedOn(hub, (providerOptions as LailaolabProviderOptions).mode),
      ),
  );
  const middleware: WebhookMiddleware = (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD')
      return writeHealth(res, source, req.method === 'HEAD');
    return webhook(req, res, next);
  };
  return Object.assign(middleware, { provider: webhook.provider });
}
