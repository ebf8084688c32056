import {
  checkSignedTime,
  decimalFromMinorUnits,
  instantToIso,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseGatewayTime,
  PayloadError,
  pendingPayment,
  SignatureError,
  statusOutcome,
  statusTable,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type StatusOutcome,
  type StatusTable,
} from '@payhook/core/plugin';
import type { Settings } from './options';
import {
  SOURCE,
  type SignedParamPayload,
  type SignedParamPayment,
  type SignedParamQueryData,
  type SignedParamRaw,
  type SignedParamRefund,
} from './schema';
import {
  COUNTRIES,
  countryOfChannel,
  countryOfCurrency,
  eventRule,
  isCountryCode,
  type CountryCode,
} from './tables';

/*
 * The one place where the platform's event names and statuses become payment.completed / failed /
 * refunded (or no event), and its integer minor units and wall-clock times become decimals and
 * ISO instants. The status words are the two tables below, onto core's closed set
 * (STATUS_OUTCOMES); the event names are EVENT_RULES in tables.ts. A status is read trimmed and in
 * any case; a word a table does not name is refused with 400: it cannot be told apart from a
 * failure or a success safely. The platform documents no status that reverses a completed payment
 * (no void, no chargeback): a refund is its own notification.
 */

/**
 * `transactionStatus` of payment notifications and of the payment query: `PENDING`, `COMPLETED`,
 * `FAILED` (https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html,
 * https://docs.paycools.com/en/v2/Payment/CollectionStatus.html).
 */
export const TRANSACTION_STATUS = statusTable<'COMPLETED' | 'COMPLETE' | 'FAILED' | 'PENDING'>(
  {
    COMPLETED: 'completed',
    // The legacy PayCools spelling
    // (https://doc.paycools.com/PartnerEventCallback/CallBackApiSignatureRule.html).
    COMPLETE: 'completed',
    FAILED: 'failed',
    PENDING: 'pending',
  },
  SOURCE,
);

/**
 * `refundStatus` of `payment.refund.success`
 * (https://docs.paycools.com.my/en/refund/RefundCallback.html, the same page on docs.bluepay.asia).
 * The page publishes no status table, only examples; an absent refundStatus trusts the event name.
 */
export const REFUND_STATUS = statusTable<
  'COMPLETE' | 'COMPLETED' | 'PENDING' | 'FAILED' | 'CANCEL' | 'CANCELLED' | 'CANCELED'
>(
  {
    // COMPLETE is the documented success example; COMPLETED the payment status's spelling.
    COMPLETE: 'refunded',
    COMPLETED: 'refunded',
    // The refund-create answer's status: the refund is not final yet.
    PENDING: 'pending',
    // The legacy failed example, mislabelled `payment.refund.success`: the refund did not happen,
    // so the payment stays completed and the notice goes to `unhandled`.
    FAILED: 'not-a-payment',
    // Inferred from the `payment.refund.cancel` event name, in each spelling: as FAILED.
    CANCEL: 'not-a-payment',
    CANCELLED: 'not-a-payment',
    CANCELED: 'not-a-payment',
  },
  SOURCE,
);

type Draft = PaymentEventDraft<SignedParamRaw>;
type Outcome = ReadonlyArray<Draft> | NotPaymentEvent;

/** For a notification (not a status query): when it arrived, against which the signed time is checked. */
export interface Received {
  receivedAt: Date;
  checkAge: boolean;
}

