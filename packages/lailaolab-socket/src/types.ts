/**
 * Payload types. Field list: https://payment-doc.lailaolab.com/v1/subscription, the fields the
 * SDKs add (GitHub lailaolabdev/react-phajay `src/types.ts`,
 * barlus-developer/phajay-payment-gateway) and the status API
 * (https://payment-doc.lailaolab.com/v1/check-transaction-status). Only `transactionId`,
 * `txnAmount`, `status` and `message` drive the mapping; the rest is optional because "banks return
 * different subsets" (barlus-developer/phajay-payment-gateway).
 */

/** One message of the `join::<secret>` channel, and the body of the portal webhook. */
export interface LailaolabMessage {
  /** `SUCCESS` or `FAILED` (react-phajay, flutter_phajay); other texts are not payment outcomes. */
  message?: string;
  /** `PAYMENT_COMPLETED` is the only value documented or observed on the channel. */
  status: string;
  transactionId?: string;
  /** Kip. Documented as an integer; a JSON string when it came through the lossless webhook parser. */
  txnAmount?: number | string;
  /** `YYYY-MM-DD HH:MM:SS` (documented) or `DD/MM/YYYY HH:MM:SS` (observed), gateway wall time. */
  txnDateTime?: string | null;
  /** String or number depending on the bank; emitted as text in `details.refNo`. */
  refNo?: string | number | null;
  exReferenceNo?: string | null;
  merchantName?: string | null;
  memo?: string | null;
  billNumber?: string | null;
  sourceAccount?: string | null;
  sourceName?: string | null;
  sourceCurrency?: string | null;
  userId?: unknown;
  description?: string | null;
  paymentMethod?: string | null;
  orderNo?: string | null;
  linkCode?: string | null;
  [extra: string]: unknown;
}

/**
 * `data` of the status API (`GET /v1/api/payment/check-transaction/status/{id}`,
 * https://payment-doc.lailaolab.com/v1/check-transaction-status).
 */
export interface LailaolabStatusData {
  transactionId: string;
  /** WAITING, EXPIRED, REFUNDED, DISPUTED, PAYMENT_COMPLETED (barlus SDK transaction.go). */
  status: string;
  isPaid?: boolean;
  /** Kip; kept as exact text by the status client. */
  amount?: number | string;
  currency?: string | null;
  linkCode?: string | null;
  orderNo?: string | null;
  description?: string | null;
  paymentMethod?: string | null;
  paymentTime?: string | number | null;
  createdAt?: string | number | null;
  [extra: string]: unknown;
}

/** The status API's answer: `{message: "SUCCESSFULLY", data}` or `{message: "PAYMENT_NOT_FOUND", data: null}`. */
export interface LailaolabStatusResponse {
  message: string;
  data: LailaolabStatusData | null;
}

/** What a Lailaolab event's `raw` holds: the message (socket, webhook) or the status answer (sweep). */
export type LailaolabPayload = LailaolabMessage | LailaolabStatusResponse;
