import { createHash } from 'node:crypto';
import {
  GatewayApiError,
  SignatureError,
  StatusMismatchError,
  type PaymentProvider,
} from '@payhook/core';
import {
  checkSignedTime,
  defineProvider,
  isRetryableStatus,
  normalizeDecimal,
  parseGatewayTime,
  parseJson,
  notAPaymentEvent,
  pendingPayment,
  requestGateway,
  resolveMaxAge,
  timingSafeEqualHex,
  verified,
  type MaxAgeOptions,
  type NormalizeResult,
} from '@payhook/core/plugin';

/**
 * Nusa Pay, a made-up gateway that signs part of its notification, as Midtrans does:
 * `signature_key = hex(SHA-512(order_id + status_code + gross_amount + server key))`. The rest
 * (status, times, refund key) is unsigned, so the provider takes it from the status API,
 * `GET {apiBase}/v2/{order_id}/status` with the same server key.
 */
export const NUSA_SOURCE = '@example/payhook-nusa';

/** The notification: three signed fields select the payment; the others are not believed. */
export interface NusaNotice {
  order_id: string;
  status_code: string; // '200' settled or refunded, '201' pending, '202' failed
  gross_amount: string; // "150000.00"
  signature_key: string;
  transaction_status: string; // unsigned
  refund_key?: string; // unsigned: which refund a refund notice is about
  transaction_time?: string; // unsigned
}

/** Nusa's own record. Times are Asia/Jakarta wall times, "2025-01-02 10:00:00". */
export interface NusaRecord {
  transaction_id: string;
  order_id: string;
  gross_amount: string;
  currency: string;
  transaction_status: 'pending' | 'settlement' | 'deny' | 'expire' | 'refund' | 'partial_refund';
  transaction_time: string; // when the payment was created
  settlement_time?: string; // when it was paid
  expiry_time?: string; // when a pending payment expires: in the future while pending
  refunds?: Array<{ refund_key: string; refund_amount: string; refunded_at: string }>;
}

/** The record, the refund a refund notice names, and the time `confirm` checked. */
export interface NusaConfirmation {
  record: NusaRecord;
  status: string; // what this notice reports: the record's status, or 'refund'
  refund?: { refund_key: string; refund_amount: string };
  at?: string; // ISO 8601: the checked time, the event's occurredAt; absent while pending
}

/**
 * Which of the record's times dates each final status: when the fact happened. A refund is dated
 * by its own `refunded_at`, never by the payment's; a pending payment's `expiry_time` (in the
 * future) dates nothing, an expired one's is when it failed.
 */
const STATUS_TIME = new Map<string, 'settlement_time' | 'transaction_time' | 'expiry_time'>([
  ['settlement', 'settlement_time'],
  ['deny', 'transaction_time'],
  ['expire', 'expiry_time'],
]);

const ORDER_ID = /^[A-Za-z0-9_-]{1,50}$/;
const TIME_ZONE = 'Asia/Jakarta';

const noticeSchema = {
  type: 'object',
  required: ['order_id', 'status_code', 'gross_amount', 'signature_key', 'transaction_status'],
  properties: {
    order_id: { type: 'string', pattern: ORDER_ID.source },
    status_code: { type: 'string' },
    gross_amount: { type: 'string', pattern: '^[0-9]+\\.[0-9]{2}$' },
    signature_key: { type: 'string' },
    transaction_status: { type: 'string' },
    refund_key: { type: 'string' },
  },
};

/** The signed part of a notification, as Nusa computes it. */
export function nusaSignature(
  n: Pick<NusaNotice, 'order_id' | 'status_code' | 'gross_amount'>,
  serverKey: string,
): string {
  return createHash('sha512')
    .update(n.order_id + n.status_code + n.gross_amount + serverKey)
    .digest('hex');
}

export interface NusaOptions extends MaxAgeOptions {
  /** Server keys of a rotation, tried in order; the one that matched also asks the status API. */
  serverKeys: readonly string[];
  apiBase: string;
}

