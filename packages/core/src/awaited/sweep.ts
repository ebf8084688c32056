import { GatewayApiError, StoreError, isPaymentError } from '../errors';
import type { AnyPaymentProvider } from '../provider';
import { notify } from '../pipeline/notify';
import { reconcile } from '../pipeline/receive';
import type { HubState, ReceiveResult } from '../pipeline/types';
import { createQueryBudget, type QueryBudget } from './budget';
import { askerFor, scheduleOf } from './expect';
import { nextCheckDelay } from './schedule';
import { within, withinHandlerTimeout } from './within';
import { FINAL_OUTCOMES } from './mark';
import type { AwaitedState } from './state';
import { emptySweepReport, type SweepReport } from './sweep-report';
import { awaitedProvider, type AwaitedPayment } from './types';

/*
 * The sweeper: asks the gateway's status API about each awaited payment whose next check has come,
 * through hub.reconcile, so an answer is processed on the one claim path (a payment its webhook
 * already delivered is a duplicate there, not a second event). Entries are leased a few at a time,
 * so an instance that dies mid-sweep holds none for longer than `leaseMs`.
 */

/** One sweep's working set: the report, and the gateways found down (not asked again this sweep). */
interface SweepRun {
  readonly report: SweepReport;
  readonly down: Set<string>;
}

/**
 * How long past its `until` an entry whose gateway this instance does not mount is left for an
 * instance that does (which asks one last time at `until`): core's longest default interval.
 */
const UNMOUNTED_GRACE_MS = 30 * 60_000;

/** What `hub.sweep(options)` asks about. */
export interface SweepOptions {
  /** Only this provider's payments (default: every provider's). */
  provider?: string;
  /**
   * Every awaiting payment, due or not (default: only those whose next check has come): e.g. after
   * a socket reconnects, the payments it may have missed. The gateway's budget still applies.
   */
  all?: boolean;
}

/**
 * `hub.sweep()`: one sweep at a time; a plain call during one gets that one's report, a call with
 * options runs after every sweep already running or queued. A sweep queued when `hub.close()` is
 * called resolves with an empty report, touching nothing.
 */
export function sweep(hub: HubState, options: SweepOptions = {}): Promise<SweepReport> {
  const state = hub.awaited;
  if (state.closed) return Promise.resolve(emptySweepReport());
  const plain = options.provider === undefined && !options.all;
  if (plain && state.running) return state.running;
  const start = (): Promise<SweepReport> => {
    if (state.closed) return Promise.resolve(emptySweepReport());
    const running = runSweep(hub, state, options).finally(() => {
      if (state.running === running) state.running = undefined;
    });
    state.running = running;
    return running;
  };
  const next = state.queue ? state.queue.then(start, start) : start();
  state.queue = next;
  const clear = (): void => {
    if (state.queue === next) state.queue = undefined;
  };
  next.then(clear, clear);
  return next;
}

/** Starts the timer (once, unref'd: it never keeps a process alive). */
export function startSweeper(hub: HubState): void {
  const state = hub.awaited;
  const every = state.settings.sweepEveryMs;
  if (state.timer || state.closed || every === 0) return;
  state.timer = setInterval(() => void sweep(hub).catch(() => undefined), every);
  state.timer.unref();
}

/**
 * `hub.close()`: no sweep starts after it; resolves when the one running has finished and those
 * queued behind it have resolved (empty, without touching the list).
 */
export async function stopSweeper(hub: HubState): Promise<void> {
  const state = hub.awaited;
  state.closed = true;
  clearInterval(state.timer);
  state.timer = undefined;
  await state.queue?.catch(() => undefined);
}

async function runSweep(
  hub: HubState,
  state: AwaitedState,
  options: SweepOptions,
): Promise<SweepReport> {
  const run: SweepRun = { report: emptySweepReport(), down: new Set() };
  const { list, settings, owner } = state;
  // Due as of the sweep's start: an entry it asks about is rescheduled after that, so one sweep
  // never takes the same entry twice, however short the gateway's backoff.
  const start = Date.now();
  await guarded(hub, run, 'purge finished awaited payments', () =>
    list.purge(start - settings.keepFinishedMs),
  );
  if (options.all) await pullForward(hub, state, run, options.provider, start);
  const provider = options.provider === undefined ? {} : { provider: options.provider };
  // A few at a time: each lease covers the queries about to run, not the whole batch's.
  while (!state.closed && run.report.leased < settings.batch) {
    const limit = Math.min(settings.concurrency, settings.batch - run.report.leased);
    const due = await guarded(hub, run, 'lease due awaited payments', () =>
      list.lease({
        owner,
        now: Date.now(),
        dueBy: start,
        leaseMs: settings.leaseMs,
        limit,
        ...provider,
      }),
    );
    if (!due || due.length === 0) break;
    run.report.leased += due.length;
    await Promise.all(due.map((entry) => checkEntry(hub, state, run, entry)));
  }
  return run.report;
}

