/**
 * Nusa Pay, a made-up gateway that signs part of its notification, as Midtrans does:
 * `signature_key = hex(SHA-512(order_id + status_code + gross_amount + server key))`. The rest
 * (status, times, refund key) is unsigned, so the provider takes it from the status API,
 * `GET {base URL}/v2/{order_id}/status`, asked with the server key that verified the notice.
 */
export const NUSA_SOURCE = '@example/payhook-nusa';

/** Nusa's `transaction_status` words, Midtrans's: what each means is the table in normalize.ts. */
export type NusaStatus =
  | 'authorize'
  | 'capture'
  | 'settlement'
  | 'pending'
  | 'deny'
  | 'cancel'
  | 'expire'
  | 'failure'
  | 'refund'
  | 'partial_refund'
  | 'chargeback'
  | 'partial_chargeback';

/** The notification: three signed fields select the payment; the others are not believed. */
export interface NusaNotice {
  order_id: string;
  status_code: string; // '200' paid, cancelled or reversed, '201' pending, '202' failed
  gross_amount: string; // "150000.00"
  signature_key: string;
  transaction_status: string; // unsigned: it picks which fact of the record the notice reports
  refund_key?: string; // unsigned: which refund a refund notice is about
  transaction_time?: string; // unsigned
}

/**
 * Nusa's own record. Times are Asia/Jakarta wall times, "2025-01-02 10:00:00". Unlike Midtrans's,
 * it says when a card payment was captured (`capture_time`): whether the money was ever taken is
 * what tells a void from a failure (see `wasCaptured` in normalize.ts).
 */
export interface NusaRecord {
  transaction_id: string;
  order_id: string;
  gross_amount: string;
  currency: string;
  transaction_status: string; // a NusaStatus; a word Nusa adds later is no payment event
  transaction_time: string; // when the payment was created
  capture_time?: string; // when a card payment was captured (before it settles)
  settlement_time?: string; // when it was paid (settled)
  expiry_time?: string; // when a pending payment expires: in the future while pending
  cancel_time?: string; // when it was cancelled
  chargeback_time?: string; // when the payer's bank took the money back
  chargeback_amount?: string; // how much it took back: part of gross_amount for a partial one
  refunds?: Array<{ refund_key: string; refund_amount: string; refunded_at: string }>;
}

/** The record, the fact the notice reports, the refund it names, and the time `confirm` checked. */
export interface NusaConfirmation {
  record: NusaRecord;
  status: string; // the fact: a status word of the record, or 'refund' with `refund`
  refund?: { refund_key: string; refund_amount: string };
  at?: string; // ISO 8601: the checked time, the event's occurredAt; absent while pending
}

export const ORDER_ID = /^[A-Za-z0-9_-]{1,50}$/;

export const noticeSchema = {
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
