import {
  createGatewayMiddleware,
  defineProvider,
  isPaymentMode,
  ProviderConfigError,
  type GatewayMiddleware,
  type PaymentHub,
  type PaymentProvider,
} from '@payhook/core/plugin';
import { createPayinClient } from './client';
import { normalizeOrder } from './normalize';
import {
  checkBaseUrl,
  checkTimeout,
  readProviderOptions,
  readStatusQuery,
  upgradeOptions,
  type PayinMiddlewareOptions,
  type PayinProviderOptions,
  type PayinSettings,
} from './options';
import { SOURCE, cashyWebhookSchema, type CashyPayinWebhook } from './schema';
import { createFetchStatus } from './status-query';
import { verifyWebhook } from './verify';

export const PAYIN_PROVIDER_ID = 'cashy';

/**
 * When the awaited-payment sweeper asks /api/payInQuery. Cashy retries a webhook 1, 2, 4 … 512
 * minutes after the first attempt, 10 times over about 17 h (its payin page,
 * https://docs.cashypro.com/en_us/<country>/payin.html): a first check 2 minutes after the
 * payment is awaited spares a query when the webhook or its 1-minute retry came. The cap of 30
 * minutes keeps asking through Cashy's 4- and 8-hour gaps between late retries, when the query is
 * the faster way to hear of the payment.
 */
const CASHY_SWEEP = Object.freeze({ firstCheckMs: 2 * 60_000, maxIntervalMs: 30 * 60_000 });

/**
 * The Cashy payin provider: webhooks signed `MD5(raw body + apiKey)` in the `Sign` header, the
 * merchant in `MerchantId`, acknowledged with the plain text `SUCCESS`.
 */
export function createPayinProvider(
  given: PayinProviderOptions,
): PaymentProvider<CashyPayinWebhook> {
  const settings = readProviderOptions(given);
  const options = upgradeOptions(given);
  // Deprecated names are checked under their own names, as given; `timeoutMs` alone enabled
  // nothing and still does not.
  const statusQuery = usesDeprecatedNames(given)
    ? given.baseUrl === undefined
      ? undefined
      : { baseUrl: checkBaseUrl(given.baseUrl).href, timeoutMs: checkTimeout(given.timeoutMs) }
    : readStatusQuery(options.statusQuery);
  const client =
    statusQuery === undefined
      ? undefined
      : createPayinClient({
          ...statusQuery,
          merchantId: settings.merchantId,
          // The key in force of the mount's mode signs requests: the first of it in the list.
          apiKey: requestKeyOf(settings, given.mode),
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
    fetchStatus: client ? createFetchStatus(client, () => provider, settings) : undefined,
    // /api/payInQuery takes either order number (fetchOrder): an order the merchant awaits by its
    // own number can be asked about before Cashy's orderNo is known.
    statusLookups: client ? ['reference', 'orderId'] : undefined,
    sweep: CASHY_SWEEP,
    // Checked by core: a sandbox apiKey on a live mount needs allowTestMode, or it is refused here.
    mode: given.mode,
    allowTestMode: given.allowTestMode,
    keyModes: settings.keyModes,
  });
  return provider;
}

/**
 * The apiKey that signs status queries. A mount whose list holds no key of its own mode has none:
 * refused at construction, naming statusQuery, rather than asking the API of one mode with the
 * other's key at every sweep. An unknown mode is left to defineProvider, whose error names it.
 */
function requestKeyOf(settings: PayinSettings, mode: unknown): string {
  if (settings.requestKey !== undefined) return settings.requestKey;
  if (!isPaymentMode(mode ?? 'live')) return settings.apiKeys[0]!;
  throw new ProviderConfigError(
    'statusQuery',
    `needs an apiKey of the mount's mode (${String(mode ?? 'live')}) to sign its requests`,
    { source: SOURCE },
  );
}

const usesDeprecatedNames = (options: PayinProviderOptions): boolean =>
  options.baseUrl !== undefined || options.timeoutMs !== undefined;

/** The Express middleware for Cashy's async payin webhook: `app.use('/webhooks/cashy', ...)`. */
export function createPayinMiddleware(
  hub: PaymentHub,
  options: PayinMiddlewareOptions,
): GatewayMiddleware<CashyPayinWebhook> {
  // The hub's logger hears of deprecated options; the provider then sees the new shape only.
  return createGatewayMiddleware(hub, upgradeOptions(options, hub.logger), createPayinProvider);
}
