import {
  checkSignedTime,
  instantToIso,
  normalizeDecimal,
  notAPaymentEvent,
  parseGatewayTime,
  pendingPayment,
  StaleDeliveryError,
  type NormalizeResult,
  type PaymentEventDraft,
} from '@payhook/core/plugin';
import type { PayinSettings } from './options';
import { SOURCE, type CashyPayinWebhook } from './schema';

/*
 * The one place where Cashy's orderStatus becomes payment.completed / payment.failed (or no
 * event), and its decimal amounts and offset-less times become exact decimals and ISO instants.
 */

const COMPLETED = new Set(['SUCCESS']);
// A Map, not an object literal: an orderStatus of "toString" must not find a prototype member.
const FAILED = new Map([
  ['FAIL', 'Payment failed'],
  ['CANCEL', 'Rejected by Cashy'],
]);
const NOT_FINAL = new Set(['PAYING', 'PROCESSING', 'WAITING']);

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
  if (NOT_FINAL.has(status)) return pendingPayment(`orderStatus ${status}`);
  const failed = FAILED.get(status);
  if (!COMPLETED.has(status) && failed === undefined)
    return notAPaymentEvent(`unknown orderStatus ${JSON.stringify(status).slice(0, 40)}`);
  const isPatch = raw.orderType === 'PATCH';
  const origin = isPatch ? resolvePatchOrigin(raw.mchOrderNo, raw.patchMchOrderNo) : undefined;
  // In this order, as ever: a bad fee (400) before a stale time (401) before a bad amount (400).
  const fee =
    raw.fee === undefined || raw.fee === null
      ? null
      : normalizeDecimal(raw.fee, { source: SOURCE, field: 'fee' });
  const at = occurredAt(
    raw,
    settings,
    receivedAt,
    verification === undefined,
    failed === undefined,
  );
  const draft: PaymentEventDraft<CashyPayinWebhook> = {
    // One key per platform order and outcome: each PATCH order has its own orderNo, and a
    // failure notice cannot shadow a later success of the same order.
    id: `${raw.orderNo}:${failed === undefined ? 'completed' : 'failed'}`,
    type: failed === undefined ? 'payment.completed' : 'payment.failed',
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
  if (failed !== undefined) draft.failure = { code: status, message: failed };
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
