import { randomUUID } from 'node:crypto';
import type { InboxRecord, InboxRecordOptions } from '../inbox/types';
import { redactHeaders } from '../inbox/redact';
import type { Delivery } from '../provider';
import type { HubState, ReceiveResult } from './types';

/** A delivery's inbox id (and the entry it replays), assigned the first time a step asks. */
export interface InboxMeta {
  id: string;
  replayOf?: string;
}
const META = new WeakMap<Delivery, InboxMeta>();

/**
 * The delivery's inbox id: the same for every step that asks, so an entry written inside an
 * event's transaction (a transactional inbox, with the claim's context) and the hub's final record
 * of the delivery are one entry (`record` replaces an entry of the same id). Forgotten once the
 * hub has recorded the delivery, so a Delivery object received twice makes two entries.
 */
export function inboxMeta(delivery: Delivery, replayOf?: string): InboxMeta {
  let meta = META.get(delivery);
  if (!meta) {
    meta = replayOf === undefined ? { id: randomUUID() } : { id: randomUUID(), replayOf };
    META.set(delivery, meta);
  }
  return meta;
}

/**
 * The entry of a delivery as the pipeline left it. Only the headers are copied (to redact them:
 * `redacted` is the provider's list from the hub's HeaderRedaction, so no inbox, memory or
 * durable, ever receives a secret header's value): the body Buffer and the events' fields are shared.
 */
export function buildInboxRecord(
  providerId: string,
  delivery: Delivery,
  result: Pick<ReceiveResult, 'outcome' | 'reply' | 'events' | 'error'>,
  meta: InboxMeta = inboxMeta(delivery),
  redacted?: ReadonlySet<string>,
): InboxRecord {
  const { id, replayOf } = meta;
  const error = result.error && { code: result.error.code, message: result.error.message };
  return {
    id,
    receivedAt: delivery.receivedAt,
    provider: providerId,
    transport: delivery.transport,
    method: delivery.method,
    url: delivery.url,
    headers: redactHeaders(delivery.headers, redacted),
    body: delivery.body,
    message: delivery.message,
    outcome: result.outcome,
    reply: result.reply,
    events: result.events.map((e) => ({
      id: e.id,
      type: e.type,
      orderId: e.orderId,
      transactionId: e.transactionId,
      amount: e.amount,
      currency: e.currency,
    })),
    error,
    replayOf,
    durationMs: Date.now() - delivery.receivedAt.getTime(),
  };
}

/**
 * The inbox step, after the pipeline and before the reply: the delivery's entry with its final
 * outcome; it sets `result.inboxId`. An inbox that fails is logged: the delivery's answer stands.
 */
export async function recordDelivery(
  state: HubState,
  providerId: string,
  delivery: Delivery,
  result: ReceiveResult,
  options?: InboxRecordOptions,
): Promise<ReceiveResult> {
  const inbox = state.inbox;
  if (!inbox) return result;
  // Most deliveries never asked for their id: no WeakMap entry is made just to drop it.
  const meta = META.get(delivery);
  const record = buildInboxRecord(
    providerId,
    delivery,
    result,
    meta ?? { id: randomUUID() },
    state.redaction.names(providerId),
  );
  // The delivery is done: the same object received again (a caller's retry) is a new entry.
  if (meta) META.delete(delivery);
  result.inboxId = record.id;
  try {
    await inbox.record(record, options);
  } catch (cause) {
    state.logger.error(
      { err: cause, provider: providerId, inboxId: record.id },
      '@payhook/core: the inbox could not record a delivery',
    );
  }
  return result;
}
