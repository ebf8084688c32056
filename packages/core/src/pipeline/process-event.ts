import type { PaymentEvent } from '../events';
import { ListenerError, StoreError, type PaymentErrorLike } from '../errors';
import type { Delivery } from '../provider';
import { commitProcessed, completedMarker } from './commit';
import { dispatch, type Dispatched } from './dispatch';
import { keepLease } from './lease';
import { notify, reportError } from './notify';
import type { EventOutcome, HubState } from './types';

/**
 * One event through claim → dispatch → commit or release. The claim is held until the listeners
 * have really finished: past the handler timeout the gateway hears "retry", but the claim is kept
 * (and renewed) until they settle.
 */
export async function processEvent(
  state: HubState,
  event: PaymentEvent,
  delivery: Delivery,
): Promise<[EventOutcome, PaymentErrorLike?]> {
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
  const claim = await store.claim(event.id, settings.leaseMs);
  if (claim.state === 'done') {
    logger.debug({ eventId: event.id }, '@payhook/core: duplicate delivery acknowledged');
    notify(state, 'duplicate', event);
    return ['duplicate'];
  }
  if (claim.state === 'busy') {
    logger.debug(
      { eventId: event.id },
      '@payhook/core: event in flight elsewhere; asking for a retry',
    );
    return ['busy'];
  }
  state.inFlight++;
  let run: Dispatched;
  try {
    run = await dispatch(state, event, delivery);
  } catch (cause) {
    state.inFlight--;
    throw cause;
  }
  if (run.settled) {
    // Timed out: the gateway hears "retry" now, but the claim stays ours until the listeners end.
    settleLater(state, event, claim.token, run.settled, delivery);
    return ['failed', listenersFailed(state, run.failures, event, delivery)];
  }
  state.inFlight--;
  if (run.listeners === 0) return noListener(state, event, claim.token, delivery);
  if (run.failures.length > 0) {
    await releaseClaim(state, event, claim.token, delivery);
    return ['failed', listenersFailed(state, run.failures, event, delivery)];
  }
  const commitError = await commitProcessed(state, event, claim.token);
  if (commitError) reportError(state, commitError, { provider: event.provider, event, delivery });
  // The listeners did succeed: the gateway is told so even when the record could not be written
  // (a retry answer would make a redelivery run them again once the lease lapses).
  return ['processed', commitError];
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

function listenersFailed(
  state: HubState,
  failures: unknown[],
  event: PaymentEvent,
  delivery: Delivery,
): ListenerError {
  const error = new ListenerError(failures, event);
  reportError(state, error, { provider: event.provider, event, delivery });
  return error;
}

async function releaseClaim(
  state: HubState,
  event: PaymentEvent,
  token: string,
  delivery?: Delivery,
): Promise<void> {
  try {
    await state.store.release(event.id, token);
  } catch (cause) {
    reportError(state, new StoreError('release', cause), {
      provider: event.provider,
      event,
      delivery,
    });
  }
}

/** Nobody listens to this type: never mark it done, so a listener added later still gets it. */
async function noListener(
  state: HubState,
  event: PaymentEvent,
  token: string,
  delivery: Delivery,
): Promise<[EventOutcome]> {
  await releaseClaim(state, event, token, delivery);
  const ignored = state.settings.ignore.includes(event.type);
  const reason = ignored
    ? `no listener for ${event.type}; ignored (hub option ignore)`
    : `no listener for ${event.type}; the gateway is asked to retry until one is added`;
  state.logger[ignored ? 'info' : 'warn'](
    { eventId: event.id, type: event.type },
    `@payhook/core: ${reason}`,
  );
  notify(state, 'unhandled', {
    provider: event.provider,
    event,
    reason,
    verified: true,
    raw: event.raw,
    delivery,
  });
  return [ignored ? 'ignored' : 'unhandled'];
}

/** The listeners outlived the handler timeout: hold the claim until they settle, then settle it. */
function settleLater(
  state: HubState,
  event: PaymentEvent,
  token: string,
  settled: Promise<unknown[]>,
  delivery: Delivery,
): void {
  const stop = keepLease(state.store, event.id, token, state.settings.leaseMs, state.logger);
  void settled
    .then(async (failures) => {
      stop();
      if (failures.length > 0) {
        await releaseClaim(state, event, token, delivery);
        listenersFailed(state, failures, event, delivery);
        return;
      }
      const commitError = await commitProcessed(state, event, token);
      if (commitError)
        reportError(state, commitError, { provider: event.provider, event, delivery });
    })
    .finally(() => state.inFlight--);
}
