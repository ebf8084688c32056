import {
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseGatewayTime,
  PayloadError,
  pendingPayment,
  statusOutcome,
  statusTable,
  type NormalizeResult,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type StatusOutcome,
  type StatusTable,
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

/*
 * NewPay's statuses onto core's closed set (STATUS_OUTCOMES), one table per vocabulary: v1 and v2
 * name the status in different fields with different words, and a payment's status and a refund's
 * are read differently (v1 even inverts its digits). The README's "Events emitted" lists the same
 * rows; test/status-tables.test.ts holds the two together. NewPay documents no status that reverses
 * a completed payment (no void, no chargeback): a refund is its own callback.
 */

/**
 * v1 payment callback `transStatus`, "Payment result: 0-success; 1-failure"
 * (https://pre-lnp-openapi.newpay.la/5-result-callback.html).
 */
export const V1_PAYMENT_STATUS = statusTable<'0' | '1'>(
  { '0': 'completed', '1': 'failed' },
  SOURCE,
);

/**
 * v1 refund callback `transStatus` / `tranStatus`: the digits are the payment callback's inverted,
 * "1-success; 0-failure" (https://pre-lnp-openapi.newpay.la/8-refund-callback.html).
 */
export const V1_REFUND_STATUS = statusTable<'0' | '1'>(
  {
    '1': 'refunded',
    // A refused refund moves no money: the payment stays completed, and the notice goes to
    // `unhandled` with the reason rather than to payment listeners.
    '0': 'not-a-payment',
  },
  SOURCE,
);

/**
 * v2 `data.payStatus` of the payment callback and of the uniQueryPay answer, "SUCCESS/EXPIRED/
 * PROCESSING/FAIL" (https://newpay-api-document.gitbook.io/newpay-api-document/5.-apis-v2/5.6-callback).
 */
export const V2_PAY_STATUS = statusTable<'SUCCESS' | 'FAIL' | 'EXPIRED' | 'PROCESSING'>(
  {
    SUCCESS: 'completed',
    FAIL: 'failed',
    // The order was never paid before it lapsed: a failed payment, not the reversal of a paid one.
    EXPIRED: 'failed',
    PROCESSING: 'pending',
  },
  SOURCE,
);

/**
 * v2 `data.refundStatus`. NewPay publishes no readable v2 refund callback: the words are those of
 * its refund query, uniQueryRefund (https://prod-openapi-v2.newpay.la/beta/pay/uniQueryRefund;
 * GitBook "5. APIs v2"), our inference.
 */
export const V2_REFUND_STATUS = statusTable<'SUCCESS' | 'FAIL' | 'PROCESSING'>(
  {
    SUCCESS: 'refunded',
    // As in v1: a refused refund leaves the payment completed, reported on `unhandled`.
    FAIL: 'not-a-payment',
    PROCESSING: 'pending',
  },
  SOURCE,
);

/** The event a status becomes (OUTCOME_EVENTS), with its refund kind for a reversal. */
type Becomes = NonNullable<(typeof OUTCOME_EVENTS)[StatusOutcome]>;

/**
 * What `status` becomes by `table`: the event, or what to answer without one. `why` words the
 * reason for the three that have none: not final (`pending`), not about the payment's money
 * (`not-a-payment`), and a word the table does not name (`undefined`: a new NewPay status is
 * acknowledged and reported on `unhandled`, never guessed).
 */
function lookUp(
  table: StatusTable,
  status: string,
  why: (outcome: 'pending' | 'not-a-payment' | undefined) => string,
): Becomes | NotPaymentEvent {
  const outcome: StatusOutcome | undefined = statusOutcome(table, status);
  if (outcome === undefined || outcome === 'not-a-payment') return notAPaymentEvent(why(outcome));
  if (outcome === 'pending') return pendingPayment(why(outcome));
  return OUTCOME_EVENTS[outcome]!;
}

const isEvent = (result: Becomes | NotPaymentEvent): result is Becomes => 'type' in result;

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

/** v1 payment callback: `transStatus` by V1_PAYMENT_STATUS (0 success, 1 failure). */
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
  const becomes = lookUp(
    V1_PAYMENT_STATUS,
    raw.transStatus,
    () => `v1 payment callback with unknown transStatus ${raw.transStatus}`,
  );
  if (!isEvent(becomes)) return becomes;
  // The table's payment words are completed or failed only (test/status-tables.test.ts).
  if (becomes.type === 'payment.failed')
    return [
      {
        ...base,
        id: `${raw.newpayOrderNo}:failed`,
        type: 'payment.failed',
        failure: { code: 'FAIL', ...present({ message: raw.transInfo }) },
      },
    ];
  return [{ ...base, id: `${raw.newpayOrderNo}:completed`, type: 'payment.completed' }];
}

/** v1 refund callback: the status by V1_REFUND_STATUS (1 success, 0 failure: the inverse). */
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
  const becomes = lookUp(V1_REFUND_STATUS, status, (outcome) =>
    outcome === undefined
      ? `v1 refund callback with unknown status ${status}`
      : `NewPay refund ${refundId} of ${raw.newpayOrderNo} failed (status ${status})${raw.transInfo ? `: ${raw.transInfo}` : ''}`,
  );
  if (!isEvent(becomes)) return becomes;
  // The table's refund words are refunded only (test/status-tables.test.ts).
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
      refund: { refundId, amount: refunded, kind: becomes.kind },
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

/** v2 `payStatus` by V2_PAY_STATUS: the callback's and uniQueryPay's (the same `data`). */
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
  const becomes = lookUp(V2_PAY_STATUS, data.payStatus, (outcome) =>
    outcome === 'pending'
      ? `NewPay order ${data.newpayOrderNo} is ${data.payStatus}`
      : `v2 payment callback with unknown payStatus ${data.payStatus}`,
  );
  if (!isEvent(becomes)) return becomes;
  // The table's payment words are completed or failed only (test/status-tables.test.ts).
  if (becomes.type === 'payment.failed')
    return [
      {
        ...base,
        id: `${data.newpayOrderNo}:failed`,
        type: 'payment.failed',
        failure: { code: data.payStatus },
      },
    ];
  return [{ ...base, id: `${data.newpayOrderNo}:completed`, type: 'payment.completed' }];
}

function money(value: NewpayMoney | string): { value: string; currency: string | null } {
  return typeof value === 'string'
    ? { value, currency: null }
    : { value: value.value, currency: value.currency };
}

/** v2 `refundStatus` by V2_REFUND_STATUS. */
function normalizeV2Refund(
  raw: NewpayV2Callback<NewpayV2RefundData>,
  options: NormalizeOptions,
): Result {
  const data = raw.data;
  const refundId = (data.newpayRefundNo || data.mchRefundNo)!;
  const becomes = lookUp(V2_REFUND_STATUS, data.refundStatus, (outcome) => {
    if (outcome === 'pending') return `NewPay refund ${refundId} is ${data.refundStatus}`;
    if (outcome === 'not-a-payment')
      return `NewPay refund ${refundId} of ${data.newpayOrderNo} failed`;
    return `v2 refund callback with unknown refundStatus ${data.refundStatus}`;
  });
  if (!isEvent(becomes)) return becomes;
  // The table's refund words are refunded only (test/status-tables.test.ts).
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
    refund: { refundId, amount: refunded, kind: becomes.kind },
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
