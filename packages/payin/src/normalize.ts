import {
  checkSignedTime,
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseGatewayTime,
  pendingPayment,
  StaleDeliveryError,
  statusOutcome,
  statusTable,
  type NormalizeResult,
  type PaymentEventDraft,
} from '@payhook/core/plugin';
import type { PayinSettings } from './options';
import { SOURCE, type CashyKnownOrderStatus, type CashyPayinWebhook } from './schema';

/*
 * The one place where Cashy's orderStatus becomes payment.completed / payment.failed (or no
 * event), and its decimal amounts and offset-less times become exact decimals and ISO instants.
 */

/**
 * Cashy's `orderStatus` onto core's closed set: the "Payin Order Status Enum" (`PAYING`, `SUCCESS`,
 * `FAIL`; e.g. https://docs.cashypro.com/en_us/pak/appendix.html), with `PROCESSING` and `CANCEL`
 * from the older Indonesian doc (https://www.showdoc.com.cn/IdCashyEnglish). Cashy has no refund
 * status and documents none that reverses a paid order (`PAYMENT_OFFSET` is a payout failure
 * reason, not an order status), so nothing here is `refunded`, `voided` or `charged-back`. A word
 * not here is acknowledged and emitted on `unhandled`: "only the final result can be considered as
 * a clear success" (the appendix).
 */
export const ORDER_STATUS = statusTable<CashyKnownOrderStatus>(
  {
    SUCCESS: 'completed',
    FAIL: 'failed',
    // "Rejected by Cashy" (Indonesian doc): the order was refused before any money arrived, so a
    // failed payment, not the reversal of a paid one.
    CANCEL: 'failed',
    PAYING: 'pending',
    PROCESSING: 'pending',
    // Only in the payout enum of the same appendices: accepted as not final should a payin say it.
    WAITING: 'pending',
  },
  SOURCE,
);

/** `failure.message` of each failed word of ORDER_STATUS: what Cashy's docs call it. */
const FAILURE_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  FAIL: 'Payment failed',
  CANCEL: 'Rejected by Cashy',
});

export interface PatchOrigin {
  /** The merchant order number the replenishment belongs to. */
  originalMchOrderNo: string;
  /** The serial Cashy appended to mchOrderNo (`00001`), when one could be told apart. */
  serial: string | null;
}

/**
 * Where a PATCH order came from. Cashy names the original in `patchMchOrderNo`; without it,
 * `mchOrderNo` is the original plus a 5-digit serial (Cashy's payin page, the PATCH note:
 * MCH20230088 → MCH2023008800001).
 */
export function resolvePatchOrigin(
  mchOrderNo: string,
  patchMchOrderNo?: string | null,
): PatchOrigin {
  if (patchMchOrderNo) {
    const rest = mchOrderNo.startsWith(patchMchOrderNo)
      ? mchOrderNo.slice(patchMchOrderNo.length)
      : '';
    return { originalMchOrderNo: patchMchOrderNo, serial: /^\d+$/.test(rest) ? rest : null };
  }
  const m = /^(.+)(\d{5})$/.exec(mchOrderNo);
  return m
    ? { originalMchOrderNo: m[1]!, serial: m[2]! }
    : { originalMchOrderNo: mchOrderNo, serial: null };
}

/**
 * A webhook (or, with `verification: 'status-query'`, a /api/payInQuery order: our own question,
 * fresh by construction) → its event. A webhook has its signed completionTime checked against the
 * maximum age.
 */
