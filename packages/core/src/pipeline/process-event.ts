import type { PaymentEvent } from '../events';
import {
  ListenerAbandonedError,
  ListenerError,
  StoreError,
  type PaymentErrorLike,
} from '../errors';
import type { Delivery } from '../provider';
import type { Claim } from '../store';
import { commitProcessed, completedMarker } from './commit';
import { dispatch, type Dispatched } from './dispatch';
import { keepLease } from './lease';
import { recordInTransaction } from './record-in-transaction';
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
  // The slot is taken before the claim's round trip: on a networked store, concurrent deliveries
  // would otherwise all pass the cap while their claims are in flight.
  state.inFlight++;
  let claim: Claim<unknown> | undefined;
  let hold: CompletionHold;
  let run: Dispatched;
  try {
    claim = await store.claim(event.id, settings.leaseMs);
    if (claim.state !== 'claimed') {
      state.inFlight--;
      return [claimNotTaken(state, event, claim.state)];
    }
    hold = await holdCompletion(state, event, claim.token);
    run = await dispatch(state, event, delivery, claim.context);
  } catch (cause) {
    state.inFlight--;
    // A claim taken before the throw is dropped: on a transactional store it holds a connection.
    if (claim?.state === 'claimed')
      await releaseClaim(state, event.id, claim.token, event, delivery);
    throw cause;
  }
  const token = claim.token;
  if (run.settled) {
    // Timed out: the gateway hears "retry" now, but the claim stays ours until the listeners end.
    settleLater(state, event, token, hold, run.settled, delivery);
    return ['failed', listenersFailed(state, run.failures, event, delivery)];
  }
  state.inFlight--;
  if (run.listeners === 0 || run.failures.length > 0) {
    await releaseClaim(state, event.id, token, event, delivery);
    await releaseHold(state, hold, event, delivery);
    if (run.listeners === 0) return noListener(state, event, delivery);
    return ['failed', listenersFailed(state, run.failures, event, delivery)];
  }
  await recordInTransaction(state, event, delivery, claim.context);
  const commitError = await commitProcessed(state, event, token, hold.token);
  if (commitError) reportError(state, commitError, { provider: event.provider, event, delivery });
  // A transactional store's failed commit rolled the listeners' writes back: a redelivery must
  // run them again.
  if (commitError && store.transactional) return ['failed', commitError];
  // The listeners did succeed: the gateway is told so even when the record could not be written
  // (a retry answer would make a redelivery run them again once the lease lapses).
  return ['processed', commitError];
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

/** The completion marker, held while a completion's listeners run (token set when held here). */
interface CompletionHold {
  key?: string;
  token?: string;
}

/**
 * While a completion's listeners run, its transaction's completion marker is claimed too, so a
 * failure notice arriving meanwhile waits (busy) instead of telling the merchant "failed" for an
 * order that is being paid. The commit turns the marker into done; a failure releases it.
 */
async function holdCompletion(
  state: HubState,
  event: PaymentEvent,
  eventToken: string,
): Promise<CompletionHold> {
  if (event.type !== 'payment.completed') return {};
  const key = completedMarker(event);
  // Joined to the event's claim: a transactional store records the marker in the same commit.
  const marker = await state.store.claim(key, state.settings.leaseMs, { join: eventToken });
  return marker.state === 'claimed' ? { key, token: marker.token } : {};
}

async function releaseHold(
  state: HubState,
  hold: CompletionHold,
  event: PaymentEvent,
  delivery: Delivery,
): Promise<void> {
  if (hold.key && hold.token) await releaseClaim(state, hold.key, hold.token, event, delivery);
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
  key: string,
  token: string,
  event: PaymentEvent,
  delivery?: Delivery,
  abandoned = false,
): Promise<void> {
  try {
    await state.store.release(key, token, abandoned ? { abandoned } : undefined);
  } catch (cause) {
    reportError(state, new StoreError('release', cause), {
      provider: event.provider,
      event,
      delivery,
    });
  }
}

/** Nobody listens to this type: never mark it done, so a listener added later still gets it. */
function noListener(state: HubState, event: PaymentEvent, delivery: Delivery): [EventOutcome] {
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

/**
 * The listeners outlived the handler timeout: hold the claim until they settle, then settle it;
 * or, past the hard cap, give up on them (abandon) so a hung listener cannot hold its claim and
 * connection forever.
 */
function settleLater(
  state: HubState,
  event: PaymentEvent,
  token: string,
  hold: CompletionHold,
  settled: Promise<unknown[]>,
  delivery: Delivery,
): void {
  const { store, settings, logger } = state;
  const stops = [keepLease(store, event.id, token, settings.leaseMs, logger)];
  if (hold.key && hold.token)
    stops.push(keepLease(store, hold.key, hold.token, settings.leaseMs, logger));
  let finished = false;
  const finish = async (work: () => Promise<void>): Promise<void> => {
    if (finished) return;
    finished = true;
    clearTimeout(cap);
    for (const stop of stops) stop();
    try {
      await work();
    } finally {
      state.inFlight--;
    }
  };
  const cap = setTimeout(
    () => void finish(() => abandon(state, event, token, hold, delivery)),
    settings.hardTimeoutMs,
  );
  cap.unref?.();
  void settled.then((failures) => {
    if (finished)
      logger.warn(
        { eventId: event.id, failures: failures.length },
        '@payhook/core: an abandoned listener settled after all; its claim was already released',
      );
    return finish(() => settleLate(state, event, token, hold, failures, delivery));
  });
}

/** Timed-out listeners that settled before the hard cap: commit, or release for the redelivery. */
async function settleLate(
  state: HubState,
  event: PaymentEvent,
  token: string,
  hold: CompletionHold,
  failures: unknown[],
  delivery: Delivery,
): Promise<void> {
  // A transactional store rolls a timed-out event back even when its listeners succeed late:
  // the gateway was told to retry, and the redelivery processes it.
  if (state.store.transactional || failures.length > 0) {
    await releaseClaim(state, event.id, token, event, delivery);
    await releaseHold(state, hold, event, delivery);
    if (failures.length > 0) listenersFailed(state, failures, event, delivery);
    else
      state.logger.warn(
        { eventId: event.id },
        '@payhook/core: a timed-out listener finished; its transaction is rolled back for the redelivery',
      );
    return;
  }
  const commitError = await commitProcessed(state, event, token, hold.token);
  if (commitError) reportError(state, commitError, { provider: event.provider, event, delivery });
}

/**
 * The hard cap passed with listeners still running: their claim is released (on a transactional
 * store that destroys the connection they write on, so nothing they do later commits) and the
 * event is left to a redelivery.
 */
async function abandon(
  state: HubState,
  event: PaymentEvent,
  token: string,
  hold: CompletionHold,
  delivery: Delivery,
): Promise<void> {
  const error = new ListenerAbandonedError(state.settings.hardTimeoutMs, event.id);
  state.logger.error({ eventId: event.id }, error.message);
  await releaseClaim(state, event.id, token, event, delivery, true);
  if (hold.key && hold.token)
    await releaseClaim(state, hold.key, hold.token, event, delivery, true);
  reportError(state, error, { provider: event.provider, event, delivery });
}