export function normalizeParam(
  raw: SignedParamPayload,
  settings: Settings,
  received: Received,
): Outcome {
  const rule = eventRule(raw.eventName);
  if (!rule) return notAPaymentEvent(`unknown eventName ${quote(raw.eventName)}`);
  if (rule.family === 'not-a-payment') return notAPaymentEvent(`${raw.eventName}: ${rule.reason}`);
  if (rule.family === 'refund')
    return normalizeRefund(raw as SignedParamRefund, settings, received);

  const payment = raw as SignedParamPayment;
  checkMerchantBinding(payment, settings);
  const outcome = outcomeOf(payment.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (outcome === 'pending')
    return pendingPayment(
      `${raw.eventName} ${payment.transactionId} is ${payment.transactionStatus}`,
    );
  // Beyond the status word: the event name decides, and the status must agree with it (our rule:
  // the platform documents both fields and says nothing of a disagreement).
  if (outcome !== rule.outcome) {
    throw new PayloadError(
      `eventName ${raw.eventName} contradicts transactionStatus ${quote(payment.transactionStatus)}`,
      {
        source: SOURCE,
        fields: [{ path: '/transactionStatus', message: `does not agree with ${raw.eventName}` }],
      },
    );
  }
  return [paymentDraft(payment, raw.eventName, rule.product, rule.outcome, settings, received)];
}

/**
 * The param names no merchant and one platform key signs every merchant's notifications: the only
 * binding it allows is the merchant's own order number, when the merchant gives its prefix.
 */
function checkMerchantBinding(
  payment: { readonly mchOrderId?: unknown },
  settings: Settings,
  required = true,
): void {
  const prefix = settings.orderIdPrefix;
  if (prefix === undefined) return;
  const orderId = text(payment.mchOrderId);
  if (orderId === undefined && !required) return;
  if (orderId === undefined || !orderId.startsWith(prefix)) {
    throw new SignatureError(
      `mchOrderId ${orderId === undefined ? '(none)' : quote(orderId)} does not start with the configured orderIdPrefix: not an order of this merchant`,
      { code: 'ERR_SENDER_UNKNOWN', source: SOURCE },
    );
  }
}

export function normalizeQueryData(
  data: SignedParamQueryData,
  settings: Settings,
  receivedAt: Date,
): Outcome {
  const outcome = outcomeOf(data.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (outcome === 'pending')
    return pendingPayment(`${data.transactionId} is ${data.transactionStatus}`);
  // TRANSACTION_STATUS names completed, failed and pending words only (test/status-tables.test.ts).
  const final = outcome === 'completed' ? 'completed' : 'failed';
  // The query covers dynamic orders, so its ids are those of `order.payment.*` notifications:
  // a payment seen both ways is processed once.
  const eventName = final === 'completed' ? 'order.payment.success' : 'order.payment.failed';
  // The answer to our own query: fresh by construction, so its times are not age-checked.
  const draft = paymentDraft(data, eventName, 'dynamic order', final, settings, {
    receivedAt,
    checkAge: false,
  });
  return [{ ...draft, verification: 'status-query', raw: data }];
}

function paymentDraft(
  p: SignedParamPayment | SignedParamQueryData,
  eventName: string,
  product: string,
  outcome: 'completed' | 'failed',
  settings: Settings,
  received: Received,
): Draft {
  const money = moneyOf(p, settings);
  const draft: Draft = {
    id: `${eventName}:${p.transactionId}`,
    type: OUTCOME_EVENTS[outcome]!.type,
    orderId: text(p.mchOrderId) ?? null,
    transactionId: p.transactionId,
    amount: decimalFromMinorUnits(p.amount, money.exponent, { source: SOURCE, field: 'amount' }),
    currency: money.currency,
    occurredAt: timeOf(p.returnTime, p.createTime, money.timeZone, received, eventName, settings),
    details: compact({
      eventName,
      product,
      transactionStatus: p.transactionStatus,
      channelCode: text(p.channelCode),
      country: money.country,
      amountMinorUnits: p.amount,
      remark: text(p.remark),
    }),
  };
  if (outcome === 'failed') {
    draft.failure = compact({ code: text(p.failedCode), message: text(p.failedMessage) });
  }
  return draft;
}

function normalizeRefund(r: SignedParamRefund, settings: Settings, received: Received): Outcome {
  // Refunds may name no mchOrderId; when one names it, it is bound like a payment.
  checkMerchantBinding({ mchOrderId: r.mchOrderId }, settings, false);
  // No refundStatus: the event name (`payment.refund.success`) says it.
  const outcome: StatusOutcome =
    text(r.refundStatus) === undefined
      ? 'refunded'
      : outcomeOf(r.refundStatus, REFUND_STATUS, 'refundStatus');
  if (outcome === 'pending')
    return pendingPayment(`refund ${r.refundTransactionId} is ${r.refundStatus}`);
  // REFUND_STATUS names refunded, pending and not-a-payment words only (test/status-tables.test.ts).
  const becomes = OUTCOME_EVENTS[outcome];
  if (becomes?.kind === undefined) {
    return notAPaymentEvent(
      `${r.eventName} with refundStatus ${r.refundStatus}: the refund did not happen`,
    );
  }
  const money = moneyOf(r, settings);
  const amount = decimalFromMinorUnits(r.refundAmount, money.exponent, {
    source: SOURCE,
    field: 'refundAmount',
  });
  const fee = text(r.feeRefunded);
  return [
    {
      // A payment can be refunded in several parts: each refund is its own fact.
      id: `${r.eventName}:${r.refundTransactionId}`,
      type: 'payment.refunded',
      orderId: text(r.mchOrderId) ?? null,
      transactionId: r.originalTransactionId,
      amount,
      currency: money.currency,
      occurredAt: timeOf(
        r.refundReturnTime,
        r.refundCreateTime,
        money.timeZone,
        received,
        r.eventName,
        settings,
        ['refundReturnTime', 'refundCreateTime'],
      ),
      refund: { refundId: r.refundTransactionId, amount, kind: becomes.kind },
      details: compact({
        eventName: r.eventName,
        mchRefundOrderId: text(r.mchRefundOrderId),
        refundStatus: text(r.refundStatus),
        refundReason: text(r.refundReason),
        feeRefunded:
          fee === undefined
            ? undefined
            : decimalFromMinorUnits(fee, money.exponent, { source: SOURCE, field: 'feeRefunded' }),
        country: money.country,
        amountMinorUnits: r.refundAmount,
      }),
    },
  ];
}

interface Money {
  currency: string;
  exponent: number;
  country: CountryCode;
  timeZone: string;
}

/**
 * Currency and scale: `currency` if sent, else the country of `countryCode`, of the channel code
 * prefix, or of the `country` option. IDR is whole rupiah; every other currency is cents.
 */
function moneyOf(
  p: { currency?: unknown; countryCode?: unknown; channelCode?: unknown },
  settings: Settings,
): Money {
  const sentCurrency = text(p.currency);
  const country =
    (isCountryCode(p.countryCode) ? p.countryCode : undefined) ??
    countryOfChannel(p.channelCode) ??
    (sentCurrency ? countryOfCurrency(sentCurrency) : undefined) ??
    settings.country;
  // `country` is required at construction, so a notification that names none (every refund) is
  // read in the account's country rather than answered 500 at runtime.
  const currency = sentCurrency ?? COUNTRIES[country].currency;
  const currencyCountry = countryOfCurrency(currency);
  const exponent = currencyCountry ? COUNTRIES[currencyCountry].exponent : 2;
  return { currency, exponent, country, timeZone: settings.timeZones[country] };
}

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The platform's finish time, else its create time, else the moment of receipt. For a notification,
 * the time read from the signed param is also its age: older than maxAgeMs (or further ahead than
 * clockSkewMs) is a 401 ERR_DELIVERY_STALE, so a genuine delivery replayed after the store forgot it
 * is never processed again. Without either time there is nothing signed to check: the store's
 * retention is then the only bound.
 */
function timeOf(
  primary: unknown,
  fallback: unknown,
  timeZone: string,
  received: Received,
  eventName: string,
  settings: Settings,
  fields: [string, string] = ['returnTime', 'createTime'],
): string {
  const first = text(primary);
  const value = first ?? text(fallback);
  if (value === undefined) return instantToIso(received.receivedAt.getTime(), timeZone);
  const field = first !== undefined ? fields[0] : fields[1];
  const iso = parseGatewayTime(value, { timeZone, source: SOURCE, field });
  if (received.checkAge) {
    checkSignedTime(iso, settings.limits, {
      now: received.receivedAt.getTime(),
      // Built only on a refusal: the offset regex, the quote and the template ran on every
      // delivery before (timeOf was 8 % of signed-param's hub.receive in the issue-15 profile).
      what: () => {
        const zone = HAS_OFFSET.test(value.trim())
          ? ''
          : ` (read as ${timeZone} time: see the timeZones option)`;
        return `${eventName} ${field} ${quote(value)}${zone}`;
      },
      source: SOURCE,
    });
  }
  return iso;
}

/**
 * What a status word means by `table`, read trimmed and in any case (the platform's examples vary),
 * or a 400 for a word the table does not name. Only the table's own keys count: `toString` or
 * `__proto__` is no status.
 */
function outcomeOf(value: unknown, table: StatusTable, field: string): StatusOutcome {
  const key = typeof value === 'string' ? value.trim().toUpperCase() : '';
  const outcome = statusOutcome(table, key);
  if (outcome !== undefined) return outcome;
  throw new PayloadError(
    `${field} ${quote(value)} is not one of ${Object.keys(table).join(', ')}`,
    { source: SOURCE, fields: [{ path: `/${field}`, message: 'unknown status' }] },
  );
}

/** A non-empty string, or undefined ("" and null mean absent in these payloads). */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function compact<T extends Record<string, unknown>>(record: T): T {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
}

function quote(value: unknown): string {
  return JSON.stringify(String(value)).slice(0, 60);
}
