import {
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseGatewayTime,
  pendingPayment,
  statusOutcome,
  statusTable,
  type NormalizeResult,
  type PaymentEventDraft,
  type StatusOutcome,
} from '@payhook/core/plugin';
import {
  SOURCE,
  type LailaolabMessage,
  type LailaolabPayload,
  type LailaolabStatusData,
  type LailaolabStatusResponse,
} from './schema';

/*
 * The one place where Lailaolab's words become payment events: the status API's record statuses
 * and the channel's `message`, in the two tables below, and kip amounts and gateway wall times
 * converted exactly. The record decides every confirmed event; the channel's message only names
 * the outcome a delivery claims, which the record must back (verify.ts).
 */

/**
 * `data.status` of the status API (`GET /v1/api/payment/check-transaction/status/{id}`,
 * https://payment-doc.lailaolab.com/v1/check-transaction-status): WAITING, EXPIRED, REFUNDED,
 * DISPUTED, PAYMENT_COMPLETED, as the barlus SDK's `transaction.go` lists them. The record's
 * `isPaid` may still contradict the word: see recordOutcome.
 */
export const RECORD_STATUS = statusTable<
  'PAYMENT_COMPLETED' | 'EXPIRED' | 'FAILED' | 'REFUNDED' | 'WAITING' | 'DISPUTED'
>(
  {
    PAYMENT_COMPLETED: 'completed',
    // The QR lapsed unpaid: a failed payment, not the reversal of a paid one.
    EXPIRED: 'failed',
    // Not in the status enum: the channel's own word for a failure (flutter_phajay), should the
    // status API ever say it.
    FAILED: 'failed',
    // A refund implies the payment completed first: normalizeStatus returns both events.
    REFUNDED: 'refunded',
    WAITING: 'pending',
    // A dispute of the payment. What it does to the money is undocumented (a hold, a chargeback?
    // only inferred), so no refund or chargeback is claimed: the record is reported on `unhandled`
    // with the reason (DISPUTE_REASON), verified, for the merchant to check with Lailaolab.
    DISPUTED: 'not-a-payment',
  },
  SOURCE,
);

/**
 * The `message` of a socket message or webhook (https://payment-doc.lailaolab.com/v1/subscription):
 * SUCCESS (react-phajay: paid when `status` is PAYMENT_COMPLETED and `message` SUCCESS) and FAILED
 * (flutter_phajay). Any other text claims no outcome.
 */
export const MESSAGE_STATUS = statusTable<'SUCCESS' | 'FAILED'>(
  { SUCCESS: 'completed', FAILED: 'failed' },
  SOURCE,
);

/** Why a DISPUTED record emits no payment event: the `unhandled` reason, after `status DISPUTED`. */
const DISPUTE_REASON =
  'a dispute whose effect on the money Lailaolab does not document: no refund or chargeback is claimed; check the transaction with Lailaolab';

export type MessageOutcome = 'completed' | 'failed' | 'other';

/**
 * The outcome a message claims, by MESSAGE_STATUS. FAILED claims a failure whatever `status` says
 * (flutter_phajay reads `message` alone). A completion also needs, beyond the message word, the
 * `status` PAYMENT_COMPLETED (the status API's word, read by RECORD_STATUS), with `message` SUCCESS
 * or none: `message` is not among the fields every bank sends (barlus SDK).
 */
export function classifyMessage(raw: LailaolabMessage): MessageOutcome {
  const said = statusOutcome(MESSAGE_STATUS, raw.message);
  if (said === 'failed') return 'failed';
  if (
    statusOutcome(RECORD_STATUS, raw.status) === 'completed' &&
    (raw.message === undefined || said === 'completed')
  )
    return 'completed';
  return 'other';
}

/**
 * What a status record means: its word by RECORD_STATUS, then `isPaid` (barlus SDK), a second field
 * that can contradict it. A PAYMENT_COMPLETED record with `isPaid: false` is not known to be paid,
 * a failed one with `isPaid: true` not known to have failed: either means nothing certain, and is
 * answered as a word the table does not name (undefined).
 */
export function recordOutcome(data: LailaolabStatusData): StatusOutcome | undefined {
  const outcome = statusOutcome(RECORD_STATUS, data.status);
  if (outcome === 'completed' && data.isPaid === false) return undefined;
  if (outcome === 'failed' && data.isPaid === true) return undefined;
  return outcome;
}

/** The record says a final payment outcome: an event, whether completed, failed or reversed. */
export const recordIsFinal = (outcome: StatusOutcome | undefined): boolean =>
  outcome !== undefined && OUTCOME_EVENTS[outcome] !== null;

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

