import { randomUUID } from 'node:crypto';
import type { PaymentEvent } from '../events';
import { GatewayApiError, type PaymentErrorLike } from '../errors';
import type { InboxEvent, InboxRecord, InboxRecordOptions } from '../inbox/types';
import { redactHeaders } from '../inbox/redact';
import type { AnyPaymentProvider, Delivery } from '../provider';
import type { DeliveryRun, HubState, ReceiveResult } from './types';

/**
 * A delivery's place in the inbox, made before the pipeline runs and passed to every step that
 * writes the entry: an entry written inside an event's transaction (a transactional inbox, with the
 * claim's context) and the final record of the delivery are one entry (`record` replaces an entry
 * of the same id). Undefined when the hub has no inbox: nothing is recorded, no id is made.
 */
export interface InboxRef {
  readonly id: string;
  /** For a replay: the entry it replays. */
  readonly replayOf?: string;
  /**
   * When the entry is dated, if not the delivery's receivedAt: a replay allowed past maxAge runs
   * with its first receipt's time (so the provider's signed-time check measures it as of then)
   * but is recorded as of the replay.
   */
  readonly receivedAt?: Date;
}

/** The next delivery's inbox ref (undefined with `inbox: false`). */
export function newInboxRef(state: HubState, replayOf?: string): InboxRef | undefined {
  if (!state.inbox) return undefined;
  return replayOf === undefined ? { id: randomUUID() } : { id: randomUUID(), replayOf };
}

/**
 * The entry of a delivery as the pipeline left it. Only the headers are copied (to redact them:
 * every provider the hub records is noted in its HeaderRedaction here, so no inbox, memory or
 * durable, ever receives a secret header's value): the body Buffer and the events' fields are shared.
 */
export function buildInboxRecord(
  state: HubState,
  provider: Pick<AnyPaymentProvider, 'id' | 'secretHeaders'>,
  delivery: Delivery,
  ref: InboxRef,
  result: Pick<ReceiveResult, 'outcome' | 'reply' | 'events' | 'error'>,
): InboxRecord {
  const error = result.error && inboxError(result.error);
  const receivedAt = ref.receivedAt ?? delivery.receivedAt;
  return {
    id: ref.id,
    receivedAt,
    provider: provider.id,
    transport: delivery.transport,
    method: delivery.method,
    url: delivery.url,
    headers: redactHeaders(delivery.headers, state.redaction.namesFor(provider)),
    body: delivery.body,
    message: delivery.message,
    outcome: result.outcome,
    reply: result.reply,
    events: result.events.map(inboxEvent),
    error,
    replayOf: ref.replayOf,
    durationMs: Date.now() - receivedAt.getTime(),
  };
}

/** What the inbox keeps of an event: enough to find it and to tell sandbox money and reversals. */
function inboxEvent(e: PaymentEvent): InboxEvent {
  const kept: InboxEvent = {
    id: e.id,
    type: e.type,
    orderId: e.orderId,
    transactionId: e.transactionId,
    amount: e.amount,
    currency: e.currency,
  };
  if (e.mode === 'test') kept.mode = 'test';
  if (e.refund) kept.refundKind = e.refund.kind;
  return kept;
}

/**
 * The inbox step, the last of every path (receive, reconcile, replay, a refusal by the adapter):
 * the delivery's entry with its final outcome, written before the reply goes out; it sets
 * `result.inboxId`. An inbox that fails is logged: the delivery's answer stands.
 */
export async function recordDelivery(
  state: HubState,
  run: DeliveryRun,
  result: ReceiveResult,
): Promise<ReceiveResult> {
  const { inbox } = state;
  const { provider, delivery, ref } = run;
  if (!inbox || !ref) return result;
  result.inboxId = ref.id;
  // The entry committed inside the event's transaction may already say this (one event,
  // processed, the success reply): the inbox that wrote it there may skip the write (a connection
  // and a round trip per delivery for a new durationMs alone).
  const options = run.committedEntry && isCommittedEntry(run, result) ? COMMITTED : FINAL;
  try {
    await inbox.record(buildInboxRecord(state, provider, delivery, ref, result), options);
  } catch (cause) {
    state.logger.error(
      { err: cause, provider: provider.id, inboxId: ref.id },
      '@payhook/core: the inbox could not record a delivery',
    );
  }
  return result;
}

/** The entry finish.ts writes in the transaction: what a one-event processed delivery ends as. */
export function committedEntry(
  run: DeliveryRun,
  event: PaymentEvent,
): Pick<ReceiveResult, 'outcome' | 'reply' | 'events'> {
  return { outcome: 'processed', reply: run.provider.ack.ok, events: [event] };
}

const FINAL: InboxRecordOptions = Object.freeze({ noAnswer: true });
const COMMITTED: InboxRecordOptions = Object.freeze({ committed: true, noAnswer: true });

const isCommittedEntry = (run: DeliveryRun, result: ReceiveResult): boolean =>
  result.outcome === 'processed' &&
  result.events.length === 1 &&
  result.error === undefined &&
  result.reply === run.provider.ack.ok;

/** The inbox's copy of an error: code and message, and `retryable: false` when a retry won't help. */
function inboxError(error: PaymentErrorLike): NonNullable<InboxRecord['error']> {
  const { code, message } = error;
  return error instanceof GatewayApiError && !error.retryable
    ? { code, message, retryable: false }
    : { code, message };
}