export function createNusaProvider(
  options: NusaOptions,
): PaymentProvider<NusaNotice, NusaConfirmation> {
  const limits = resolveMaxAge(options, NUSA_SOURCE);
  const wallTime = (text: string | undefined, field: string): string =>
    parseGatewayTime(text, { timeZone: TIME_ZONE, source: NUSA_SOURCE, field });
  const getRecord = async (orderId: string, serverKey: string): Promise<NusaRecord | null> => {
    const response = await requestGateway(
      `${options.apiBase}/v2/${encodeURIComponent(orderId)}/status`,
      {
        headers: { authorization: `Basic ${Buffer.from(`${serverKey}:`).toString('base64')}` },
        source: NUSA_SOURCE,
      },
    );
    if (response.status === 404) return null;
    if (response.status !== 200)
      throw new GatewayApiError(`status API answered HTTP ${response.status}`, {
        source: NUSA_SOURCE,
        retryable: isRetryableStatus(response.status),
      });
    return parseJson(response.text, { source: NUSA_SOURCE }) as NusaRecord;
  };

  return defineProvider<NusaNotice, NusaConfirmation>({
    id: 'nusa',
    source: NUSA_SOURCE,
    schema: noticeSchema,
    maxAgeMs: limits.maxAgeMs,
    verify(delivery) {
      const notice = parseJson(delivery.body, { source: NUSA_SOURCE }) as NusaNotice;
      const given = typeof notice?.signature_key === 'string' ? notice.signature_key : '';
      const keyIndex = options.serverKeys.findIndex((key) =>
        timingSafeEqualHex(nusaSignature(notice, key), given),
      );
      if (keyIndex < 0)
        throw new SignatureError('signature_key does not match', { source: NUSA_SOURCE });
      return verified(notice, { keyIndex });
    },
    async confirm(notice, { keyIndex }) {
      const record = await getRecord(notice.order_id, options.serverKeys[keyIndex ?? 0]!);
      if (!record || record.order_id !== notice.order_id)
        throw new StatusMismatchError('Nusa knows no such order', NUSA_SOURCE); // 409
      if (record.gross_amount !== notice.gross_amount)
        throw new StatusMismatchError('Nusa records another amount', NUSA_SOURCE);
      const refund = record.refunds?.find((r) => r.refund_key === notice.refund_key);
      if (notice.refund_key !== undefined && !refund)
        throw new StatusMismatchError('Nusa records no such refund', NUSA_SOURCE);
      // A payment refunded since a settlement notice was sent was settled first: it reports that.
      const status = refund
        ? 'refund'
        : record.transaction_status.endsWith('refund')
          ? 'settlement'
          : record.transaction_status;
      const field = STATUS_TIME.get(status);
      if (!refund && !field) return { record, status }; // pending, or no payment event
      const at = refund
        ? wallTime(refund.refunded_at, 'refunded_at')
        : wallTime(record[field!], field!);
      // A genuine notice replayed after the store forgot it must not count again: 401.
      checkSignedTime(at, limits, {
        what: `Nusa's ${field ?? 'refunded_at'}`,
        source: NUSA_SOURCE,
      });
      return { record, status, at, ...(refund ? { refund } : {}) };
    },
    normalize: (_notice, { confirmation }) => fromRecord(confirmation),
    ack: { ok: { body: { received: true } }, retry: { status: 503, body: { received: false } } },
  });
}

/** Every field of the event comes from Nusa's record, never from the unsigned part. */
function fromRecord(confirmation: NusaConfirmation | undefined): NormalizeResult<NusaNotice> {
  if (!confirmation) return notAPaymentEvent('not confirmed', { verified: false }); // confirm always answers
  const { record, status, refund, at } = confirmation;
  if (status === 'pending') return pendingPayment('payment pending');
  if (!at) return notAPaymentEvent(`status ${status}`);
  const base = {
    orderId: record.order_id,
    transactionId: record.transaction_id,
    amount: normalizeDecimal(record.gross_amount, { source: NUSA_SOURCE }),
    currency: record.currency,
    occurredAt: at,
  };
  if (refund)
    return [
      {
        ...base,
        id: `${record.transaction_id}:refund:${refund.refund_key}`,
        type: 'payment.refunded',
        refund: {
          refundId: refund.refund_key,
          amount: normalizeDecimal(refund.refund_amount, { source: NUSA_SOURCE }),
        },
      },
    ];
  const paid = status === 'settlement';
  return [
    {
      ...base,
      id: `${record.transaction_id}:${paid ? 'paid' : 'failed'}`,
      type: paid ? 'payment.completed' : 'payment.failed',
      ...(paid ? {} : { failure: { code: status } }),
    },
  ];
}

/** Nusa's side of the wire, for tests: the notification as Nusa POSTs it, signed with `serverKey`. */
export function signNusa(
  notice: Omit<NusaNotice, 'signature_key'>,
  serverKey: string,
): { body: string; headers: Record<string, string> } {
  // Nusa puts the signature mid-body and unsigned fields after it, as Midtrans does.
  const { order_id, status_code, gross_amount, ...unsigned } = notice;
  const signature_key = nusaSignature({ order_id, status_code, gross_amount }, serverKey);
  return {
    body: JSON.stringify({ order_id, status_code, gross_amount, signature_key, ...unsigned }),
    headers: { 'content-type': 'application/json' },
  };
}
