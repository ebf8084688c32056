import type { Delivery } from '../provider';
import { awaitedProvider } from './types';
import type { HubState, ReceiveResult } from '../pipeline/types';
import { notify } from '../pipeline/notify';
import type { SettledBy } from './types';
import { withinHandlerTimeout } from './within';

/** Outcomes that are a payment's final answer: its event was processed, now or before. */
export const FINAL_OUTCOMES: ReadonlySet<ReceiveResult['outcome']> = new Set([
  'processed',
  'duplicate',
  'superseded',
  'ignored',
]);

const settledBy = (delivery: Delivery): SettledBy =>
  delivery.transport === 'socket'
    ? 'socket'
    : delivery.transport === 'status-query'
      ? 'status-query'
      : delivery.transport === 'replay'
        ? 'replay'
        : 'webhook';

/**
 * After a delivery's events have their final answer, settles the awaited payments they name, so
 * the sweeper stops asking. A list that cannot be written is reported, never fails the delivery:
 * the sweeper then asks once more and finds a duplicate. Nor does a list that does not answer hold
 * the delivery's answer past handlerTimeoutMs (the gateway's own timeout is around it): a settle
 * that completes later still sends its notice.
 */
export async function markSettled(
  hub: HubState,
  delivery: Delivery,
  result: ReceiveResult,
): Promise<void> {
  const state = hub.awaited;
  if (!state.active || !FINAL_OUTCOMES.has(result.outcome) || result.events.length === 0) return;
  const by = settledBy(delivery);
  // One event after another, as the delivery names them: the first to settle an entry names it.
  const settling = (async () => {
    for (const event of result.events) {
      // Filed by the event's own mode: a test payment on a live mount that allows them never
      // settles the live order it shares a number with (awaitedProvider).
      const filed = awaitedProvider({ id: event.provider, mode: event.mode });
      try {
        const settled = await state.list.settle(
          { provider: filed, orderId: event.orderId, reference: event.transactionId },
          { by, at: Date.now(), eventId: event.id },
        );
        if (settled) notify(hub, 'awaited.settled', settled);
      } catch (error) {
        hub.logger.warn(
          { err: error, eventId: event.id },
          'payhook: could not settle an awaited payment',
        );
      }
    }
  })();
  await withinHandlerTimeout(hub.deadlines, settling, () => {
    hub.logger.warn(
      { eventIds: result.events.map((e) => e.id) },
      'payhook: the awaited list did not settle within handlerTimeoutMs; the delivery is answered without it',
    );
  });
}
