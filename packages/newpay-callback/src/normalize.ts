import {
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  parseGatewayTime,
  PayloadError,
  pendingPayment,
  type NormalizeResult,
  type PaymentEventDraft,
  type VerificationMethod,
} from '@payhook/core/plugin';
import {
  SOURCE,
  type NewpayCallback,
  type NewpayMoney,
  type NewpayV1PaymentCallback,
  type NewpayV1RefundCallback,
  type NewpayV2Callback,
  type NewpayV2PaymentData,
  type NewpayV2RefundData,
} from './schema';

type Draft = PaymentEventDraft<NewpayCallback>;
type Result = NormalizeResult<NewpayCallback>;

export interface NormalizeOptions {
  timeZone: string;
  /**
   * When the callback (or the query answer) arrived: `occurredAt` when NewPay signed no time. The
   * v2 envelope `timestamp` is not signed and never feeds the event.
   */
  receivedAt: Date;
  verification?: VerificationMethod;
}

/** Drops undefined, null and "" so `details` only carries what NewPay sent. */
function present(values: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  }
  return out;
}

function currencyCode(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(code) ? code : null;
}

const amount = (value: string, field: string): string =>
  normalizeDecimal(value, { source: SOURCE, field });

const time = (value: string, field: string, options: NormalizeOptions): string =>
  parseGatewayTime(value, { timeZone: options.timeZone, source: SOURCE, field });

/** No signed time: the moment we received it, written in the merchant's zone. */
const received = (options: NormalizeOptions): string =>
  instantToIso(options.receivedAt.getTime(), options.timeZone);

export function isV2(
  raw: NewpayCallback,
): raw is NewpayV2Callback<NewpayV2PaymentData> | NewpayV2Callback<NewpayV2RefundData> {
  return 'data' in raw && raw.data !== null && typeof raw.data === 'object';
}

export function normalizeCallback(raw: NewpayCallback, options: NormalizeOptions): Result {
  if (isV2(raw)) {
    return 'refundStatus' in raw.data
      ? normalizeV2Refund(raw as NewpayV2Callback<NewpayV2RefundData>, options)
      : normalizeV2Payment(raw as NewpayV2Callback<NewpayV2PaymentData>, options);
  }
  if ('refundOrderNo' in raw || 'newpayRefundOrderNo' in raw)
    return normalizeV1Refund(raw as NewpayV1RefundCallback, options);
  return normalizeV1Payment(raw as NewpayV1PaymentCallback, options);
}

/** v1 payment callback: transStatus 0 = success, 1 = failure (NewPay v1 "4.4. Callback", 1.2.2). */
function normalizeV1Payment(raw: NewpayV1PaymentCallback, options: NormalizeOptions): Result {
  const base = {
    orderId: raw.orderNo || null,
    transactionId: raw.newpayOrderNo,
    amount: amount(raw.orderAmt, 'orderAmt'),
    currency: currencyCode(raw.currency),
    occurredAt: time(raw.timestamp, 'timestamp', options),
    details: {
      version: 'v1',
      transStatus: raw.transStatus,
      ...present({
        payMethod: raw.payMethod,
        settlementStatus: raw.settlementStatus,
        subject: raw.subject,
        extra: raw.extra,
        transInfo: raw.transInfo,
      }),
    },
  };
  switch (raw.transStatus) {
    case '0':
      return [{ ...base, id: `${raw.newpayOrderNo}:completed`, type: 'payment.completed' }];
    case '1':
      return [
        {
          ...base,
          id: `${raw.newpayOrderNo}:failed`,
          type: 'payment.failed',
          failure: { code: 'FAIL', ...present({ message: raw.transInfo }) },
        },
      ];
    default:
      return notAPaymentEvent(`v1 payment callback with unknown transStatus ${raw.transStatus}`);
  }
}