export function normalizeOrder(
  raw: CashyPayinWebhook,
  settings: PayinSettings,
  receivedAt: Date,
  verification?: 'status-query',
): NormalizeResult<CashyPayinWebhook> {
  const status = raw.orderStatus;
  const outcome = statusOutcome(ORDER_STATUS, status);
  if (outcome === 'pending') return pendingPayment(`orderStatus ${status}`);
  const becomes = outcome === undefined ? null : OUTCOME_EVENTS[outcome];
  if (becomes === null)
    return notAPaymentEvent(`unknown orderStatus ${JSON.stringify(status).slice(0, 40)}`);
  // ORDER_STATUS names completed and failed words only (test/status-table.test.ts).
  const paid = becomes.type === 'payment.completed';
  // Beyond the status word: a PATCH order (a replenishment) is credited to the original order.
  const isPatch = raw.orderType === 'PATCH';
  const origin = isPatch ? resolvePatchOrigin(raw.mchOrderNo, raw.patchMchOrderNo) : undefined;
  // In this order, as ever: a bad fee (400) before a stale time (401) before a bad amount (400).
  const fee =
    raw.fee === undefined || raw.fee === null
      ? null
      : normalizeDecimal(raw.fee, { source: SOURCE, field: 'fee' });
  const at = occurredAt(raw, settings, receivedAt, verification === undefined, paid);
  const draft: PaymentEventDraft<CashyPayinWebhook> = {
    // One key per platform order and outcome: each PATCH order has its own orderNo, and a
    // failure notice cannot shadow a later success of the same order.
    id: `${raw.orderNo}:${paid ? 'completed' : 'failed'}`,
    type: paid ? 'payment.completed' : 'payment.failed',
    orderId: origin ? origin.originalMchOrderNo : raw.mchOrderNo,
    transactionId: raw.orderNo,
    amount: normalizeDecimal(raw.amount, {
      source: SOURCE,
      field: 'amount',
      scale: settings.scale,
    }),
    currency: settings.currency,
    occurredAt: at,
    details: {
      orderType: raw.orderType ?? null,
      fee,
      mchOrderNo: raw.mchOrderNo,
      isPatch,
      patchOrderNo: isPatch ? (raw.patchOrderNo ?? null) : null,
      serial: origin ? origin.serial : null,
    },
  };
  if (!paid) draft.failure = { code: status, message: FAILURE_MESSAGES[status] };
  if (verification) {
    draft.verification = verification;
    draft.raw = raw;
  }
  return [draft];
}

/**
 * completionTime, read in the configured zone; fee and completionTime only exist for paid orders,
 * so a failure is dated by its arrival.
 */
function occurredAt(
  raw: CashyPayinWebhook,
  settings: PayinSettings,
  receivedAt: Date,
  checkAge: boolean,
  paid: boolean,
): string {
  const { timeZone } = settings;
  if (!raw.completionTime) {
    // The payin page gives every paid order a completionTime. A SUCCESS without one has no age
    // to check and its body signs no other time (nonceStr is random), so once the store forgot
    // it, it could be replayed and credited again for ever: refused rather than trusted.
    if (paid) throw ageUnknown(checkAge);
    return instantToIso(receivedAt.getTime(), timeZone);
  }
  const iso = parseGatewayTime(raw.completionTime, {
    timeZone,
    source: SOURCE,
    field: 'completionTime',
  });
  if (checkAge) {
    // The only time in the signed body, PATCH orders included (a PATCH is its own order, with
    // its own completion). Older than maxAgeMs, or ahead by more than clockSkewMs: a 401, so a
    // genuine webhook replayed after the store forgot it is never credited again. Without it
    // (failures) the store's retention is the only bound.
    checkSignedTime(iso, settings.limits, {
      now: receivedAt.getTime(),
      // Built only on a refusal (checkSignedTime calls it then): the JSON.stringify and template
      // ran on every webhook before, 0.12–0.14 µs each (1,000,000 calls, `npx tsx`, 2026-12-06).
      what: () =>
        `completionTime ${JSON.stringify(raw.completionTime).slice(0, 40)} (read as ${timeZone} time: see the timeZone option)`,
      source: SOURCE,
    });
  }
  return iso;
}

/**
 * Stale-unknown: the same 401 as a stale time, so a gateway retry, a replay and a status answer
 * are all refused alike; the message says why.
 */
function ageUnknown(webhook: boolean): StaleDeliveryError {
  const what = webhook ? 'a SUCCESS webhook' : 'a SUCCESS order from /api/payInQuery';
  return new StaleDeliveryError(
    `${what} without completionTime: its age cannot be checked (the body signs no other time), refused as stale-unknown`,
    SOURCE,
  );
}
