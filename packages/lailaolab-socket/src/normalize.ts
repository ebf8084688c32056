import {
  assertSafeJson,
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  parseGatewayTime,
  parseJson,
  PayloadError,
  pendingPayment,
  type NormalizeResult,
  type PaymentEventDraft,
} from '@payhook/core';
import type {
  LailaolabMessage,
  LailaolabPayload,
  LailaolabStatusData,
  LailaolabStatusResponse,
} from './types';

export const SOURCE = '@payhook/lailaolab-socket';
export const PROVIDER_ID = 'lailaolab';
/** Gateway wall clock (the docs name no zone: assume Asia/Vientiane, UTC+7). */
export const DEFAULT_TIME_ZONE = 'Asia/Vientiane';

/**
 * A socket message as socket.io decoded it. A JSON text (some servers emit strings) goes through
 * the lossless parser; an object is checked as parseJson would have checked it.
 */
export function decodeMessage(message: unknown, what = 'socket message'): Record<string, unknown> {
  let value = message;
  if (typeof value === 'string' || Buffer.isBuffer(value))
    value = parseJson(value, { numbers: 'text', source: SOURCE, what });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PayloadError(`${what} is not a JSON object`, {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  // socket.io already ran JSON.parse, so parseJson's refusals are applied to the decoded tree.
  assertSafeJson(value, { source: SOURCE, what });
  return value as Record<string, unknown>;
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
    transactionId: { type: 'string', minLength: 1, maxLength: 200 },
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
  // A payment outcome must say which transaction and how much; other notices need not.
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
          },
        },
      ],
    },
  },
} as const;

export type MessageOutcome = 'completed' | 'failed' | 'other';

/**
 * SUCCESS + PAYMENT_COMPLETED → completed (react-phajay, `src/qr-subscription.service.ts`);
 * FAILED → failed (flutter_phajay, `lib/src/qr_payment_screen.dart`).
 */
export function classifyMessage(raw: LailaolabMessage): MessageOutcome {
  if (raw.message === 'FAILED') return 'failed';
  if (raw.message === 'SUCCESS' && raw.status === 'PAYMENT_COMPLETED') return 'completed';
  return 'other';
}

/** A status record says the money arrived: status PAYMENT_COMPLETED, or isPaid (barlus SDK). */
export function statusIsPaid(data: LailaolabStatusData): boolean {
  return data.status === 'PAYMENT_COMPLETED' && data.isPaid !== false;
}

/**
 * refNo as text. A string or a lossless-parsed number is exact. A JS number was decoded by
 * socket.io's JSON.parse before payhook saw it: above 2^53 its digits may already be wrong, and
 * nothing later can restore them; `exact: false` says so. Integers are printed with BigInt so no
 * exponent notation (a second, lossy rendering) is added.
 */
export function refNoText(refNo: unknown): { text: string; exact: boolean } | undefined {
  if (typeof refNo === 'string') return { text: refNo, exact: true };
  if (typeof refNo === 'number' && Number.isFinite(refNo)) {
    if (Number.isInteger(refNo))
      return { text: BigInt(refNo).toString(), exact: Number.isSafeInteger(refNo) };
    return { text: String(refNo), exact: false };
  }
  return undefined;
}

export function kipAmount(value: unknown, field: string): string {
  return normalizeDecimal(value as string | number, { source: SOURCE, field });
}

