/** Starts every error message of this package. */
export const SOURCE = '@payhook/signed-param';

import { EVENT_RULES } from './tables';

/*
 * What the platform sends: the wire types of a verified `param` (and of the payment query's
 * answer), and the JSON schemas they are checked against. JSON numbers are kept as their exact
 * text, so amounts and ids are strings here.
 */

/**
 * The verified `param` of a notification, as parsed. JSON numbers are kept as their exact text
 * (`"amount": 50010` arrives here as `"50010"`), so no amount or id passes through a float.
 * Fields not listed are kept as sent.
 */
export interface SignedParamBase {
  eventName: string;
  /** Present in the doc examples inside `param`; never used (only the outer `sign` counts). */
  sign?: string;
  [field: string]: unknown;
}

/**
 * `order.payment.*`, `static.order.payment.*`, `qrcode.payment.*` (the Payment Notification pages,
 * e.g. https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html).
 */
export interface SignedParamPayment extends SignedParamBase {
  mchOrderId?: string;
  transactionId: string;
  /** Integer minor units as text: cents, or whole rupiah for Indonesia. */
  amount: string;
  transactionStatus: string;
  createTime?: string;
  returnTime?: string;
  channelCode?: string;
  remark?: string;
  currency?: string;
  countryCode?: string;
  failedCode?: string;
  failedMessage?: string;
}

/** `payment.refund.*` (refund param of docs.paycools.com.my/en/refund/RefundCallback.html). */
export interface SignedParamRefund extends SignedParamBase {
  mchRefundOrderId?: string;
  refundTransactionId: string;
  originalTransactionId: string;
  /** Integer minor units as text; a partial refund carries the refunded part only. */
  refundAmount: string;
  feeRefunded?: string;
  refundStatus?: string;
  refundCreateTime?: string;
  refundReturnTime?: string;
  refundReason?: string;
  currency?: string;
  countryCode?: string;
  failedCode?: string;
  failedMessage?: string;
}

/** Anything a verified notification can carry: payments, refunds, payouts, unknown events. */
export type SignedParamPayload = SignedParamBase | SignedParamPayment | SignedParamRefund;

/** `data` of `POST /open-api/payment/query` (docs.paycools.com/en/v2/Payment/CollectionStatus.html). */
export interface SignedParamQueryData {
  mchOrderId?: string;
  transactionId: string;
  countryCode?: string;
  channelCode?: string;
  amount: string;
  currency?: string;
  payData?: string;
  transactionStatus: string;
  createTime?: string;
  returnTime?: string;
  remark?: string;
  [field: string]: unknown;
}

/** What events carry in `raw`: the verified param, or the query answer for fetchStatus. */
export type SignedParamRaw = SignedParamPayload | SignedParamQueryData;

const OPT_TEXT = { type: ['string', 'null'] };
const INTEGER_TEXT = { type: 'string', pattern: '^[0-9]+$' };
const OPT_INTEGER_TEXT = { type: ['string', 'null'], pattern: '^-?[0-9]+$' };
const CURRENCY = { type: ['string', 'null'], pattern: '^([A-Z]{3})?$' };
const ID_TEXT = { type: 'string', minLength: 1, maxLength: 64 };

/** Fields of a payment param, shared by the notification and the query answer. */
const PAYMENT_FIELDS = {
  required: ['transactionId', 'amount', 'transactionStatus'],
  properties: {
    transactionId: ID_TEXT,
    amount: INTEGER_TEXT,
    transactionStatus: { type: 'string', minLength: 1 },
    mchOrderId: OPT_TEXT,
    createTime: OPT_TEXT,
    returnTime: OPT_TEXT,
    channelCode: OPT_TEXT,
    countryCode: OPT_TEXT,
    currency: CURRENCY,
    remark: OPT_TEXT,
    failedCode: OPT_TEXT,
    failedMessage: OPT_TEXT,
  },
};

const REFUND_FIELDS = {
  required: ['refundTransactionId', 'originalTransactionId', 'refundAmount'],
  properties: {
    refundTransactionId: ID_TEXT,
    originalTransactionId: ID_TEXT,
    refundAmount: INTEGER_TEXT,
    feeRefunded: OPT_INTEGER_TEXT,
    refundStatus: OPT_TEXT,
    mchRefundOrderId: OPT_TEXT,
    refundCreateTime: OPT_TEXT,
    refundReturnTime: OPT_TEXT,
    refundReason: OPT_TEXT,
    countryCode: OPT_TEXT,
    currency: CURRENCY,
  },
};

const namesOf = (family: string): string[] =>
  Object.keys(EVENT_RULES).filter((name) => EVENT_RULES[name]!.family === family);

/**
 * Built from EVENT_RULES: payment and refund names require their fields; payouts and unknown
 * names only need an eventName (they are acknowledged, never turned into payment events).
 */
export const PARAM_SCHEMA = {
  type: 'object',
  required: ['eventName'],
  properties: { eventName: { type: 'string', minLength: 1 } },
  allOf: [
    {
      if: { required: ['eventName'], properties: { eventName: { enum: namesOf('payment') } } },
      then: PAYMENT_FIELDS,
    },
    {
      if: { required: ['eventName'], properties: { eventName: { enum: namesOf('refund') } } },
      then: REFUND_FIELDS,
    },
  ],
};

/**
 * `data` of the payment query's answer: only what normalize reads is required (the query's own
 * fields differ from a notification's; docs.paycools.com/en/v2/Payment/CollectionStatus.html).
 */
export const QUERY_DATA_SCHEMA = {
  type: 'object',
  required: ['transactionId', 'amount', 'transactionStatus'],
  properties: {
    transactionId: { type: 'string', minLength: 1 },
    amount: INTEGER_TEXT,
    transactionStatus: { type: 'string', minLength: 1 },
    currency: CURRENCY,
  },
};
