/** The package name: starts every error message and log line of this plugin. */
export const SOURCE = '@payhook/lailaolab-socket';
/** The provider id: prefixes every event id and store key. */
export const PROVIDER_ID = 'lailaolab';

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

/**
 * What a Lailaolab transaction id looks like: the subscription page's sample is 25 letters and
 * digits (`VobAkGl0gVKrVecIbo2ogYrIk`, https://payment-doc.lailaolab.com/v1/subscription), the
 * observed BCEL payload a UUID (barlus-developer/phajay-payment-gateway,
 * payment_qr_webhook_test.go). Letters, digits, `-` and `_`, 1 to 64 of them, starting with a
 * letter or digit: anything else is refused before a status query is spent on it, and no id can
 * be a path segment such as `..` in the status call.
 */
export const TRANSACTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isTransactionId(value: unknown): value is string {
  return typeof value === 'string' && TRANSACTION_ID_PATTERN.test(value);
}

const text = { type: ['string', 'null'] };
const amount = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$' },
  ],
};

/** Schema of a channel message / webhook body. */
export const messageSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    message: { type: 'string' },
    status: { type: 'string', minLength: 1 },
    transactionId: { type: 'string', pattern: TRANSACTION_ID_PATTERN.source },
    txnAmount: amount,
    txnDateTime: text,
    refNo: { type: ['string', 'number', 'null'] },
    exReferenceNo: text,
    merchantName: text,
    memo: text,
    billNumber: text,
    sourceAccount: text,
    sourceName: text,
    sourceCurrency: text,
    description: text,
    paymentMethod: text,
    orderNo: text,
    linkCode: text,
  },
  // A payment outcome must say which transaction and how much; other notices need not. Only
  // `paymentMethod, transactionId, billNumber, txnAmount, status` are sent by every bank
  // (barlus-developer/phajay-payment-gateway): a PAYMENT_COMPLETED without `message` is an outcome.
  if: {
    anyOf: [
      { properties: { message: { enum: ['SUCCESS', 'FAILED'] } }, required: ['message'] },
      { properties: { status: { const: 'PAYMENT_COMPLETED' } } },
    ],
  },
  then: { required: ['transactionId', 'txnAmount'] },
} as const;

/** Schema of a status API answer. */
export const statusResponseSchema = {
  type: 'object',
  required: ['message', 'data'],
  properties: {
    message: { type: 'string' },
    data: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['transactionId', 'status'],
          properties: {
            transactionId: { type: 'string', minLength: 1 },
            status: { type: 'string', minLength: 1 },
            isPaid: { type: 'boolean' },
            amount,
            currency: text,
            orderNo: text,
            linkCode: text,
            paymentTime: { type: ['string', 'number', 'null'] },
            createdAt: { type: ['string', 'number', 'null'] },
          },
        },
      ],
    },
  },
} as const;