function currencyOf(value: unknown): string {
  return typeof value === 'string' && /^[A-Z]{3}$/.test(value) ? value : 'LAK';
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const DETAIL_FIELDS = [
  'exReferenceNo',
  'billNumber',
  'merchantName',
  'memo',
  'description',
  'paymentMethod',
  'sourceAccount',
  'sourceName',
  'linkCode',
] as const;

export interface NormalizeOptions {
  timeZone: string;
  receivedAt: Date;
  channel: 'socket' | 'webhook';
  /** The status record that confirmed the message, when it was confirmed. */
  confirmation?: LailaolabStatusData;
}

export function normalizeMessage(
  raw: LailaolabMessage,
  options: NormalizeOptions,
): NormalizeResult<LailaolabPayload> {
  const outcome = classifyMessage(raw);
  if (outcome === 'other')
    return raw.status === 'WAITING'
      ? pendingPayment('status WAITING')
      : notAPaymentEvent(`status ${raw.status}, message ${raw.message ?? '(none)'}`);
  const transactionId = raw.transactionId!;
  const details: Record<string, unknown> = { channel: options.channel };
  const ref = refNoText(raw.refNo);
  if (ref) {
    details.refNo = ref.text;
    if (!ref.exact) details.refNoExact = false;
  }
  for (const field of DETAIL_FIELDS) {
    const value = nonEmpty(raw[field]);
    if (value !== undefined) details[field] = value;
  }
  if (raw.userId !== undefined && raw.userId !== null) details.userId = String(raw.userId);
  const tags: Record<string, string> = {};
  for (let i = 1; i <= 6; i++) {
    const tag = nonEmpty(raw[`tag${i}`]);
    if (tag !== undefined) tags[`tag${i}`] = tag;
  }
  if (Object.keys(tags).length > 0) details.tags = tags;
  let occurredAt: string;
  if (typeof raw.txnDateTime === 'string' && raw.txnDateTime.length > 0) {
    occurredAt = parseGatewayTime(raw.txnDateTime, {
      timeZone: options.timeZone,
      source: SOURCE,
      field: 'txnDateTime',
    });
  } else {
    occurredAt = instantToIso(options.receivedAt.getTime(), options.timeZone);
    details.occurredAtFrom = 'receivedAt';
  }
  const confirmation = options.confirmation;
  if (confirmation) {
    details.statusQuery = {
      status: confirmation.status,
      isPaid: confirmation.isPaid,
      amount: confirmation.amount === undefined ? undefined : String(confirmation.amount),
      paymentTime: confirmation.paymentTime ?? undefined,
    };
  }
  const draft: PaymentEventDraft<LailaolabPayload> = {
    id: `${transactionId}:${outcome}`,
    type: outcome === 'completed' ? 'payment.completed' : 'payment.failed',
    orderId: nonEmpty(raw.orderNo) ?? nonEmpty(confirmation?.orderNo) ?? null,
    transactionId,
    amount: kipAmount(raw.txnAmount, 'txnAmount'),
    currency: currencyOf(raw.sourceCurrency),
    occurredAt,
    details,
  };
  if (confirmation) draft.verification = 'status-query';
  if (outcome === 'failed')
    draft.failure = { code: 'FAILED', message: `Lailaolab reported FAILED (status ${raw.status})` };
  return [draft];
}

/**
 * A status answer found by the sweep. REFUNDED implies the payment completed first, so both events
 * are returned: a merchant that missed the completion still hears of it (the id de-duplicates it
 * when it did not miss it).
 */
export function normalizeStatus(
  response: LailaolabStatusResponse,
  options: { timeZone: string; receivedAt: Date },
): NormalizeResult<LailaolabPayload> {
  const data = response.data;
  if (!data) return notAPaymentEvent(`status API: ${response.message}`);
  const status = data.status;
  if (status === 'WAITING' || status === 'DISPUTED') return pendingPayment(`status ${status}`);
  const transactionId = data.transactionId;
  const details: Record<string, unknown> = { channel: 'status-query', status };
  for (const field of ['description', 'paymentMethod', 'linkCode'] as const) {
    const value = nonEmpty(data[field]);
    if (value !== undefined) details[field] = value;
  }
  const receivedIso = instantToIso(options.receivedAt.getTime(), options.timeZone);
  let paidAt = receivedIso;
  if (data.paymentTime !== undefined && data.paymentTime !== null) {
    try {
      const parsed = parseGatewayTime(data.paymentTime, {
        timeZone: options.timeZone,
        source: SOURCE,
        field: 'paymentTime',
      });
      // Shown in the gateway's zone, like txnDateTime, whatever offset the API wrote.
      paidAt = instantToIso(Date.parse(parsed), options.timeZone);
    } catch {
      // The format of paymentTime is undocumented: an unknown one must not lose the payment.
      details.paymentTime = String(data.paymentTime);
      details.occurredAtFrom = 'receivedAt';
    }
  } else details.occurredAtFrom = 'receivedAt';
  const base = {
    orderId: nonEmpty(data.orderNo) ?? null,
    transactionId,
    amount: kipAmount(data.amount, 'amount'),
    currency: currencyOf(data.currency),
    details,
    verification: 'status-query' as const,
  };
  const completed: PaymentEventDraft<LailaolabPayload> = {
    ...base,
    id: `${transactionId}:completed`,
    type: 'payment.completed',
    occurredAt: paidAt,
  };
  if (statusIsPaid(data)) return [completed];
  if (status === 'EXPIRED')
    return [
      {
        ...base,
        id: `${transactionId}:failed`,
        type: 'payment.failed',
        occurredAt: receivedIso,
        failure: { code: 'EXPIRED', message: 'the transaction expired unpaid' },
      },
    ];
  if (status === 'REFUNDED')
    return [
      completed,
      {
        ...base,
        id: `${transactionId}:refunded`,
        type: 'payment.refunded',
        // The status API gives no refund time.
        occurredAt: receivedIso,
        refund: { refundId: transactionId, amount: base.amount },
      },
    ];
  return notAPaymentEvent(`status ${status}`);
}
