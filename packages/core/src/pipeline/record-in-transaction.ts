import type { PaymentEvent } from '../events';
import type { Delivery } from '../provider';
import { buildInboxRecord } from './record-delivery';
import type { HubState } from './types';

/**
 * With a transactional store, the delivery's inbox entry is written inside the event's transaction
 * before it commits (the claim's context goes to the inbox), so the entry and the processed record
 * commit or roll back together. The reply here is provisional: the hub's final record of the
 * delivery replaces the entry (same id) with what the gateway was told. An inbox failure is logged
 * and never fails the event.
 */
export async function recordInTransaction(
  state: HubState,
  event: PaymentEvent,
  delivery: Delivery,
  context: unknown,
): Promise<void> {
  const inbox = state.inbox;
  if (!inbox || !state.store.transactional || context === undefined) return;
  const record = buildInboxRecord(
    event.provider,
    delivery,
    { outcome: 'processed', reply: { status: 200, headers: {}, body: '' }, events: [event] },
    undefined,
    state.redaction.names(event.provider),
  );
  try {
    await inbox.record(record, { context });
  } catch (cause) {
    state.logger.error(
      { err: cause, eventId: event.id, inboxId: record.id },
      '@payhook/core: the inbox could not record a delivery inside its transaction',
    );
  }
}
