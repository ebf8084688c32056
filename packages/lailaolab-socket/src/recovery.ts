import { GatewayApiError, type ReceiveResult } from '@payhook/core';
import { isTransactionId, PROVIDER_ID, SOURCE } from './schema';
import { report, sanitize, track, type SourceState } from './source-state';

/*
 * Recovery of watched transactions. The channel has no replay, so a payment made while the socket
 * was away (or whose message could not be handled) is found by asking the status API about the
 * transactions on the watch list: after every connect, on the sweep interval, and on `sweep()`.
 */

export interface SweepReport {
  checked: number;
  /** Payment events processed for the first time by this sweep. */
  emitted: number;
  pending: number;
  notFound: number;
  /** Watches that ended by their time-to-live, without a query. */
  expired: number;
  errors: number;
}

export const emptySweepReport = (): SweepReport => ({
  checked: 0,
  emitted: 0,
  pending: 0,
  notFound: 0,
  expired: 0,
  errors: 0,
});

/** Outcomes after which nothing about the delivery is left to do. */
export const FINAL: ReadonlyArray<ReceiveResult['outcome']> = [
  'processed',
  'duplicate',
  'superseded',
  'ignored',
];

const listFailure = (state: SourceState, what: string, error: unknown): void =>
  report(state, 'source.error', `the watch list could not ${what}`, sanitize(state, error));

/** Writes one watch; false (reported, kept in `unsaved`) when the list could not be written. */
async function save(state: SourceState, id: string, expiresAt: number): Promise<boolean> {
  try {
    const { size, dropped } = await state.watchList.add(id, expiresAt);
    state.listSize = size;
    if (state.unsaved.get(id) === expiresAt) state.unsaved.delete(id);
    for (const oldest of dropped)
      state.hub.logger.warn(
        { provider: PROVIDER_ID, transactionId: oldest },
        `${SOURCE}: the watch list is full; transaction ${oldest}, closest to its expiry, is no longer followed`,
      );
    return true;
  } catch (error) {
    listFailure(state, `store the watch of transaction ${id}`, error);
    return false;
  }
}

/** Ends a watch (paid, or asked); a failure is reported: the next sweep ends it again. */
export async function forget(state: SourceState, id: string): Promise<boolean> {
  const local = state.unsaved.delete(id);
  try {
    const { removed, size } = await state.watchList.remove(id);
    state.listSize = size;
    return removed || local;
  } catch (error) {
    listFailure(state, `remove transaction ${id}`, error);
    return local;
  }
}

/** `source.watch()`: throws a TypeError at once for a bad id or ttl, else never rejects. */
export function watch(
  state: SourceState,
  transactionId: string,
  options: { ttlMs?: number } = {},
): Promise<boolean> {
  if (!isTransactionId(transactionId))
    throw new TypeError(
      `${SOURCE}: watch() needs a Lailaolab transaction id (1-64 letters, digits, '-' or '_')`,
    );
  const ttl = options.ttlMs ?? state.config.watchTtlMs;
  const expiresAt = Math.ceil(Date.now() + ttl);
  if (!Number.isFinite(ttl) || ttl <= 0 || !Number.isSafeInteger(expiresAt))
    throw new TypeError(`${SOURCE}: ttlMs must be a positive number of milliseconds`);
  // Counted and swept from here until the list has it.
  state.unsaved.set(transactionId, expiresAt);
  return track(state, save(state, transactionId, expiresAt));
}

/** `source.unwatch()`: an id that is not a transaction id can only be a local watch. */
export function unwatch(state: SourceState, transactionId: string): Promise<boolean> {
  return isTransactionId(transactionId)
    ? track(state, forget(state, transactionId))
    : Promise.resolve(state.unsaved.delete(transactionId));
}

/** The unsaved watches that are still running and not on the list read: swept from here. */
function unsavedNotListed(state: SourceState, listed: readonly string[], now: number): string[] {
  const onList = new Set(listed);
  return [...state.unsaved]
    .filter(([id, expiresAt]) => expiresAt > now && !onList.has(id))
    .map(([id]) => id);
}

/**
 * Whether the merchant awaits this transaction: watched here and not yet written to the list, or
 * on the list (its `has` when it offers one, else a read of the whole list). Rejects when the list
 * cannot be read: the webhook then counts the id against its budget.
 */
export async function isWatched(state: SourceState, id: string): Promise<boolean> {
  const local = state.unsaved.get(id);
  if (local !== undefined && local > Date.now()) return true;
  const list = state.watchList;
  if (typeof list.has === 'function') return list.has(id);
  return (await list.list()).ids.includes(id);
}

