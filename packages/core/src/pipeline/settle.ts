import {
  isPaymentEventType,
  PAYMENT_EVENT_TYPES,
  REFUND_KINDS,
  type PaymentEvent,
} from '../events';
import { PayloadError, StoreError, isPaymentError, type PaymentErrorLike } from '../errors';
import type { AnyPaymentProvider, Delivery, NotPaymentEvent, PaymentEventDraft } from '../provider';
import { utcIso } from '../time';
import { notify, reportError } from './notify';
import { refused, stepFailed, type VerifiedAs } from './steps';
import { modeKey } from '../modes';
import { processEvent } from './process-event';
import type { DeliveryRun, EventOutcome, EventResult, HubState, ReceiveResult } from './types';

/** Which event outcome decides the delivery's answer: the worst one. */
const RANK: Record<EventOutcome, number> = {
  failed: 6,
  busy: 5,
  unhandled: 4,
  processed: 3,
  ignored: 2,
  superseded: 1,
  duplicate: 0,
};

/**
 * 5-8: the normalized result through claim, dispatch, commit or release, per event, and the
 * answer: the gateway's success body only when every event is done (or deliberately ignored).
 */
export async function settle(
  state: HubState,
  run: DeliveryRun,
  normalized: ReadonlyArray<PaymentEventDraft> | NotPaymentEvent,
  raw: unknown,
  verifiedAs: VerifiedAs,
): Promise<ReceiveResult> {
  const { provider, delivery } = run;
  if (!Array.isArray(normalized) || normalized.length === 0)
    return notAPayment(state, provider, normalized as NotPaymentEvent | readonly [], raw, delivery);
  const unkeepable = (normalized as ReadonlyArray<PaymentEventDraft>).find(hasUnkeepableKey);
  if (unkeepable) return refused(state, provider, unkeepableKey(provider, unkeepable), delivery);
  const unnamed = (normalized as ReadonlyArray<PaymentEventDraft>).find(outsideTheLists);
  if (unnamed) return stepFailed(state, provider, 'normalize', outsideError(unnamed), delivery);
  const events = (normalized as ReadonlyArray<PaymentEventDraft>).map((d) =>
    finalize(provider, d, raw, delivery, verifiedAs),
  );
  let outcome: EventOutcome = 'duplicate';
  let firstError: PaymentErrorLike | undefined;
  for (const event of events) {
    let result: EventResult;
    try {
      result = await processEvent(state, run, event);
    } catch (cause) {
      // A store that already speaks our catalogue (e.g. @payhook/redis-store) is reported as is.
      const error =
        isPaymentError(cause) && cause.code === 'ERR_STORE_UNAVAILABLE'
          ? cause
          : new StoreError('claim/commit', cause, provider.source);
      reportError(state, error, { provider: provider.id, event, delivery });
      result = ['failed', error];
    }
    if (RANK[result[0]] > RANK[outcome]) outcome = result[0];
    firstError ??= result[1];
  }
  const ok =
    outcome === 'processed' ||
    outcome === 'duplicate' ||
    outcome === 'superseded' ||
    outcome === 'ignored';
  return { outcome, reply: ok ? provider.ack.ok : provider.ack.retry, events, error: firstError };
}

/**
 * A key no store can keep: PostgreSQL refuses U+0000 in text and JSON, and a lone surrogate has no
 * UTF-8 form. Such a delivery could never be recorded as processed, so the gateway would be told
 * to retry it forever (the store failing on every attempt): it is refused once, and its refusal
 * recorded, instead.
 */
const hasUnkeepableKey = (draft: PaymentEventDraft): boolean =>
  unkeepable(draft.id) || unkeepable(draft.transactionId) || unkeepable(draft.orderId);

const unkeepable = (s: string | null): boolean =>
  typeof s === 'string' && (s.includes('\u0000') || !s.isWellFormed());

/**
 * A draft whose type or refund kind is none of the closed lists' (a JavaScript plugin's typo): no
 * listener could be chosen for it, nor its kind trusted. A plugin bug, not the gateway's: the
 * gateway gets its retry body and the merchant an ERR_NORMALIZE_FAILED report, as for a throw.
 */
const outsideTheLists = (draft: PaymentEventDraft): boolean =>
  !isPaymentEventType(draft.type) ||
  (draft.refund?.kind !== undefined &&
    !(REFUND_KINDS as readonly unknown[]).includes(draft.refund.kind));

const outsideError = (draft: PaymentEventDraft): Error =>
  new TypeError(
    `draft ${JSON.stringify(draft.id)} has type ${String(draft.type)}` +
      (draft.refund ? ` and refund kind ${String(draft.refund.kind)}` : '') +
      `: the type must be one of ${PAYMENT_EVENT_TYPES.join(', ')}, the kind one of ${REFUND_KINDS.join(', ')}`,
  );

function unkeepableKey(provider: AnyPaymentProvider, draft: PaymentEventDraft): PayloadError {
  return new PayloadError(
    `the ${provider.id} event ${JSON.stringify(draft.id)} has an id, transaction id or order id ` +
      'with a NUL character or a lone surrogate, which no store can keep',
    { source: provider.source },
  );
}

function notAPayment(
  state: HubState,
  provider: AnyPaymentProvider,
  note: NotPaymentEvent | readonly [],
  raw: unknown,
  delivery: Delivery,
): ReceiveResult {
  const kind = 'kind' in note ? note.kind : 'not-a-payment-event';
  const reason = 'reason' in note ? note.reason : 'no payment event in this delivery';
  if (kind === 'pending') {
    state.logger.debug(
      { provider: provider.id, reason },
      '@payhook/core: payment not final yet; acknowledged',
    );
    return { outcome: 'pending', reply: provider.ack.ok, events: [], reason };
  }
  const verified = !('verified' in note) || note.verified !== false;
  notify(state, 'unhandled', { provider: provider.id, reason, verified, raw, delivery });
  return { outcome: 'unhandled', reply: provider.ack.ok, events: [], reason };
}

/**
 * The envelope of one event. The one rule for event ids, and the only place one is written: the
 * provider id, a colon, and the plugin's stable key for the fact, the draft's `id`
 * (`newpay:<newpayOrderNo>:completed`); a test-mode event has `test:` after the provider id
 * (`newpay:test:<newpayOrderNo>:completed`), so a sandbox id that happens to equal a live one
 * never finds it done (modeKey: a live key that itself starts with `test:` is escaped). Every
 * gateway's key: docs/events.md, "Event ids".
 */
export function finalize(
  provider: AnyPaymentProvider,
  draft: PaymentEventDraft,
  raw: unknown,
  delivery: Delivery,
  verifiedAs: VerifiedAs,
): PaymentEvent {
  const { keyIndex, mode } = verifiedAs;
  const event: PaymentEvent = {
    id: `${provider.id}:${modeKey(mode, draft.id)}`,
    type: draft.type,
    provider: provider.id,
    orderId: draft.orderId,
    transactionId: draft.transactionId,
    amount: draft.amount,
    currency: draft.currency,
    occurredAt: draft.occurredAt,
    receivedAt: utcIso(delivery.receivedAt.getTime()),
    verification: draft.verification ?? provider.verification,
    mode,
    raw: draft.raw ?? raw,
  };
  if (keyIndex !== undefined) event.keyIndex = keyIndex;
  if (draft.failure) event.failure = draft.failure;
  if (draft.refund) event.refund = { ...draft.refund, kind: draft.refund.kind ?? 'refund' };
  if (draft.details) event.details = draft.details;
  return event;
}
