import { randomUUID } from 'node:crypto';
import type { InboxEvent, InboxRecordOptions } from '../inbox/types';
import { redactHeaders } from '../inbox/redact';
import type { AnyPaymentProvider, Delivery } from '../provider';
import type { HubState, ReceiveResult } from './types';

export interface RecordDeliveryOptions extends InboxRecordOptions {
  /** The inbox entry a replay replays. */
  replayOf?: string;
}

/**
 * The inbox step, after the pipeline and before the reply: one entry per delivery with its final
 * outcome. It sets `result.inboxId`. Only the headers are copied (to redact them); the body Buffer
 * and the events' fields are shared. An inbox that fails is logged: the delivery's answer stands.
 */
export async function recordDelivery(
  state: HubState,
  provider: AnyPaymentProvider,
  delivery: Delivery,
  result: ReceiveResult,
  options: RecordDeliveryOptions = {},
): Promise<ReceiveResult> {
  const inbox = state.inbox;
  if (!inbox) return result;
  const id = randomUUID();
  result.inboxId = id;
  const events: InboxEvent[] = result.events.map((e) => ({
    id: e.id,
    type: e.type,
    orderId: e.orderId,
    transactionId: e.transactionId,
    amount: e.amount,
    currency: e.currency,
  }));
  const error = result.error && { code: result.error.code, message: result.error.message };
  try {
    await inbox.record(
      {
        id,
        receivedAt: delivery.receivedAt,
        provider: provider.id,
        transport: delivery.transport,
        method: delivery.method,
        url: delivery.url,
        headers: redactHeaders(delivery.headers),
        body: delivery.body,
        message: delivery.message,
        outcome: result.outcome,
        reply: result.reply,
        events,
        error,
        replayOf: options.replayOf,
        durationMs: Date.now() - delivery.receivedAt.getTime(),
      },
      options.context === undefined ? undefined : { context: options.context },
    );
  } catch (cause) {
    state.logger.error(
      { err: cause, provider: provider.id, inboxId: id },
      '@payhook/core: the inbox could not record a delivery',
    );
  }
  return result;
}
