import {
  checkSignedTime,
  decimalFromMinorUnits,
  instantToIso,
  notAPaymentEvent,
  parseGatewayTime,
  PayloadError,
  pendingPayment,
  SignatureError,
  type NotPaymentEvent,
  type PaymentEventDraft,
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
  REFUND_STATUS,
  TRANSACTION_STATUS,
  countryOfChannel,
  countryOfCurrency,
  eventRule,
  isCountryCode,
  type CountryCode,
} from './tables';

/*
 * The one place where the platform's event names and statuses become payment.completed / failed /
 * refunded (or no event), and its integer minor units and wall-clock times become decimals and
 * ISO instants. The tables themselves are in tables.ts.
 */

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
  const status = statusOf(payment.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (status === 'pending')
    return pendingPayment(
      `${raw.eventName} ${payment.transactionId} is ${payment.transactionStatus}`,
    );
  if (status !== rule.outcome) {
    throw new PayloadError(
      `eventName ${raw.eventName} contradicts transactionStatus ${quote(payment.transactionStatus)}`,
      {
        source: SOURCE,
        fields: [{ path: '/transactionStatus', message: `does not agree with ${raw.eventName}` }],
      },
    );
  }
  return [paymentDraft(payment, raw.eventName, rule.product, status, settings, received)];
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
  const status = statusOf(data.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (status === 'pending')
    return pendingPayment(`${data.transactionId} is ${data.transactionStatus}`);
  // The query covers dynamic orders, so its ids are those of `order.payment.*` notifications:
  // a payment seen both ways is processed once.
  const eventName = status === 'completed' ? 'order.payment.success' : 'order.payment.failed';
  // The answer to our own query: fresh by construction, so its times are not age-checked.
  const draft = paymentDraft(data, eventName, 'dynamic order', status, settings, {
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
    type: outcome === 'completed' ? 'payment.completed' : 'payment.failed',
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
  const status =
    text(r.refundStatus) === undefined
      ? 'refunded'
      : statusOf(r.refundStatus, REFUND_STATUS, 'refundStatus');
  if (status === 'pending')
    return pendingPayment(`refund ${r.refundTransactionId} is ${r.refundStatus}`);
  if (status === 'not-refunded') {
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
      refund: { refundId: r.refundTransactionId, amount },
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

function statusOf<T extends string>(
  value: unknown,
  table: Readonly<Record<string, T>>,
  field: string,
): T {
  const key = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (Object.prototype.hasOwnProperty.call(table, key)) return table[key]!;
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
