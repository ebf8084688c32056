import type { PaymentEvent } from '../events';
import { ListenerAbandonedError, ListenerError, StoreError } from '../errors';
import { commitProcessed } from './commit';
import { keepLease } from './lease';
import { notify, reportError } from './notify';
import { buildInboxRecord, committedEntry } from './record-delivery';
import type { DeliveryRun, EventResult, HubState } from './types';

/** An event whose claim this process holds: what finishing it needs. */
export interface HeldEvent {
  readonly run: DeliveryRun;
  readonly event: PaymentEvent;
  readonly token: string;
  /** What the store's claim handed the listeners (a transaction, for a transactional store). */
  readonly context: unknown;
  /** The completion marker's claim, held beside a completion's (see holdCompletion). */
  markerToken?: string;
  markerKey?: string;
}

/** What the listeners came to. `late`: after the handler timeout (the gateway heard "retry"). */
export type Verdict =
  | { readonly kind: 'succeeded'; readonly late: boolean }
  | { readonly kind: 'failed'; readonly failures: unknown[]; readonly late: boolean }
  | { readonly kind: 'no-listener' }
  /** Past the hard cap, still running: released, and a transactional store's connection destroyed. */
  | { readonly kind: 'abandoned' }
  /** The store or a listener's dispatch threw before a verdict: released, the caller rethrows. */
  | { readonly kind: 'threw' };

/**
 * The one end of a held claim: commit, release or abandon, as the hub's CommitPolicy says for this
 * verdict. Frees the event's maxInFlight slot, whatever happens.
 */
export async function finishEvent(
  state: HubState,
  held: HeldEvent,
  verdict: Verdict,
): Promise<EventResult> {
  try {
    if (verdict.kind === 'abandoned') return await abandon(state, held);
    if (verdict.kind === 'succeeded' && (!verdict.late || state.policy.lateSuccess === 'commit'))
      return await commitEvent(state, held);
    await releaseHeld(state, held, false);
    return released(state, held, verdict);
  } finally {
    state.inFlight--;
  }
}

async function commitEvent(state: HubState, held: HeldEvent): Promise<EventResult> {
  const { event, token, markerToken, run } = held;
  const inTransaction =
    state.policy.recordInTransaction && (await recordInTransaction(state, held));
  const commitError = await commitProcessed(state, event, token, markerToken);
  if (!commitError) {
    if (inTransaction) run.committedEntry = true;
    return ['processed'];
  }
  reportError(state, commitError, { provider: event.provider, event, delivery: run.delivery });
  // A transaction that could not commit is over: released, in case the store's failed commit left
  // it open (a no-op for @payhook/postgres, which ends it). A record-only store's claim is kept:
  // the listeners did succeed, and a release would let a redelivery run them again.
  if (state.policy.transactional) await releaseHeld(state, held, false);
  return [state.policy.failedCommit, commitError];
}

/** What a released event tells the gateway (ignored for late verdicts: it was answered already). */
function released(state: HubState, held: HeldEvent, verdict: Verdict): EventResult {
  const { event, run } = held;
  if (verdict.kind === 'no-listener') return noListener(state, event, run);
  if (verdict.kind === 'failed') return ['failed', listenersFailed(state, verdict.failures, held)];
  if (verdict.kind === 'succeeded')
    state.logger.warn(
      { eventId: event.id },
      '@payhook/core: a timed-out listener finished; its transaction is rolled back for the redelivery',
    );
  return ['failed'];
}

/**
 * The listeners outlived the handler timeout: the claim (and marker) stay ours, renewed, until
 * they settle, then finishEvent decides; past the hard cap they are abandoned, so a hung listener
 * cannot hold its claim and connection forever.
 */
export function finishLater(state: HubState, held: HeldEvent, settled: Promise<unknown[]>): void {
  const { store, settings, logger } = state;
  const stops = [keepLease(store, held.event.id, held.token, settings.leaseMs, logger)];
  if (held.markerKey && held.markerToken)
    stops.push(keepLease(store, held.markerKey, held.markerToken, settings.leaseMs, logger));
  let finished = false;
  const finish = (verdict: Verdict): void => {
    if (finished) return;
    finished = true;
    clearTimeout(cap);
    for (const stop of stops) stop();
    void finishEvent(state, held, verdict);
  };
  const cap = setTimeout(() => finish({ kind: 'abandoned' }), settings.hardTimeoutMs);
  cap.unref?.();
  void settled.then((failures) => {
    if (finished)
      logger.warn(
        { eventId: held.event.id, failures: failures.length },
        '@payhook/core: an abandoned listener settled after all; its claim was already released',
      );
    finish(
      failures.length === 0
        ? { kind: 'succeeded', late: true }
        : { kind: 'failed', failures, late: true },
    );
  });
}

export function listenersFailed(
  state: HubState,
  failures: unknown[],
  held: Pick<HeldEvent, 'event' | 'run'>,
): ListenerError {
  const error = new ListenerError(failures, held.event);
  reportError(state, error, {
    provider: held.event.provider,
    event: held.event,
    delivery: held.run.delivery,
  });
  return error;
}

/**
 * On a transactional store, the delivery's inbox entry is written inside the event's transaction
 * before it commits (the claim's context goes to the inbox), so the entry and the processed record
 * commit or roll back together. Its reply is the one a committed event earns; the final record of
 * the delivery replaces it (same id) unless it says the same (recordDelivery). An inbox failure is
 * logged and never fails the event.
 */
async function recordInTransaction(state: HubState, held: HeldEvent): Promise<boolean> {
  const { run, event, context } = held;
  if (!state.inbox || !run.ref || context === undefined) return false;
  const entry = committedEntry(run, event);
  try {
    await state.inbox.record(buildInboxRecord(state, run.provider, run.delivery, run.ref, entry), {
      context,
      noAnswer: true,
    });
    return true;
  } catch (cause) {
    state.logger.error(
      { err: cause, eventId: event.id, inboxId: run.ref.id },
      '@payhook/core: the inbox could not record a delivery inside its transaction',
    );
    return false;
  }
}

async function releaseHeld(state: HubState, held: HeldEvent, abandoned: boolean): Promise<void> {
  await releaseClaim(state, held, held.event.id, held.token, abandoned);
  if (held.markerKey && held.markerToken)
    await releaseClaim(state, held, held.markerKey, held.markerToken, abandoned);
}

async function releaseClaim(
  state: HubState,
  held: HeldEvent,
  key: string,
  token: string,
  abandoned: boolean,
): Promise<void> {
  try {
    await state.store.release(key, token, abandoned ? { abandoned } : undefined);
  } catch (cause) {
    const { event, run } = held;
    reportError(state, new StoreError('release', cause), {
      provider: event.provider,
      event,
      delivery: run.delivery,
    });
  }
}

/**
 * The hard cap passed with listeners still running: their claim is released (on a transactional
 * store that destroys the connection they write on, so nothing they do later commits) and the
 * event is left to a redelivery.
 */
async function abandon(state: HubState, held: HeldEvent): Promise<EventResult> {
  const { event, run } = held;
  const error = new ListenerAbandonedError(state.settings.hardTimeoutMs, event.id);
  state.logger.error({ eventId: event.id }, error.message);
  await releaseHeld(state, held, true);
  reportError(state, error, { provider: event.provider, event, delivery: run.delivery });
  return ['failed', error];
}

/** Nobody listens to this type: never mark it done, so a listener added later still gets it. */
function noListener(state: HubState, event: PaymentEvent, run: DeliveryRun): EventResult {
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
    delivery: run.delivery,
  });
  return [ignored ? 'ignored' : 'unhandled'];
}
