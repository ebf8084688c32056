import {
  awaitedKey,
  awaitedProvider,
  emptySweepReport,
  type AwaitedPayment,
  type SweepReport as HubSweepReport,
} from '@payhook/core/plugin';
import { isTransactionId, SOURCE } from './schema';
import { report, sanitize, track, type SourceState } from './source-state';

/*
 * The source's watches are the hub's awaited payments (`hub.expectPayment`, keyed
 * `lailaolab:ref:<transactionId>`): whichever of the socket, the webhook and the hub's sweeper
 * brings the final answer settles it, on the one claim path, and the hub's timer sweeps them.
 * The channel has no replay, so after every connect the source asks about all of them, due or not.
 */

/** What `source.sweep()` resolves with: the hub's sweep report, with the source's older names. */
export interface SweepReport extends HubSweepReport {
  /** The same as `recovered`: payments settled by this sweep's status queries. */
  emitted: number;
  /** The same as `overdue`: watches this sweep ended because their `until` had passed. */
  expired: number;
}

const withOlderNames = (r: HubSweepReport): SweepReport => ({
  ...r,
  emitted: r.recovered,
  expired: r.overdue,
});

/** Most transactions `watching()` reads (the old default list's size). */
export const WATCHING_LIMIT = 10_000;

/** Where this source's payments are filed: `lailaolab`, or `lailaolab:test` on a test mount. */
const filedAs = (state: SourceState): string => awaitedProvider(state.provider);

const keyOf = (state: SourceState, transactionId: string): string =>
  awaitedKey(filedAs(state), { reference: transactionId });

const lower = (state: SourceState): void => {
  state.watched = Math.max(0, state.watched - 1);
};

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
  const until = Math.ceil(Date.now() + ttl);
  if (!Number.isFinite(ttl) || ttl <= 0 || !Number.isSafeInteger(until))
    throw new TypeError(`${SOURCE}: ttlMs must be a positive number of milliseconds`);
  return track(state, expect(state, transactionId, until));
}

/**
 * Awaits the transaction on the hub; false (reported on `source.error`) when the list refused or
 * failed, or when its awaited payment already ended (unwatched or overdue): the list keeps an
 * ended one until it is purged and does not await it again.
 */
async function expect(state: SourceState, id: string, until: number): Promise<boolean> {
  const asked = Date.now();
  let entry: AwaitedPayment;
  try {
    entry = await state.hub.expectPayment(state.provider, { reference: id, until });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const detail = `could not await transaction ${id}${typeof code === 'string' ? ` (${code})` : ''}`;
    report(state, 'source.error', detail, sanitize(state, error));
    return false;
  }
  if (entry.state === 'overdue') {
    report(
      state,
      'source.error',
      `transaction ${id} was awaited before and that ended (${entry.lastResult ?? 'overdue'}): it is not awaited again`,
    );
    return false;
  }
  if (entry.state === 'awaiting' && entry.createdAt >= asked) state.watched++;
  return true;
}

/** `source.unwatch()`: an id that is not a transaction id was never awaited. */
export function unwatch(state: SourceState, transactionId: string): Promise<boolean> {
  return isTransactionId(transactionId)
    ? track(state, end(state, transactionId))
    : Promise.resolve(false);
}

/** Makes the awaited payment overdue, without the notice: the list has no delete. */
async function end(state: SourceState, id: string): Promise<boolean> {
  try {
    const ended = await state.hub.awaited.expire(keyOf(state, id), Date.now(), 'unwatched');
    if (ended) lower(state);
    return ended !== null;
  } catch (error) {
    report(
      state,
      'source.error',
      `could not end the awaited payment of transaction ${id}`,
      sanitize(state, error),
    );
    return false;
  }
}

/** `source.watching()`: the awaiting Lailaolab references, soonest `until` first. */
export async function watching(state: SourceState): Promise<string[]> {
  const entries = await state.hub.awaited.list({
    state: 'awaiting',
    provider: filedAs(state),
    limit: WATCHING_LIMIT,
  });
  const ids = entries
    .filter((e): e is AwaitedPayment & { reference: string } => e.reference !== null)
    .sort((a, b) => a.until - b.until)
    .map((e) => e.reference);
  state.watched = ids.length;
  return ids;
}

/**
 * `source.sweep()`: the hub's sweeper asks about every awaiting Lailaolab payment, due or not
 * (after a connect: the socket may have missed any of them), once each. One at a time: a call
 * during one runs after it, so that no payment is left out for being leased by it. Never rejects.
 */
export function sweep(state: SourceState): Promise<SweepReport> {
  if (state.closed) return Promise.resolve(withOlderNames(emptySweepReport()));
  const next = track(
    state,
    (state.sweeping ?? Promise.resolve()).then(() => sweepAll(state)),
  );
  state.sweeping = next;
  void next.finally(() => {
    if (state.sweeping === next) state.sweeping = undefined;
  });
  return next;
}

async function sweepAll(state: SourceState): Promise<SweepReport> {
  let swept: HubSweepReport;
  try {
    // Every watched transaction, due or not: the socket may have missed any of them while away.
    swept = await state.hub.sweep({ provider: filedAs(state), all: true });
  } catch (error) {
    report(state, 'source.error', 'the sweep failed', sanitize(state, error));
    return withOlderNames({ ...emptySweepReport(), errors: 1 });
  }
  // The list may hold another instance's watches: `watched` is read again (the sweep already
  // reported a list that cannot be read).
  await watching(state).catch(() => undefined);
  return withOlderNames(swept);
}

/**
 * Keeps `watched` current between reads of the list: one less for each Lailaolab payment the hub
 * settles or makes overdue. Returns what stops it.
 */
export function followAwaited(state: SourceState): () => void {
  const ended = (payment: AwaitedPayment): void => {
    if (payment.provider === filedAs(state)) lower(state);
  };
  state.hub.on('awaited.settled', ended).on('awaited.overdue', ended);
  return () => void state.hub.off('awaited.settled', ended).off('awaited.overdue', ended);
}
