import { DECIMAL_PATTERN } from '@payhook/core/plugin';

/** The package name: starts every error message and log line of this plugin. */
export const SOURCE = '@payhook/newpay-callback';
/** The provider id: prefixes every event id and store key. */
export const NEWPAY_PROVIDER_ID = 'newpay';

/*
 * Raw payload types. The body is parsed losslessly, so every JSON number arrives here as its exact
 * source text: `"appId":6` and `"appId":"6"` both give `appId: "6"`, `"orderAmt":1.50` gives "1.50".
 * Field lists: NewPay v1 "4.4. Callback" (https://pre-lnp-openapi.newpay.la/5-result-callback.html,
 * https://pre-lnp-openapi.newpay.la/8-refund-callback.html) and v2 "5.6 Callback"
 * (https://newpay-api-document.gitbook.io/newpay-api-document/5.-apis-v2/5.6-callback).
 */

/** v1 payment callback (transStatus: 0 success, 1 failure). */
export interface NewpayV1PaymentCallback {
  appId: string;
  /** 1 NewPay, 4 MasterCard. */
  payMethod?: string | null;
  orderAmt: string;
  currency?: string | null;
  newpayOrderNo: string;
  orderNo?: string | null;
  subject?: string | null;
  /** "0" success, "1" failure: the inverse of the refund callback. */
  transStatus: string;
  transInfo?: string | null;
  /** 1 not settled, 2 settled. */
  settlementStatus?: string | null;
  /** Epoch milliseconds. */
  timestamp: string;
  extra?: string | null;
  sign: string;
}

/** v1 refund callback (transStatus or tranStatus: 1 success, 0 failure). */
export interface NewpayV1RefundCallback {
  appId: string;
  payMethod?: string | null;
  refundOrderAmt: string;
  currency?: string | null;
  newpayOrderNo: string;
  newpayRefundOrderNo?: string;
  orderNo?: string | null;
  refundOrderNo?: string;
  /** "1" success, "0" failure. GitBook v1 "4.4. Callback" spells it tranStatus, pre-lnp transStatus. */
  transStatus?: string;
  tranStatus?: string;
  transInfo?: string | null;
  timestamp: string;
  sign: string;
}

export interface NewpayMoney {
  value: string;
  currency: string;
}

/** v2 payment callback data (also the `data` of a uniQueryPay answer). */
export interface NewpayV2PaymentData {
  appId: string;
  payStatus: 'SUCCESS' | 'FAIL' | 'EXPIRED' | 'PROCESSING' | (string & {});
  payMethod?: string | null;
  orderType?: string | null;
  orderAmt: NewpayMoney;
  mchOrderNo?: string | null;
  newpayOrderNo: string;
  subject?: string | null;
  settlementStatus?: string | null;
  /** Epoch milliseconds. */
  paytime?: string | null;
  attach?: string | null;
  sign: string;
}

/**
 * v2 refund callback data. NewPay does not publish this table; the fields follow its uniQueryRefund
 * answer (our inference).
 */
export interface NewpayV2RefundData {
  appId: string;
  refundStatus: 'SUCCESS' | 'FAIL' | 'PROCESSING' | (string & {});
  newpayRefundNo?: string;
  mchRefundNo?: string;
  newpayOrderNo: string;
  mchOrderNo?: string | null;
  refundAmt: NewpayMoney | string;
  orderAmt?: NewpayMoney;
  sign: string;
}

/** The v2 envelope; only `data` is signed. */
export interface NewpayV2Callback<D = NewpayV2PaymentData | NewpayV2RefundData> {
  success?: boolean;
  message?: string | null;
  code?: string | null;
  /** Epoch milliseconds. */
  timestamp: string;
  data: D;
}

export type NewpayCallback =
  | NewpayV1PaymentCallback
  | NewpayV1RefundCallback
  | NewpayV2Callback<NewpayV2PaymentData>
  | NewpayV2Callback<NewpayV2RefundData>;

/*
 * JSON schema of a verified callback, in its lossless form (JSON numbers are text, so numeric fields
 * are strings here). Fields that only describe the order are optional and may be null: Java
 * serialisers differ on writing nulls, and refusing a signed payment over a null subject would lose it.
 */

const text = { type: 'string' };
const id = { type: 'string', minLength: 1 };
const optionalText = { type: ['string', 'null'] };
const decimal = { type: 'string', pattern: DECIMAL_PATTERN };
const money = {
  type: 'object',
  required: ['value', 'currency'],
  properties: { value: decimal, currency: text },
};

const v1Payment = {
  type: 'object',
  required: ['appId', 'orderAmt', 'newpayOrderNo', 'transStatus', 'timestamp', 'sign'],
  properties: {
    appId: id,
    payMethod: optionalText,
    orderAmt: decimal,
    currency: optionalText,
    newpayOrderNo: id,
    orderNo: optionalText,
    subject: optionalText,
    transStatus: id,
    transInfo: optionalText,
    settlementStatus: optionalText,
    timestamp: id,
    extra: optionalText,
    sign: text,
  },
};

const v1Refund = {
  type: 'object',
  required: ['appId', 'refundOrderAmt', 'newpayOrderNo', 'timestamp', 'sign'],
  properties: {
    appId: id,
    payMethod: optionalText,
    refundOrderAmt: decimal,
    currency: optionalText,
    newpayOrderNo: id,
    newpayRefundOrderNo: id,
    orderNo: optionalText,
    refundOrderNo: id,
    transStatus: id,
    tranStatus: id,
    transInfo: optionalText,
    timestamp: id,
    sign: text,
  },
  allOf: [
    { anyOf: [{ required: ['transStatus'] }, { required: ['tranStatus'] }] },
    { anyOf: [{ required: ['newpayRefundOrderNo'] }, { required: ['refundOrderNo'] }] },
  ],
};

export const v2PaymentDataSchema = {
  type: 'object',
  required: ['appId', 'payStatus', 'orderAmt', 'newpayOrderNo', 'sign'],
  properties: {
    appId: id,
    payStatus: id,
    payMethod: optionalText,
    orderType: optionalText,
    orderAmt: money,
    mchOrderNo: optionalText,
    newpayOrderNo: id,
    subject: optionalText,
    settlementStatus: optionalText,
    paytime: optionalText,
    attach: optionalText,
    sign: text,
  },
};

const v2RefundData = {
  type: 'object',
  required: ['appId', 'refundStatus', 'newpayOrderNo', 'refundAmt', 'sign'],
  properties: {
    appId: id,
    refundStatus: id,
    newpayRefundNo: id,
    mchRefundNo: id,
    newpayOrderNo: id,
    mchOrderNo: optionalText,
    refundAmt: { anyOf: [money, decimal] },
    orderAmt: money,
    sign: text,
  },
  anyOf: [{ required: ['newpayRefundNo'] }, { required: ['mchRefundNo'] }],
};

const v2Envelope = {
  type: 'object',
  required: ['timestamp', 'data'],
  properties: {
    success: { type: 'boolean' },
    timestamp: id,
    data: {
      type: 'object',
      if: { required: ['refundStatus'] },
      then: v2RefundData,
      else: v2PaymentDataSchema,
    },
  },
};

export const newpayCallbackSchema = {
  type: 'object',
  if: { required: ['data'] },
  then: v2Envelope,
  else: {
    if: { anyOf: [{ required: ['refundOrderNo'] }, { required: ['newpayRefundOrderNo'] }] },
    then: v1Refund,
    else: v1Payment,
  },
};
