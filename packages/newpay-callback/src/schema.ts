import { DECIMAL_PATTERN } from '@payhook/core/plugin';

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