/** v1 refund callback: the status is 1 = success, 0 = failure, the inverse of the payment callback. */
function normalizeV1Refund(raw: NewpayV1RefundCallback, options: NormalizeOptions): Result {
  if (
    raw.transStatus !== undefined &&
    raw.tranStatus !== undefined &&
    raw.transStatus !== raw.tranStatus
  ) {
    throw new PayloadError('refund callback carries transStatus and tranStatus that disagree', {
      source: SOURCE,
      fields: [{ path: '/tranStatus', message: 'disagrees with transStatus' }],
    });
  }
  const status = (raw.transStatus ?? raw.tranStatus)!;
  const refundId = (raw.newpayRefundOrderNo || raw.refundOrderNo)!;
  switch (status) {
    case '1': {
      const refunded = amount(raw.refundOrderAmt, 'refundOrderAmt');
      return [
        {
          id: `${raw.newpayOrderNo}:refund:${refundId}:refunded`,
          type: 'payment.refunded',
          orderId: raw.orderNo || null,
          transactionId: raw.newpayOrderNo,
          amount: refunded,
          currency: currencyCode(raw.currency),
          occurredAt: time(raw.timestamp, 'timestamp', options),
          refund: { refundId, amount: refunded },
          details: {
            version: 'v1',
            statusField: raw.transStatus !== undefined ? 'transStatus' : 'tranStatus',
            ...present({
              merchantRefundNo: raw.refundOrderNo,
              payMethod: raw.payMethod,
              transInfo: raw.transInfo,
            }),
          },
        },
      ];
    }
    case '0':
      // A refused refund leaves the payment completed: nothing for payment listeners.
      return notAPaymentEvent(
        `NewPay refund ${refundId} of ${raw.newpayOrderNo} failed (status 0)${raw.transInfo ? `: ${raw.transInfo}` : ''}`,
      );
    default:
      return notAPaymentEvent(`v1 refund callback with unknown status ${status}`);
  }
}

/** v2 payStatus: SUCCESS, FAIL, EXPIRED final; PROCESSING not final. Shared with uniQueryPay. */
export function normalizeV2Payment(
  raw: NewpayV2Callback<NewpayV2PaymentData>,
  options: NormalizeOptions,
): Result {
  const data = raw.data;
  const base = {
    orderId: data.mchOrderNo || null,
    transactionId: data.newpayOrderNo,
    amount: amount(data.orderAmt.value, 'orderAmt.value'),
    currency: currencyCode(data.orderAmt.currency),
    // paytime is signed; the envelope timestamp is not, so without paytime it is the arrival.
    occurredAt: data.paytime ? time(data.paytime, 'paytime', options) : received(options),
    ...(options.verification ? { verification: options.verification } : {}),
    details: {
      version: 'v2',
      payStatus: data.payStatus,
      ...present({
        payMethod: data.payMethod,
        orderType: data.orderType,
        settlementStatus: data.settlementStatus,
        subject: data.subject,
        attach: data.attach,
      }),
    },
  };
  switch (data.payStatus) {
    case 'SUCCESS':
      return [{ ...base, id: `${data.newpayOrderNo}:completed`, type: 'payment.completed' }];
    case 'FAIL':
    case 'EXPIRED':
      return [
        {
          ...base,
          id: `${data.newpayOrderNo}:failed`,
          type: 'payment.failed',
          failure: { code: data.payStatus },
        },
      ];
    case 'PROCESSING':
      return pendingPayment(`NewPay order ${data.newpayOrderNo} is PROCESSING`);
    default:
      return notAPaymentEvent(`v2 payment callback with unknown payStatus ${data.payStatus}`);
  }
}

function money(value: NewpayMoney | string): { value: string; currency: string | null } {
  return typeof value === 'string'
    ? { value, currency: null }
    : { value: value.value, currency: value.currency };
}

/** v2 refundStatus: SUCCESS refunded, FAIL refused (not a payment event), PROCESSING not final. */
function normalizeV2Refund(
  raw: NewpayV2Callback<NewpayV2RefundData>,
  options: NormalizeOptions,
): Result {
  const data = raw.data;
  const refundId = (data.newpayRefundNo || data.mchRefundNo)!;
  switch (data.refundStatus) {
    case 'SUCCESS': {
      const refundAmt = money(data.refundAmt);
      const refunded = amount(refundAmt.value, 'refundAmt');
      const draft: Draft = {
        id: `${data.newpayOrderNo}:refund:${refundId}:refunded`,
        type: 'payment.refunded',
        orderId: data.mchOrderNo || null,
        transactionId: data.newpayOrderNo,
        amount: refunded,
        currency: currencyCode(refundAmt.currency ?? data.orderAmt?.currency),
        // The v2 refund data carries no signed time (as far as NewPay documents it).
        occurredAt: received(options),
        refund: { refundId, amount: refunded },
        details: {
          version: 'v2',
          ...present({
            merchantRefundNo: data.mchRefundNo,
            originalAmount: data.orderAmt?.value,
          }),
        },
      };
      return [draft];
    }
    case 'FAIL':
      return notAPaymentEvent(`NewPay refund ${refundId} of ${data.newpayOrderNo} failed`);
    case 'PROCESSING':
      return pendingPayment(`NewPay refund ${refundId} is PROCESSING`);
    default:
      return notAPaymentEvent(`v2 refund callback with unknown refundStatus ${data.refundStatus}`);
  }
}
