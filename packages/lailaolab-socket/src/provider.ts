import {
  GatewayApiError,
  PayloadError,
  ProviderConfigError,
  StaleDeliveryError,
  StatusMismatchError,
  type Delivery,
  type PaymentProvider,
} from '@payhook/core';
import {
  assertTimeZone,
  checkSignedTime,
  decimalEquals,
  defineProvider,
  resolveMaxAge,
  type MaxAge,
  type MaxAgeOptions,
  type ReplyInit,
} from '@payhook/core/plugin';
import {
  classifyMessage,
  decodeMessage,
  DEFAULT_TIME_ZONE,
  kipAmount,
  messageSchema,
  normalizeMessage,
  normalizeStatus,
  PROVIDER_ID,
  recordCurrency,
  recordTimeMs,
  SOURCE,
  statusIsFailed,
  statusIsPaid,
  type LailaolabConfirmation,
} from './normalize';
import { checkKey, createLailaolabStatusClient, type LailaolabStatusClient } from './status-client';
import { checkCacheOptions, createStatusLookup, type StatusLookup } from './status-lookup';
import type { LailaolabMessage, LailaolabPayload, LailaolabStatusData } from './types';

export interface LailaolabProviderOptions extends MaxAgeOptions {
  /** The secret key from the PhaJay portal: `?key=` and `join::<key>` on the socket. */
  secretKey: string;
  /** Key for the status API's Basic auth, when it differs from `secretKey`. */
  apiKey?: string;
  /** Status API host (default https://payment-gateway.lailaolab.com). */
  apiBase?: string;
  /** IANA zone of `txnDateTime` and of the status API's times without an offset (default Asia/Vientiane). */
  timeZone?: string;
  /**
   * Currency of a status record that states none, and of secret-channel messages (default `LAK`:
   * the gateway's amounts are kip, https://payment-doc.lailaolab.com/v1/subscription). Never taken
   * from the message: a `sourceCurrency` that differs from it is refused.
   */
  currency?: string;
  /**
   * Confirm every socket payment outcome through the status API before emitting it (default
   * true). `false` trusts the secret channel alone: events then say `verification:
   * 'secret-channel'` and carry the message's own order, amount and time. Webhook deliveries are
   * always confirmed: they carry no signature.
   */
  confirmByStatusQuery?: boolean;
  /** Timeout of one status API call (default 10,000 ms). */
  statusTimeoutMs?: number;
  /**
   * Webhook only (anyone can POST it): how long a status answer that will not change (not found,
   * paid, failed, expired, refunded) is reused for other webhooks naming the same transaction, in
   * ms (default 30,000; 0: never).
   */
  statusCacheMs?: number;
  /** Webhook only: most status answers kept for reuse; the oldest goes first (default 1,000). */
  statusCacheSize?: number;
  /**
   * Webhook only: most status queries in flight at once; beyond it the webhook gets the retry
   * answer without a query (default 16). Socket messages, from the secret channel, and the
   * source's sweep (`statusConcurrency`) are not counted.
   */
  maxStatusQueries?: number;
}

/**
 * Lailaolab documents only "return with status 200 for success"
 * (https://payment-doc.lailaolab.com/v1/connect-subscription/debit-subscription); nothing is said of
 * retries.
 */
export const LAILAOLAB_ACK: { ok: ReplyInit; retry: ReplyInit } = {
  ok: { status: 200, body: 'OK' },
  retry: { status: 500, body: 'RETRY' },
};

export interface ResolvedOptions {
  secretKey: string;
  timeZone: string;
  currency: string;
  confirmByStatusQuery: boolean;
  maxAge: MaxAge;
  client: LailaolabStatusClient;
  lookup: StatusLookup;
}

export function resolveProviderOptions(options: LailaolabProviderOptions): ResolvedOptions {
  if (!options || typeof options !== 'object')
    throw new ProviderConfigError('options', 'must be an object with secretKey', {
      source: SOURCE,
    });
  const secretKey = checkKey(options.secretKey, 'secretKey');
  const apiKey = options.apiKey === undefined ? secretKey : checkKey(options.apiKey, 'apiKey');
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  const currency = options.currency ?? 'LAK';
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new ProviderConfigError('currency', 'must be an ISO 4217 code such as LAK', {
      source: SOURCE,
    });
  if (
    options.confirmByStatusQuery !== undefined &&
    typeof options.confirmByStatusQuery !== 'boolean'
  )
    throw new ProviderConfigError('confirmByStatusQuery', 'must be true or false', {
      source: SOURCE,
    });
  const maxAge = resolveMaxAge(options, SOURCE);
  const client = createLailaolabStatusClient({
    apiKey,
    apiBase: options.apiBase,
    timeoutMs: options.statusTimeoutMs,
  });
  return {
    secretKey,
    timeZone,
    currency,
    confirmByStatusQuery: options.confirmByStatusQuery ?? true,
    maxAge,
    client,
    lookup: createStatusLookup(client, checkCacheOptions(options)),
  };
}