/**
 * `all`: makes every free awaiting entry (of `provider`) due at `start`, so the sweep asks about
 * each once. Each is leased only for the moment it is rescheduled: a process that dies here holds
 * a few for `leaseMs` at most, not the whole sweep's.
 */
async function pullForward(
  hub: HubState,
  state: AwaitedState,
  run: SweepRun,
  provider: string | undefined,
  start: number,
): Promise<void> {
  const { list, settings, owner } = state;
  const entries = await guarded(hub, run, 'lease awaited payments', () =>
    list.lease({
      owner,
      now: start,
      leaseMs: settings.leaseMs,
      limit: settings.batch,
      dueBy: Number.MAX_SAFE_INTEGER,
      ...(provider === undefined ? {} : { provider }),
    }),
  );
  await Promise.all(
    (entries ?? []).map((e) =>
      guarded(hub, run, 'reschedule an awaited payment', () =>
        list.reschedule(e.key, owner, {
          nextCheckAt: Math.min(e.nextCheckAt, start),
          checks: e.checks,
          lastResult: e.lastResult,
        }),
      ),
    ),
  );
}

/** Runs a list operation; a failure is counted and reported on `error`, never thrown. */
async function guarded<T>(
  hub: HubState,
  run: SweepRun,
  what: string,
  op: () => Promise<T>,
): Promise<T | undefined> {
  try {
    // A list that does not answer must not stop every later sweep (and close()) with it.
    const boundMs = hub.settings.handlerTimeoutMs;
    return await withinHandlerTimeout(hub.deadlines, op(), () => {
      throw new Error(`the awaited list did not answer within ${boundMs} ms`);
    });
  } catch (error) {
    run.report.errors++;
    hub.logger.warn({ err: error }, `payhook: could not ${what}`);
    const reported = isPaymentError(error) ? error : new StoreError(`awaited list: ${what}`, error);
    notify(hub, 'error', reported, {});
    return undefined;
  }
}

function budgetOf(state: AwaitedState, provider: AnyPaymentProvider): QueryBudget {
  const api = statusApi(provider);
  let budget = state.budgets.get(api);
  if (!budget) {
    budget = createQueryBudget(scheduleOf(state, provider).queriesPerMinute);
    state.budgets.set(api, budget);
  }
  return budget;
}

/**
 * Which status API a mount asks: its id's, the sandbox's for a test mount (awaitedProvider). A
 * test and a live mount share the id, not the API: keyed by id, a sandbox outage marked the live
 * API down for the sweep, and sandbox orders spent the live API's query budget.
 */
const statusApi = (provider: AnyPaymentProvider): string => awaitedProvider(provider);

/** Asks about one leased payment (or not: budget spent, gateway down) and decides what comes next. */
async function checkEntry(
  hub: HubState,
  state: AwaitedState,
  run: SweepRun,
  entry: AwaitedPayment,
): Promise<void> {
  const asker = askerFor(state, entry);
  if (!asker) {
    // Another instance's gateway, not mounted here (yet): left for it, looked at again later;
    // but an entry still here long after its `until` is one no instance can ask about any more
    // (the gateway removed in a deploy): the merchant is told, as for any other payment.
    if (Date.now() >= entry.until + UNMOUNTED_GRACE_MS) {
      await overdue(hub, state, run, entry, `no instance mounts ${entry.provider}`);
      return;
    }
    run.report.deferred++;
    await again(hub, state, run, entry, entry.checks, 'provider not mounted on this instance');
    return;
  }
  const { provider, lookup } = asker;
  const down = run.down.has(statusApi(provider));
  if (down || !budgetOf(state, provider).take(Date.now())) {
    run.report.deferred++;
    const why = down ? 'status API down' : 'status query budget spent';
    await again(hub, state, run, entry, entry.checks, why, provider);
    return;
  }
  run.report.checked++;
  let result: ReceiveResult;
  try {
    result = await withinLease(
      hub,
      reconcile(hub, provider, lookup.value, {
        by: lookup.by,
        allowOlderThanMaxAge: entry.allowOlderThanMaxAge,
      }),
    );
  } catch (error) {
    // Not an answer (reconcile reports the gateway's own failures as results): asked again later.
    run.report.errors++;
    const said = isPaymentError(error) ? `${error.code}: ${error.message}` : String(error);
    await again(hub, state, run, entry, entry.checks + 1, said, provider);
    return;
  }
  await decide(hub, state, run, entry, provider, result);
}

