/**
 * The gateway's event names and the per-country money and clock facts. The status values are the
 * status tables at the top of normalize.ts (TRANSACTION_STATUS, REFUND_STATUS). The README and
 * docs/events/signed-param.md show these tables; test/docs.test.ts checks that they list every row.
 */

/** What a notification means before its status is checked. */
export type EventFamily = 'payment' | 'refund' | 'not-a-payment';

export interface EventRule {
  family: EventFamily;
  /** The platform product the event belongs to (documentation and `details.product`). */
  product: string;
  /** For payments: the outcome the event name announces; transactionStatus must agree with it. */
  outcome?: 'completed' | 'failed';
  /** For the not-a-payment family: why nothing is emitted. */
  reason?: string;
  /** Where the event name is documented. */
  source: string;
}

const BLUEPAY_ORDER = 'docs.bluepay.asia/en/PaymentOrder/PaymentOrderPaymentNotification.html';
const STATIC_ORDER =
  'docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html';
const BLUEPAY_QR = 'docs.bluepay.asia/en/PaymentQR/QRCodePaymentNotification.html';
const REFUND = 'docs.paycools.com.my/en/refund/RefundCallback.html';
const PAYOUT = 'docs.paycools.com/en/v2/Disbursement/Notification.html';

/**
 * eventName → meaning. The event name decides; transactionStatus is a consistency check
 * (our rule: the platform documents both fields and says nothing of a disagreement).
 * A name that is not here is acknowledged and emitted on `unhandled`.
 */
export const EVENT_RULES: Readonly<Record<string, EventRule>> = Object.freeze({
  'order.payment.success': {
    family: 'payment',
    product: 'dynamic order',
    outcome: 'completed',
    source: `docs.paycools.com/en/v2 (3.2.3 Payment Notification); ${BLUEPAY_ORDER}`,
  },
  'order.payment.failed': {
    family: 'payment',
    product: 'dynamic order',
    outcome: 'failed',
    source: BLUEPAY_ORDER,
  },
  'static.order.payment.success': {
    family: 'payment',
    product: 'static order (VA / payment code)',
    outcome: 'completed',
    source: STATIC_ORDER,
  },
  'static.order.payment.failed': {
    family: 'payment',
    product: 'static order (VA / payment code)',
    outcome: 'failed',
    source: STATIC_ORDER,
  },
  'qrcode.payment.success': {
    family: 'payment',
    product: 'QR code',
    outcome: 'completed',
    source: BLUEPAY_QR,
  },
  'qrcode.payment.failed': {
    family: 'payment',
    product: 'QR code',
    outcome: 'failed',
    source: BLUEPAY_QR,
  },
  'payment.refund.success': { family: 'refund', product: 'refund', source: REFUND },
  'payment.refund.failed': {
    family: 'not-a-payment',
    product: 'refund',
    reason: 'refund failed: the payment stays completed',
    source: REFUND,
  },
  'payment.refund.cancel': {
    family: 'not-a-payment',
    product: 'refund',
    reason: 'refund cancelled: the payment stays completed',
    source: REFUND,
  },
  'disbursement.success': {
    family: 'not-a-payment',
    product: 'payout',
    reason: 'payout (disbursement) notification: money sent, not received',
    source: PAYOUT,
  },
  'disbursement.failed': {
    family: 'not-a-payment',
    product: 'payout',
    reason: 'payout (disbursement) notification: money sent, not received',
    source: PAYOUT,
  },
  'settle.payment.success': {
    family: 'not-a-payment',
    product: 'settlement (BluePay)',
    reason: 'settlement notification',
    source: 'jtdocs.bluepay.asia/en/SettleNotification.html',
  },
});

/** Looks a rule up without reaching Object.prototype ("constructor", "toString"...). */
export function eventRule(eventName: string): EventRule | undefined {
  return Object.prototype.hasOwnProperty.call(EVENT_RULES, eventName)
    ? EVENT_RULES[eventName]
    : undefined;
}

export type CountryCode = 'PH' | 'ID' | 'MY' | 'TH' | 'RU';

export interface CountryFacts {
  currency: string;
  /** Decimal places of the integer `amount`: 2 = cents; 0 = whole units (Indonesia). */
  exponent: number;
  /** Default wall clock of `yyyy-MM-dd HH:mm:ss` times; override with the `timeZones` option. */
  timeZone: string;
}

/**
 * Country codes and currencies: docs.paycools.com/en/v2/Payment/CollectionStatus.html (countryCode
 * PH, ID, MY, TH, RU; currency PHP, IDR, MYR, THB, RUB). Amounts are cents except Indonesia, where
 * "the unit is in yuan", i.e. whole rupiah (docs.paycools.com/en/v2, Indonesian payout and checkout
 * pages). The platform does not document its clock zone: the defaults are each country's capital
 * [inference], hence configurable.
 */
export const COUNTRIES: Readonly<Record<CountryCode, CountryFacts>> = Object.freeze({
  PH: { currency: 'PHP', exponent: 2, timeZone: 'Asia/Manila' },
  ID: { currency: 'IDR', exponent: 0, timeZone: 'Asia/Jakarta' },
  MY: { currency: 'MYR', exponent: 2, timeZone: 'Asia/Kuala_Lumpur' },
  TH: { currency: 'THB', exponent: 2, timeZone: 'Asia/Bangkok' },
  RU: { currency: 'RUB', exponent: 2, timeZone: 'Europe/Moscow' },
});

export function isCountryCode(value: unknown): value is CountryCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(COUNTRIES, value);
}

/** The country whose currency this is, for currencies of the table above. */
export function countryOfCurrency(currency: string): CountryCode | undefined {
  for (const code of Object.keys(COUNTRIES) as CountryCode[]) {
    if (COUNTRIES[code].currency === currency) return code;
  }
  return undefined;
}

/**
 * Channel codes start with the country: `ID_BCA_VA` (the Payment Notification examples),
 * `PH_QRPH_DYNAMIC` (docs.paycools.com/en/v2/Payment/CollectionStatus.html). Codes without a known
 * prefix (legacy `INSTA_TRANSFER_ACC`) give no country.
 */
export function countryOfChannel(channelCode: unknown): CountryCode | undefined {
  if (typeof channelCode !== 'string') return undefined;
  const prefix = /^([A-Z]{2})_/.exec(channelCode)?.[1];
  return isCountryCode(prefix) ? prefix : undefined;
}