/** A delivery whose transport already decoded it (socket.io): `message` set, no body bytes. */
export function isDecodedDelivery(delivery: Delivery): boolean {
  return delivery.message !== undefined && delivery.body.length === 0;
}

/**
 * The status API contradicts the delivery (or knows no such transaction). The message says what
 * differs, for the merchant's log and `error` listeners; the HTTP answer does not, so an
 * unauthenticated caller cannot read a transaction's real amount or status from the refusal.
 */
export class LailaolabMismatchError extends StatusMismatchError {
  constructor(problem: string) {
    super(`${problem}; no payment event is emitted`, SOURCE);
  }
  override toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: `${SOURCE}: the delivery does not match the gateway's record; nothing was emitted`,
    };
  }
}

const mismatch = (problem: string): LailaolabMismatchError => new LailaolabMismatchError(problem);

/** 401 ERR_DELIVERY_STALE; like the mismatch, its answer names neither the transaction nor its time. */
class LailaolabStaleError extends StaleDeliveryError {
  override toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: `${SOURCE}: the payment is older than the maximum age; refused as a possible replay`,
    };
  }
}

/**
 * Checks a message against the status record of the transaction it names. The message only
 * selects the transaction: any field of it the record contradicts (status, amount, currency,
 * order) refuses it, and the event is then built from the record alone.
 */
/** The record does not back the notice yet: a retryable 5xx, so the payment is asked about again. */
function notYet(id: string, status: string): GatewayApiError {
  return new GatewayApiError(
    `transaction ${id} is ${status} at the status API, not paid yet; the notice is asked for again`,
    { source: SOURCE, retryable: true },
  );
}

function judge(
  raw: LailaolabMessage,
  outcome: 'completed' | 'failed',
  data: LailaolabStatusData,
  resolved: ResolvedOptions,
  socket: boolean,
): LailaolabConfirmation {
  const id = raw.transactionId!;
  const isPaid = data.isPaid === false ? ' (isPaid false)' : '';
  if (outcome === 'completed' && !statusIsPaid(data)) {
    // A socket notice can beat the record: one still waiting is "not yet" (watched, swept again),
    // never a refusal that loses the payment.
    if (socket && !statusIsFailed(data) && data.status !== 'REFUNDED')
      throw notYet(id, data.status);
    throw mismatch(
      `transaction ${id} is PAYMENT_COMPLETED in the message but ${data.status}${isPaid} at the status API`,
    );
  }
  if (outcome === 'failed' && (statusIsPaid(data) || data.status === 'REFUNDED'))
    throw mismatch(
      `transaction ${id} is FAILED in the message but ${data.status} at the status API`,
    );
  const claimed = kipAmount(raw.txnAmount, 'txnAmount');
  let actual: string | undefined;
  try {
    actual = data.amount === undefined ? undefined : kipAmount(data.amount, 'amount');
  } catch {
    actual = undefined;
  }
  if (actual === undefined || !decimalEquals(claimed, actual))
    throw mismatch(
      `transaction ${id} carries ${claimed} in the message but ${actual ?? 'no amount'} at the status API`,
    );
  const currency = recordCurrency(data, resolved.currency);
  const claimedCurrency = raw.sourceCurrency;
  if (
    typeof claimedCurrency === 'string' &&
    claimedCurrency.length > 0 &&
    claimedCurrency !== currency
  )
    throw mismatch(
      `transaction ${id} is in ${claimedCurrency} in the message but ${currency} at the status API${data.currency ? '' : ' (the configured currency: the record states none)'}`,
    );
  const claimedOrder = raw.orderNo;
  const order = data.orderNo;
  if (
    typeof claimedOrder === 'string' &&
    claimedOrder.length > 0 &&
    typeof order === 'string' &&
    order.length > 0 &&
    claimedOrder !== order
  )
    throw mismatch(
      `transaction ${id} names order ${claimedOrder} in the message but ${order} at the status API`,
    );
  if (outcome === 'failed' && !statusIsFailed(data)) return { verdict: 'pending', record: data };
  // The record's time bounds the delivery's age: a paid transaction stays PAYMENT_COMPLETED at the
  // status API forever, so without it a genuine webhook replayed after the store forgot it would
  // credit again.
  const at = recordTimeMs(data, resolved.timeZone);
  try {
    checkSignedTime(at ?? Number.NaN, resolved.maxAge, {
      what: `the status record's time of transaction ${id} (paymentTime, else createdAt)`,
    });
  } catch (error) {
    if (!(error instanceof StaleDeliveryError)) throw error;
    // The same verdict, with the detail kept for the log and off the wire.
    throw new LailaolabStaleError(error.message.replace(/^@payhook\/core: /, ''), SOURCE);
  }
  return { verdict: 'confirmed', record: data };
}

