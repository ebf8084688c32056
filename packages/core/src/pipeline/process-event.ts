import type { PaymentEvent } from '../events';
import type { Claim } from '../store';
import { completedMarker } from './commit';
import { dispatch, type Dispatched } from './dispatch';
import { finishEvent, finishLater, listenersFailed, type HeldEvent } from './finish';
import { notify } from './notify';
import type { DeliveryRun, EventOutcome, EventResult, HubState } from './types';

/**
 * One event through claim → dispatch → finish (commit, release or abandon: finish.ts). The claim is
 * held until the listeners have really finished: past the handler timeout the gateway hears
 * "retry", but the claim is kept (and renewed) until they settle.
 */
export async function processEvent(
  state: HubState,
  run: DeliveryRun,
  event: PaymentEvent,
): Promise<EventResult> {
  const { store, settings, logger } = state;
  if (event.type === 'payment.failed') {
    const completion = await completionState(state, event);
    if (completion !== 'none') return [completion];
  }
  if (settings.maxInFlight !== undefined && state.inFlight >= settings.maxInFlight) {
    logger.warn(
      { eventId: event.id, inFlight: state.inFlight },
      '@payhook/core: maxInFlight reached; asking the gateway to retry',
    );
    return ['busy'];
  }
  // The slot is taken before the claim's round trip (on a networked store, concurrent deliveries
  // would otherwise all pass the cap while their claims are in flight); finishEvent frees it.
  state.inFlight++;
  let claim: Claim<unknown> | undefined;
  try {
    claim = await store.claim(event.id, settings.leaseMs);
  } finally {
    if (claim?.state !== 'claimed') state.inFlight--;
  }
  if (claim.state !== 'claimed') return [claimNotTaken(state, event, claim.state)];
  const held: HeldEvent = { run, event, token: claim.token, context: claim.context };
  let dispatched: Dispatched;
  try {
    await holdCompletion(state, held);
    dispatched = await dispatch(state, event, run.delivery, claim.context);
  } catch (cause) {
    // Released: on a transactional store the claim holds a connection.
    await finishEvent(state, held, { kind: 'threw' });
    throw cause;
  }
  if (dispatched.settled) {
    finishLater(state, held, dispatched.settled);
    return ['failed', listenersFailed(state, dispatched.failures, held)];
  }
  if (dispatched.listeners === 0) return finishEvent(state, held, { kind: 'no-listener' });
  const { failures } = dispatched;
  return finishEvent(
    state,
    held,
    failures.length === 0
      ? { kind: 'succeeded', late: false }
      : { kind: 'failed', failures, late: false },
  );
}

function claimNotTaken(
  state: HubState,
  event: PaymentEvent,
  claimState: 'done' | 'busy',
): EventOutcome {
  if (claimState === 'done') {
    state.logger.debug({ eventId: event.id }, '@payhook/core: duplicate delivery acknowledged');
    notify(state, 'duplicate', event);
    return 'duplicate';
  }
  state.logger.debug(
    { eventId: event.id },
    '@payhook/core: event in flight elsewhere; asking for a retry',
  );
  return 'busy';
}

/**
 * While a completion's listeners run, its transaction's completion marker is claimed too, so a
 * failure notice arriving meanwhile waits (busy) instead of telling the merchant "failed" for an
 * order that is being paid. The commit turns the marker into done; a release drops it.
 */
async function holdCompletion(state: HubState, held: HeldEvent): Promise<void> {
  if (held.event.type !== 'payment.completed') return;
  const key = completedMarker(held.event);
  // Joined to the event's claim: a transactional store records the marker in the same commit.
  const marker = await state.store.claim(key, state.settings.leaseMs, { join: held.token });
  if (marker.state !== 'claimed') return;
  held.markerKey = key;
  held.markerToken = marker.token;
}

/**
 * A failure notice for a payment that already completed is stale (out-of-order or replayed):
 * telling the merchant "failed" now would undo a paid order. `busy`: the completion is being
 * processed right now, so the notice waits for a redelivery.
 */
async function completionState(
  state: HubState,
  event: PaymentEvent,
): Promise<'none' | 'superseded' | 'busy'> {
  const marker = completedMarker(event);
  const probe = await state.store.claim(marker, state.settings.leaseMs);
  if (probe.state === 'claimed') {
    await state.store.release(marker, probe.token);
    return 'none';
  }
  if (probe.state === 'busy') return 'busy';
  notify(state, 'superseded', event, 'the payment already completed');
  state.logger.info(
    { eventId: event.id },
    '@payhook/core: failure notice superseded by an earlier completion',
  );
  return 'superseded';
}
