import type { PaymentEvent } from '../events';
import { ListenerTimeoutError } from '../errors';
import type { Delivery } from '../provider';
import { ANY, isThenable, type Listener, type ListenerRegistry } from './listeners';
import type { DeadlineQueue } from './deadlines';
import type { HubState } from './types';

/** What a dispatch came to: `listeners: 0` means nobody listens to the type. */
export interface Dispatched {
  listeners: number;
  failures: unknown[];
  /**
   * Set when the run ended before its listeners did (the timeout passed, or the caller's signal
   * aborted): `failures` is then that one reason, and `settled` resolves with the listeners' own
   * failures once they settle.
   */
  settled?: Promise<unknown[]>;
}
const NO_LISTENER: Dispatched = Object.freeze({ listeners: 0, failures: [] }) as Dispatched;
const SUCCEEDED: Dispatched = Object.freeze({ listeners: 1, failures: [] }) as Dispatched;

/**
 * What every listener run by `runListeners` finds in its context, the hub's (ListenerContext, with
 * `delivery` and the claim's context, e.g. `{ tx }`) and the queue worker's (WorkerContext, with
 * `tx` and `attempt`) alike.
 */
export interface RunContext {
  /** Aborted with the reason the run ended early: its timeout, or the caller's `signal`. */
  signal: AbortSignal;
}

/**
 * The hub's dispatch: every listener of the event, `claimContext` (what the store's claim hands the
 * listeners, e.g. `{ tx }`) beside `delivery` in their context, within the handler timeout. The
 * caller keeps the claim until `settled` resolves.
 */
export function dispatch(
  state: HubState,
  event: PaymentEvent,
  delivery: Delivery,
  claimContext?: unknown,
): Dispatched | Promise<Dispatched> {
  const fields =
    claimContext !== undefined && claimContext !== null
      ? { delivery, ...(claimContext as object) }
      : { delivery };
  return runListeners(state.listeners, event, fields, state.deadlines);
}

/**
 * Runs every listener of the event (its type's, then the any-listeners, as registered when the run
 * starts) concurrently, each with `event` and one context: `fields` and a `signal`. Resolves with
 * the failures in listener order (empty = success; `listeners: 0` when nobody listens), or, at
 * the timeout of `deadlines` or when `signal` aborts, with that one reason and `settled` (see Dispatched), after
 * aborting the context's signal with it. A `signal` aborted already runs no listener (`settled`
 * resolves with no failures; `once` listeners stay). Shared by the hub's dispatch and
 * @payhook/postgres's worker (exported from @payhook/core/plugin); their own policies stay theirs.
 */
export function runListeners(
  registry: ListenerRegistry,
  event: PaymentEvent,
  fields: object,
  deadlines: DeadlineQueue,
  signal?: AbortSignal,
): Dispatched | Promise<Dispatched> {
  if (signal?.aborted) {
    const listeners = registry.count(event.type) + registry.count(ANY);
    return { listeners, failures: [signal.reason], settled: Promise.resolve([]) };
  }
  const own = registry.take(event.type);
  const any = registry.take(ANY);
  // The AbortController is made only when a listener reads `signal` (most never do): it was the
  // largest single cost of a dispatch. A signal read after the end comes already aborted.
  let controller: AbortController | undefined;
  let ended: { reason: unknown } | undefined;
  const context: RunContext = {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (ended) controller.abort(ended.reason);
      }
      return controller.signal;
    },
    ...fields,
  };
  const results: unknown[] = [];
  const callAll = (listeners: readonly Listener[]): void => {
    for (const listener of listeners) {
      try {
        results.push(listener(event, context));
      } catch (error) {
        results.push(Promise.reject(error));
      }
    }
  };
  callAll(own);
  callAll(any);
  if (results.length === 0) return NO_LISTENER;
  if (!results.some(isThenable)) return SUCCEEDED;
  // One promise that counts settlements, instead of Promise.race over allSettled and a timer
  // promise: same outcome (failures in listener order, or the end), fewer allocations.
  return new Promise<Dispatched>((resolve) => {
    const outcomes: Array<{ error: unknown } | undefined> = new Array(results.length);
    let pending = results.length;
    let settledLate: ((failures: unknown[]) => void) | undefined;
    const end = (reason: unknown): void => {
      if (ended) return;
      ended = { reason };
      deadline.cancel();
      signal?.removeEventListener('abort', onAbort);
      controller?.abort(reason);
      const settled = new Promise<unknown[]>((r) => (settledLate = r));
      resolve({ listeners: results.length, failures: [reason], settled });
    };
    const onAbort = (): void => end(signal!.reason);
    const deadline = deadlines.add(() =>
      end(new ListenerTimeoutError(deadlines.timeoutMs, event.id)),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      if (--pending > 0) return;
      const failures: unknown[] = [];
      for (const o of outcomes) if (o) failures.push(o.error);
      if (ended) return settledLate!(failures);
      deadline.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(failures.length === 0 ? SUCCEEDED : { listeners: results.length, failures });
    };
    results.forEach((r, i) => {
      Promise.resolve(r).then(settle, (error: unknown) => {
        outcomes[i] = { error };
        settle();
      });
    });
  });
}
