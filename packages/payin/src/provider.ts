import { PayloadError, type PaymentHub, type PaymentProvider } from '@payhook/core';
import {
  createGatewayMiddleware,
  defineProvider,
  formatFieldProblems,
  type GatewayMiddleware,
} from '@payhook/core/plugin';
import { createPayinClient, type PayinClient } from './client';
import { normalizeOrder } from './normalize';
import {
  checkTimeout,
  readProviderOptions,
  type PayinMiddlewareOptions,
  type PayinProviderOptions,
  type PayinSettings,
} from './options';
import { SOURCE, cashyWebhookSchema, type CashyPayinWebhook } from './schema';
import { verifyWebhook } from './verify';

export const PAYIN_PROVIDER_ID = 'cashy';

/**
 * The Cashy payin provider: webhooks signed `MD5(raw body + apiKey)` in the `Sign` header, the
 * merchant in `MerchantId`, acknowledged with the plain text `SUCCESS`.
 */
export function createPayinProvider(
  options: PayinProviderOptions,
): PaymentProvider<CashyPayinWebhook> {
  const settings = readProviderOptions(options);
  const client =
    options.baseUrl === undefined
      ? undefined
      : createPayinClient({
          baseUrl: options.baseUrl,
          merchantId: settings.merchantId,
          // The key in force signs requests: the first of a rotation's list.
          apiKey: settings.apiKeys[0]!,
          timeoutMs: checkTimeout(options.timeoutMs),
        });
  const provider: PaymentProvider<CashyPayinWebhook> = defineProvider<CashyPayinWebhook>({
    id: PAYIN_PROVIDER_ID,
    source: SOURCE,
    schema: cashyWebhookSchema,
    verify: (delivery) => verifyWebhook(delivery, settings),
    normalize: (raw, context) => normalizeOrder(raw, settings, context.delivery.receivedAt),
    // The hub checks at mount that it remembers processed events for longer than this.
    maxAgeMs: settings.limits.maxAgeMs,
    clockSkewMs: settings.limits.clockSkewMs,
    ack: {
      ok: { status: 200, body: 'SUCCESS' },
      retry: { status: 500, body: 'FAIL' },
    },
    fetchStatus: client
      ? (orderNo: string) => fetchOrder(client, provider, settings, orderNo)
      : undefined,
  });
  return provider;
}

/** fetchStatus: the /api/payInQuery order, held to the webhook's schema, as its event. */
async function fetchOrder(
  client: PayinClient,
  provider: PaymentProvider<CashyPayinWebhook>,
  settings: PayinSettings,
  orderNo: string,
) {
  const order = await client.queryPayin({ orderNo });
  const problems = provider.validate(order);
  if (problems) {
    throw new PayloadError(
      `/api/payInQuery answered an order that does not match the schema: ${formatFieldProblems(problems)}`,
      { source: SOURCE, fields: problems },
    );
  }
  return normalizeOrder(order, settings, new Date(), 'status-query');
}

/** The Express middleware for Cashy's async payin webhook: `app.use('/webhooks/cashy', ...)`. */
export function createPayinMiddleware(
  hub: PaymentHub,
  options: PayinMiddlewareOptions,
): GatewayMiddleware<CashyPayinWebhook> {
  return createGatewayMiddleware(hub, options, createPayinProvider);
}