/** `source.watching()`: the list's ids, then those this process could not write to it yet. */
export async function watching(state: SourceState): Promise<string[]> {
  const { ids } = await state.watchList.list();
  state.listSize = ids.length;
  return [...ids, ...unsavedNotListed(state, ids, Date.now())];
}

/** `source.sweep()`: one sweep at a time; a call during one queues (at most) one more. */
export function sweep(state: SourceState): Promise<SweepReport> {
  if (state.closed) return Promise.resolve(emptySweepReport());
  if (state.queued) return state.queued;
  const start = (): Promise<SweepReport> => {
    state.running = track(state, runSweep(state)).finally(() => {
      state.running = undefined;
    });
    return state.running;
  };
  if (state.running) {
    state.queued = state.running.then(() => {
      state.queued = undefined;
      return start();
    });
    return state.queued;
  }
  return start();
}

async function runSweep(state: SourceState): Promise<SweepReport> {
  const result = emptySweepReport();
  const now = Date.now();
  // Watches that could not be written: those that ended stop here, the others are written again
  // (until the first failure: the backend is still away). Inline, not a helper awaited: with
  // nothing to write, the list is read in the same turn as the sweep starts, before any watch()
  // the caller makes next.
  for (const [id, expiresAt] of [...state.unsaved]) {
    if (expiresAt <= now) {
      state.unsaved.delete(id);
      result.expired++;
    } else if (state.closed) break;
    else if (!(await save(state, id, expiresAt))) {
      result.errors++;
      break;
    }
  }
  const ids = await readWatched(state, result, now);
  const queue = { ids, stop: false };
  const workers = Array.from(
    { length: Math.min(state.config.concurrency, ids.length) },
    async () => {
      while (!queue.stop && !state.closed && queue.ids.length > 0)
        await checkOne(state, queue, queue.ids.shift()!, result);
    },
  );
  await Promise.all(workers);
  return result;
}

/** The ids to ask about: the list's (an unreadable list is counted and reported), then unsaved. */
async function readWatched(
  state: SourceState,
  result: SweepReport,
  now: number,
): Promise<string[]> {
  let ids: string[] = [];
  try {
    const entries = await state.watchList.list();
    ids = [...entries.ids];
    result.expired += entries.expired;
    state.listSize = ids.length;
  } catch (error) {
    result.errors++;
    listFailure(state, 'be read', error);
  }
  return [...ids, ...unsavedNotListed(state, ids, now)];
}

/** Asks about one watched transaction through hub.reconcile and counts what came of it. */
async function checkOne(
  state: SourceState,
  queue: { stop: boolean },
  id: string,
  result: SweepReport,
): Promise<void> {
  if (!isTransactionId(id)) {
    // A shared list another program wrote to: nothing the status API could be asked about.
    result.errors++;
    report(state, 'source.error', 'the watch list holds an entry that is not a transaction id');
    await forget(state, id);
    return;
  }
  result.checked++;
  // The same claim and dispatch path as a notification: a payment the socket or the webhook
  // already delivered is a duplicate here, not a second event.
  const failed = (error: unknown): void => {
    result.errors++;
    report(
      state,
      'source.error',
      `status query for transaction ${id} failed`,
      sanitize(state, error),
    );
  };
  let received: ReceiveResult;
  try {
    received = await state.hub.reconcile(state.provider, id);
  } catch (error) {
    failed(error);
    return;
  }
  const error = received.error;
  if (error?.code === 'ERR_DELIVERY_STALE') {
    // Paid longer ago than maxAgeMs: every later sweep would refuse it the same way, so it is no
    // longer watched (the merchant can still reconcile it with allowOlderThanMaxAge).
    result.errors++;
    report(
      state,
      'source.error',
      `transaction ${id} was paid longer ago than maxAgeMs (ERR_DELIVERY_STALE): no longer watched`,
      sanitize(state, error),
    );
    await forget(state, id);
    return;
  }
  if (error instanceof GatewayApiError || received.outcome === 'rejected') {
    failed(error);
    // An unreachable API fails for every id alike: wait for the next sweep.
    if (error instanceof GatewayApiError && error.retryable) queue.stop = true;
    return;
  }
  // Unhandled with events: no listener for their type yet (the watch goes on); without: the
  // gateway knows no such transaction.
  if (received.outcome === 'unhandled' && received.events.length === 0) result.notFound++;
  else if (received.outcome === 'pending') result.pending++;
  else if (FINAL.includes(received.outcome) && received.events.length > 0) {
    await forget(state, id);
    if (received.outcome === 'processed') result.emitted += received.events.length;
  }
}