/** The record's currency when it states a three-letter code, else the configured one. */
export function recordCurrency(data: LailaolabStatusData, configured: string): string {
  return typeof data.currency === 'string' && /^[A-Z]{3}$/.test(data.currency)
    ? data.currency
    : configured;
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

/**
 * What `confirm` learnt from the status API about the transaction a message named: the record,
 * and whether it backs the message (`confirmed`) or does not back a FAILED message yet (`pending`:
 * a record still WAITING, or one whose status is no payment outcome, such as DISPUTED, which
 * normalize reports on `unhandled`).
 */
export interface LailaolabConfirmation {
  readonly verdict: 'confirmed' | 'pending';
  readonly record: LailaolabStatusData;
}

export interface NormalizeOptions {
  timeZone: string;
  /** Currency of records (and of the secret channel's messages) that state none (default LAK). */
  currency: string;
  receivedAt: Date;
  channel: 'socket' | 'webhook';
  /** The status record that confirmed the message; absent on the trusted secret channel. */
  confirmation?: LailaolabConfirmation;
}

/** The message's own descriptive fields, for `details`: informative, never what the event says. */
function messageDetails(raw: LailaolabMessage, channel: string): Record<string, unknown> {
  const details: Record<string, unknown> = { channel };
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
  return details;
}

/**
 * The record's time of the payment, as epoch ms: `paymentTime`, else `createdAt` (a payment is
 * never older than its transaction), else undefined. Its format is undocumented: ISO, epoch and
 * the two gateway wall-clock formats are read, anything else is undefined.
 */
export function recordTimeMs(data: LailaolabStatusData, timeZone: string): number | undefined {
  for (const [field, value] of [
    ['paymentTime', data.paymentTime],
    ['createdAt', data.createdAt],
  ] as const) {
    if (value === undefined || value === null || value === '') continue;
    try {
      return Date.parse(parseGatewayTime(value, { timeZone, source: SOURCE, field }));
    } catch {
      // An unreadable time is no time: the next field, or none.
    }
  }
  return undefined;
}

/** The record's paid time for `occurredAt`, in the gateway's zone, or the receive time (and says so). */
function paidAt(
  data: LailaolabStatusData,
  timeZone: string,
  receivedAt: Date,
  details: Record<string, unknown>,
): string {
  if (data.paymentTime !== undefined && data.paymentTime !== null) {
    try {
      const parsed = parseGatewayTime(data.paymentTime, {
        timeZone,
        source: SOURCE,
        field: 'paymentTime',
      });
      // Shown in the gateway's zone, like txnDateTime, whatever offset the API wrote.
      return instantToIso(Date.parse(parsed), timeZone);
    } catch {
      // The format of paymentTime is undocumented: an unknown one must not lose the payment.
      details.paymentTime = String(data.paymentTime);
    }
  }
  details.occurredAtFrom = 'receivedAt';
  return instantToIso(receivedAt.getTime(), timeZone);
}

/**
 * One event from a status record: every field of it (order, amount, currency, paid time, status)
 * is the record's. Used for a confirmed message and for a status query alike, so both give the
 * same event under the same id.
 */
export function recordDraft(
  data: LailaolabStatusData,
  outcome: 'completed' | 'failed',
  options: {
    timeZone: string;
    currency: string;
    receivedAt: Date;
    details: Record<string, unknown>;
  },
): PaymentEventDraft<LailaolabPayload> {
  const transactionId = data.transactionId;
  const details = options.details;
  const base = {
    orderId: nonEmpty(data.orderNo) ?? null,
    transactionId,
    amount: kipAmount(data.amount, 'amount'),
    currency: recordCurrency(data, options.currency),
    verification: 'status-query' as const,
  };
  if (outcome === 'completed')
    return {
      ...base,
      id: `${transactionId}:completed`,
      type: 'payment.completed',
      occurredAt: paidAt(data, options.timeZone, options.receivedAt, details),
      details,
    };
  return {
    ...base,
    id: `${transactionId}:failed`,
    type: 'payment.failed',
    // The status API gives no time of the failure.
    occurredAt: instantToIso(options.receivedAt.getTime(), options.timeZone),
    details,
    failure:
      data.status === 'EXPIRED'
        ? { code: 'EXPIRED', message: 'the transaction expired unpaid' }
        : { code: data.status, message: `the status API says ${data.status}` },
  };
}

export function normalizeMessage(
  raw: LailaolabMessage,
  options: NormalizeOptions,
): NormalizeResult<LailaolabPayload> {
  const outcome = classifyMessage(raw);
  if (outcome === 'other') {
    // The channel's `status` is the status API's word: WAITING is not final.
    if (statusOutcome(RECORD_STATUS, raw.status) === 'pending')
      return pendingPayment(`status ${raw.status}`);
    // Not an outcome, so nothing asked the status API: on the webhook, anyone could have sent it.
    return notAPaymentEvent(`status ${raw.status}, message ${raw.message ?? '(none)'}`, {
      verified: options.channel === 'socket',
    });
  }
  const confirmation = options.confirmation;
  const details = messageDetails(raw, options.channel);
  if (confirmation) {
    const record = confirmation.record;
    if (confirmation.verdict === 'pending')
      return recordOutcome(record) === 'not-a-payment'
        ? notAPaymentEvent(`message FAILED, status API ${record.status}: ${DISPUTE_REASON}`)
        : pendingPayment(`message FAILED, status API ${record.status}: not final`);
    details.statusQuery = {
      status: record.status,
      isPaid: record.isPaid,
      amount: record.amount === undefined ? undefined : String(record.amount),
      paymentTime: record.paymentTime ?? undefined,
    };
    return [recordDraft(record, outcome, { ...options, details })];
  }
  return [channelDraft(raw, outcome, options, details)];
}

/** The secret channel, trusted without a status query (confirmByStatusQuery: false). */
function channelDraft(
  raw: LailaolabMessage,
  outcome: 'completed' | 'failed',
  options: NormalizeOptions,
  details: Record<string, unknown>,
): PaymentEventDraft<LailaolabPayload> {
  const transactionId = raw.transactionId!;
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
  const draft: PaymentEventDraft<LailaolabPayload> = {
    id: `${transactionId}:${outcome}`,
    type: outcome === 'completed' ? 'payment.completed' : 'payment.failed',
    orderId: nonEmpty(raw.orderNo) ?? null,
    transactionId,
    amount: kipAmount(raw.txnAmount, 'txnAmount'),
    // Checked by confirm: a sourceCurrency other than the configured currency is refused.
    currency: options.currency,
    occurredAt,
    details,
  };
  if (outcome === 'failed')
    draft.failure = { code: 'FAILED', message: `Lailaolab reported FAILED (status ${raw.status})` };
  return draft;
}

/**
 * A status answer (the sweep through hub.reconcile, or fetchStatus), by recordOutcome. A reversal
 * (REFUNDED) implies the payment completed first, so both events are returned: a merchant that
 * missed the completion still hears of it (the id de-duplicates it when it did not miss it).
 */
export function normalizeStatus(
  response: LailaolabStatusResponse,
  options: { timeZone: string; currency: string; receivedAt: Date },
): NormalizeResult<LailaolabPayload> {
  const data = response.data;
  if (!data) return notAPaymentEvent(`status API: ${response.message}`);
  const status = data.status;
  const outcome = recordOutcome(data);
  if (outcome === 'pending') return pendingPayment(`status ${status}`);
  // DISPUTED is the table's only not-a-payment word: reported, verified, on `unhandled`.
  if (outcome === 'not-a-payment') return notAPaymentEvent(`status ${status}: ${DISPUTE_REASON}`);
  const becomes = outcome === undefined ? null : OUTCOME_EVENTS[outcome];
  // A word the table does not name, or a record whose isPaid contradicts it.
  if (becomes === null) return notAPaymentEvent(`status ${status}`);
  const details = (): Record<string, unknown> => {
    const d: Record<string, unknown> = { channel: 'status-query', status };
    for (const field of ['description', 'paymentMethod', 'linkCode'] as const) {
      const value = nonEmpty(data[field]);
      if (value !== undefined) d[field] = value;
    }
    return d;
  };
  if (becomes.type === 'payment.failed')
    return [recordDraft(data, 'failed', { ...options, details: details() })];
  const completed = recordDraft(data, 'completed', { ...options, details: details() });
  if (becomes.kind === undefined) return [completed];
  return [
    completed,
    {
      ...completed,
      // `:refunded` for a refund, as ever; a void or chargeback under its own kind.
      id: `${data.transactionId}:${becomes.kind === 'refund' ? 'refunded' : becomes.kind}`,
      type: 'payment.refunded',
      // The status API gives no refund time.
      occurredAt: instantToIso(options.receivedAt.getTime(), options.timeZone),
      details: details(),
      refund: { refundId: data.transactionId, amount: completed.amount, kind: becomes.kind },
    },
  ];
}