/**
 * A status query (and the dispatch of its answer) bounded inside the entry's lease: a gateway
 * client with no timeout of its own must not hold the sweep, and every later one, forever. Past the
 * bound the entry is asked again later; the query, if it ever answers, still goes through the one
 * claim path.
 */
function withinLease(hub: HubState, query: Promise<ReceiveResult>): Promise<ReceiveResult> {
  const boundMs = hub.awaited.settings.leaseMs - hub.settings.handlerTimeoutMs / 2;
  return within(query, boundMs, () => {
    throw new Error(`the status query did not answer within ${boundMs} ms`);
  });
}

/** What a status answer means for the awaited payment. */
async function decide(
  hub: HubState,
  state: AwaitedState,
  run: SweepRun,
  entry: AwaitedPayment,
  provider: AnyPaymentProvider,
  result: ReceiveResult,
): Promise<void> {
  const checks = entry.checks + 1;
  if (FINAL_OUTCOMES.has(result.outcome) && result.events.length > 0) {
    run.report[result.outcome === 'processed' ? 'recovered' : 'alreadySettled']++;
    // The pipeline settled it (markSettled); asked again in case that write failed, or the
    // answer's events do not name the entry as it was awaited. Settled here: the notice is sent
    // here (markSettled sent none).
    const [event] = result.events;
    const settled = await guarded(hub, run, 'settle an awaited payment', () =>
      state.list.settle(
        { provider: entry.provider, orderId: entry.orderId, reference: entry.reference },
        { by: 'status-query', at: Date.now(), eventId: event!.id },
      ),
    );
    if (settled) notify(hub, 'awaited.settled', settled);
    return;
  }
  if (result.error?.code === 'ERR_DELIVERY_STALE') {
    // Paid longer ago than maxAgeMs and not allowed for this payment: every later query would be
    // refused alike, so the merchant is told now (hub.reconcile with allowOlderThanMaxAge takes it).
    await overdue(hub, state, run, entry, `stale: ${result.error.message}`);
    return;
  }
  const error = result.error;
  if (error) run.report.errors++;
  else run.report.waiting++;
  if (error instanceof GatewayApiError && error.retryable) run.down.add(statusApi(provider));
  const said = error ? `${error.code}: ${error.message}` : describe(result);
  await again(hub, state, run, entry, checks, said, provider);
}

/**
 * The entry's `lastResult`: the outcome, or for an answer with no event the reason (`unknown to the
 * gateway`, or the plugin's: a record the gateway knows but that is no payment, DISPUTED...).
 */
const describe = (result: ReceiveResult): string =>
  result.outcome === 'unhandled' && result.reason !== undefined ? result.reason : result.outcome;

/**
 * Schedules the next check: the gateway's backoff after `checks` queries, never past `until` (one
 * last query is asked at `until`); a payment whose `until` has passed is made overdue instead.
 */
async function again(
  hub: HubState,
  state: AwaitedState,
  run: SweepRun,
  entry: AwaitedPayment,
  checks: number,
  lastResult: string,
  provider?: AnyPaymentProvider,
): Promise<void> {
  const now = Date.now();
  if (now >= entry.until && provider && checks > entry.checks) {
    await overdue(hub, state, run, entry, lastResult);
    return;
  }
  const schedule = provider ? scheduleOf(state, provider) : undefined;
  const delay = schedule ? nextCheckDelay(schedule, checks, state.random()) : 60_000;
  // Not asked (budget, API down): a minute's wait at most, the budget's window.
  const wait = checks > entry.checks ? delay : Math.min(delay, 60_000);
  const nextCheckAt = now >= entry.until ? now + wait : Math.min(entry.until, now + wait);
  await guarded(hub, run, 'reschedule an awaited payment', () =>
    state.list.reschedule(entry.key, state.owner, { nextCheckAt, checks, lastResult }),
  );
}

async function overdue(
  hub: HubState,
  state: AwaitedState,
  run: SweepRun,
  entry: AwaitedPayment,
  lastResult: string,
): Promise<void> {
  const expired = await guarded(hub, run, 'make an awaited payment overdue', () =>
    state.list.expire(entry.key, Date.now(), lastResult),
  );
  if (!expired) return;
  run.report.overdue++;
  notify(hub, 'awaited.overdue', expired);
}
