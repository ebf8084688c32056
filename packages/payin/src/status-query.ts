import {
  formatFieldProblems,
  PayloadError,
  StatusMismatchError,
  type PaymentProvider,
  type StatusLookup,
} from '@payhook/core/plugin';
import type { PayinClient } from './client';
import { normalizeOrder } from './normalize';
import type { PayinSettings } from './options';
import { SOURCE, type CashyPayinWebhook } from './schema';

/**
 * The provider's fetchStatus over `client` (`provider` is asked for lazily: the provider holds
 * this function, and its `validate` checks the answer).
 */
export function createFetchStatus(
  client: PayinClient,
  provider: () => PaymentProvider<CashyPayinWebhook>,
  settings: PayinSettings,
) {
  return (key: string, lookup?: { by: StatusLookup }) =>
    fetchOrder(client, provider(), settings, key, lookup);
}

/**
 * fetchStatus: the /api/payInQuery order, held to the webhook's schema, as its event. The query
 * takes `mchOrderNo` or `orderNo` ("First use orderNo",
 * https://docs.cashypro.com/en_us/col/other-query.html): Cashy's orderNo for a reference, the
 * merchant's mchOrderNo for `lookup.by` 'orderId'. The answer must name the number asked by.
 */
async function fetchOrder(
  client: PayinClient,
  provider: PaymentProvider<CashyPayinWebhook>,
  settings: PayinSettings,
  key: string,
  lookup: { by: StatusLookup } | undefined,
) {
  const field = lookupField(lookup);
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError(`${SOURCE}: fetchStatus needs an ${field}`);
  const order = await client.queryPayin(
    field === 'orderNo' ? { orderNo: key } : { mchOrderNo: key },
  );
  const problems = provider.validate(order);
  if (problems) {
    throw new PayloadError(
      `/api/payInQuery answered an order that does not match the schema: ${formatFieldProblems(problems)}`,
      { source: SOURCE, fields: problems },
    );
  }
  // A PATCH order has its own mchOrderNo (the original's plus a serial), so this compares the
  // number asked by, not the event's orderId.
  if (order[field] !== key) {
    throw new StatusMismatchError(
      `/api/payInQuery: asked about ${field} ${key}, Cashy answered about ${field} ${order[field]}`,
      SOURCE,
    );
  }
  return normalizeOrder(order, settings, new Date(), 'status-query');
}

/** The query field for `lookup` (none: by reference, core's contract); anything else is a bug. */
function lookupField(lookup: { by: StatusLookup } | undefined): 'orderNo' | 'mchOrderNo' {
  // A JavaScript caller's null or other word is refused rather than read as a reference.
  const by: unknown = lookup === undefined ? 'reference' : lookup?.by;
  if (by === 'reference') return 'orderNo';
  if (by === 'orderId') return 'mchOrderNo';
  throw new TypeError(
    `${SOURCE}: fetchStatus looks up by 'reference' or 'orderId', not ${String(by)}`,
  );
}