/**
 * The Lailaolab (PhaJay) provider. Socket deliveries (`transport: 'socket'`, empty body, decoded
 * `message`) come through the secret channel; webhook deliveries (JSON body) carry no signature.
 * Its `confirm` step asks the status API about every payment outcome of the webhook, and of the
 * socket unless `confirmByStatusQuery: false`; normalize then builds the event from that record.
 */
export function createLailaolabProvider(
  options: LailaolabProviderOptions,
): PaymentProvider<LailaolabPayload, LailaolabConfirmation | undefined> {
  return buildProvider(resolveProviderOptions(options));
}

export function buildProvider(
  resolved: ResolvedOptions,
): PaymentProvider<LailaolabPayload, LailaolabConfirmation | undefined> {
  const { client, lookup, timeZone, currency } = resolved;
  return defineProvider<LailaolabPayload, LailaolabConfirmation | undefined>({
    id: PROVIDER_ID,
    source: SOURCE,
    schema: messageSchema,
    verification: 'secret-channel',
    maxAgeMs: resolved.maxAge.maxAgeMs,
    clockSkewMs: resolved.maxAge.clockSkewMs,
    verify(delivery) {
      const decoded = isDecodedDelivery(delivery);
      return decodeMessage(
        decoded ? delivery.message : delivery.body,
        decoded ? 'socket message' : 'webhook body',
      ) as LailaolabMessage;
    },
    async confirm(payload, { delivery }) {
      const raw = payload as LailaolabMessage;
      const outcome = classifyMessage(raw);
      // Not a payment outcome: nothing to confirm, and no status query spent on it.
      if (outcome === 'other') return undefined;
      const socket = isDecodedDelivery(delivery);
      if (socket && !resolved.confirmByStatusQuery) {
        // The secret channel, trusted: its currency is the configured one, never the message's.
        const claimed = raw.sourceCurrency;
        if (typeof claimed === 'string' && claimed.length > 0 && claimed !== currency)
          throw new PayloadError(
            `socket message for transaction ${raw.transactionId} is in ${claimed}, not the configured currency ${currency}; set the currency option, or confirm by status query`,
            { source: SOURCE },
          );
        return undefined;
      }
      // The webhook is open to anyone: its queries go through the cache and the cap. A socket
      // message comes through the secret channel and gets a query of its own, so that a webhook
      // for the same payment never waits on (or reuses) the socket's answer.
      const result = socket
        ? await client.check(raw.transactionId!)
        : await lookup.check(raw.transactionId!);
      // A socket message is authentic (the secret channel) and can beat its record: "not yet" is a
      // retryable answer there, and the source watches the transaction so its sweep asks again.
      // The webhook is anyone's to post: a record that does not back it is a refusal.
      if (!result.found) {
        if (socket) throw notYet(raw.transactionId!, 'unknown');
        throw mismatch(`the status API does not know transaction ${raw.transactionId}`);
      }
      return judge(raw, outcome, result.data, resolved, socket);
    },
    normalize(raw, { delivery, confirmation }) {
      return normalizeMessage(raw as LailaolabMessage, {
        timeZone,
        currency,
        receivedAt: delivery.receivedAt,
        channel: isDecodedDelivery(delivery) ? 'socket' : 'webhook',
        confirmation,
      });
    },
    ack: LAILAOLAB_ACK,
    async fetchStatus(transactionId) {
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
  });
}
