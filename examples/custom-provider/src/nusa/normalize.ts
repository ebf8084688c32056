import {
  normalizeDecimal,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  pendingPayment,
  statusOutcome,
  statusTable,
  type NormalizeResult,
  type PaymentEventDraft,
  type RefundKind,
  type StatusOutcome,
} from '@payhook/core/plugin';
import {
  NUSA_SOURCE,
  type NusaConfirmation,
  type NusaNotice,
  type NusaRecord,
  type NusaStatus,
} from './schema';

/**
 * Every `transaction_status` word and what it means for the merchant's money. The words and their
 * meanings are Midtrans's (https://docs.midtrans.com/docs/https-notification-webhooks, and the
 * life cycle on https://docs.midtrans.com/docs/transaction-status-cycle). A word Nusa adds later
 * is in no table: no payment event, until someone decides what it means.
 */
export const STATUS = statusTable<NusaStatus>(
  {
    // A card authorized, not captured: no money taken yet. `capture` or `cancel` follows.
    authorize: 'pending',
    // The card was charged: "safe to assume a successful payment"; settlement follows. (Midtrans
    // adds a fraud_status: a capture under `challenge` is not a payment yet. Nusa has none.)
    capture: 'completed',
    // The funds were received.
    settlement: 'completed',
    // Waiting for the payer: a virtual account not paid yet, a QR code not scanned.
    pending: 'pending',
    // The bank or the fraud check rejected the payment: no money was taken.
    deny: 'failed',
    // A captured payment cancelled before it settled gives the money back without moving it: a
    // void. A cancel of a payment never captured (a pending one, an authorization let go) is a
    // failure: `outcomeOf` tells them apart by the record.
    cancel: 'voided',
    // The payer did not pay before the expiry time.
    expire: 'failed',
    // An unexpected error while processing it (mostly a bank that did not answer).
    failure: 'failed',
    // The merchant refunded all or part of it: each refund its own event, named by refund_key.
    refund: 'refunded',
    partial_refund: 'refunded',
    // The payer's bank took all or part of the money back (cards only).
    chargeback: 'charged-back',
    partial_chargeback: 'charged-back',
  },
  NUSA_SOURCE,
);

/**
 * Whether Nusa took the money: a card capture, or a settlement. Only the record says so: a
 * notice's `cancel` reads the same whether the payment was captured or not. A void happens
 * before settlement by definition, so `settlement_time` alone would call every void a failure;
 * that is why Nusa's record also keeps `capture_time`.
 */
export function wasCaptured(record: NusaRecord): boolean {
  return record.capture_time !== undefined || record.settlement_time !== undefined;
}

/**
 * What a status of this record means. A cancel of a captured payment stays a void: reported as a
 * failure, the hub would drop it as `superseded` (a failure after a completion is stale), and the
 * merchant would never hear that the paid order lost its money. A cancel of a payment never
 * captured is a failure: a refund listener must not run for money that never came.
 */
export function outcomeOf(status: string, record: NusaRecord): StatusOutcome | undefined {
  const outcome = statusOutcome(STATUS, status);
  return outcome === 'voided' && !wasCaptured(record) ? 'failed' : outcome;
}

/** Every field of the event comes from Nusa's record, never from the unsigned part. */
export function fromRecord(
  confirmation: NusaConfirmation | undefined,
): NormalizeResult<NusaNotice> {
  // confirm answers every notice it does not refuse: this is for a definition without confirm.
  if (!confirmation) return notAPaymentEvent('not confirmed', { verified: false });
  const { record, status, at } = confirmation;
  const outcome = outcomeOf(status, record);
  if (outcome === 'pending') return pendingPayment(`status ${status}`);
  const becomes = outcome === undefined ? null : OUTCOME_EVENTS[outcome];
  if (!becomes || !at) return notAPaymentEvent(`status ${status}`);
  const base = {
    orderId: record.order_id,
    transactionId: record.transaction_id,
    amount: normalizeDecimal(record.gross_amount, { source: NUSA_SOURCE }),
    currency: record.currency,
    occurredAt: at,
    type: becomes.type,
  };
  if (becomes.kind !== undefined) return [{ ...base, ...reversal(confirmation, becomes.kind) }];
  const paid = becomes.type === 'payment.completed';
  return [
    {
      ...base,
      // A capture and the settlement that follows are one fact, the payment: one id.
      id: `${record.transaction_id}:${paid ? 'paid' : 'failed'}`,
      ...(paid ? {} : { failure: { code: status } }),
    },
  ];
}

/**
 * A refund, a void or a chargeback, each with an id of its own, so that every reversal of one
 * payment counts once. Nusa names its refunds (`refund_key`) but not its voids or chargebacks:
 * their ids derive from the transaction and the status word (a payment is voided once at most,
 * and charged back at most once in part and once in full).
 */
function reversal(
  { record, status, refund }: NusaConfirmation,
  kind: RefundKind,
): Pick<PaymentEventDraft, 'id' | 'refund'> {
  const money = (amount: string, field: string): string =>
    normalizeDecimal(amount, { source: NUSA_SOURCE, field });
  if (kind === 'refund') {
    const { refund_key, refund_amount } = refund!; // confirm reports a refund only by its key
    return {
      id: `${record.transaction_id}:refund:${refund_key}`,
      refund: { refundId: refund_key, amount: money(refund_amount, 'refund_amount'), kind },
    };
  }
  // A void gives back the whole payment. A chargeback takes what the record says, the whole
  // payment when it says nothing; a partial one without its amount never reaches here (confirm).
  const name = kind === 'void' ? 'void' : status;
  const field =
    kind === 'chargeback' && record.chargeback_amount !== undefined
      ? 'chargeback_amount'
      : 'gross_amount';
  return {
    id: `${record.transaction_id}:${name}`,
    refund: {
      refundId: `${name}:${record.transaction_id}`,
      amount: money(record[field]!, field),
      kind,
    },
  };
}
