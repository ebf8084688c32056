import { StaleDeliveryError } from '../errors';
import type { InboxEntry } from '../inbox/types';
import type { AnyPaymentProvider, NotPaymentEvent, PaymentEventDraft } from '../provider';
import { checkSignedTime } from '../signed-time';

/**
 * The provider's maxAgeMs applied to what reconcile and replay act on. A webhook is bounded by its
 * signed time (the provider checks it); a status answer or a stored delivery would otherwise have
 * no bound at all once the store forgot the event, so a customer-named "refresh" or an operator's
 * replay could credit an old payment a second time.
 */
function limitsOf(provider: AnyPaymentProvider): { maxAgeMs: number; clockSkewMs: number } | null {
  if (provider.maxAgeMs === undefined) return null;
  return { maxAgeMs: provider.maxAgeMs, clockSkewMs: provider.clockSkewMs ?? 0 };
}

/**
 * Reconcile: each draft's `occurredAt`, the paid (or confirmed) time the gateway's status API
 * returned. Undefined when every draft is young enough (or the provider has no maxAgeMs).
 */
export function staleStatusAnswer(
  provider: AnyPaymentProvider,
  found: ReadonlyArray<PaymentEventDraft> | NotPaymentEvent,
  now: number,
): StaleDeliveryError | undefined {
  const limits = limitsOf(provider);
  if (!limits || !Array.isArray(found)) return undefined;
  for (const draft of found as ReadonlyArray<PaymentEventDraft>) {
    try {
      checkSignedTime(draft.occurredAt, limits, {
        now,
        what: `the status answer's time of ${provider.id} payment ${draft.transactionId} (${draft.occurredAt})`,
        source: '@payhook/core',
      });
    } catch (error) {
      return withHint(error as StaleDeliveryError, 'hub.reconcile');
    }
  }
  return undefined;
}

/**
 * Replay: when the delivery first arrived (the oldest receipt along the entry's replayOf chain;
 * unknown when the chain is no longer kept, and then refused). The stored delivery's own signed time, when the provider has
 * one, is checked by the provider during the replay as for any delivery; for deliveries without
 * one (a Cashy FAIL) the time we received it is the only time we can vouch for, and the delivery
 * is at least that old.
 */
export function staleInboxEntry(
  provider: AnyPaymentProvider,
  entry: InboxEntry,
  firstReceived: Date | undefined,
  now: number,
): StaleDeliveryError | undefined {
  const limits = limitsOf(provider);
  if (!limits) return undefined;
  if (firstReceived === undefined)
    return withHint(
      new StaleDeliveryError(
        `the ${provider.id} delivery ${entry.id} replays an entry the inbox no longer keeps: its age cannot be vouched for`,
      ),
      'hub.replay',
    );
  if (firstReceived.getTime() >= now - limits.maxAgeMs) return undefined;
  const error = new StaleDeliveryError(
    `the ${provider.id} delivery ${entry.id} was first received ${firstReceived.toISOString()}, more than the ${limits.maxAgeMs} ms maximum age ago: refused as a possible replay`,
  );
  return withHint(error, 'hub.replay');
}

/** The refusal says how to get past it on purpose: the merchant's call, never the caller's. */
function withHint(error: StaleDeliveryError, call: string): StaleDeliveryError {
  return new StaleDeliveryError(
    `${error.message.replace(/^@payhook\/core: /, '')}; pass { allowOlderThanMaxAge: true } to ${call} to process it anyway (a back-office decision)`,
  );
}
