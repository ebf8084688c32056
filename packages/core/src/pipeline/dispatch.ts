import type { PaymentEvent } from '../events';
import { ListenerTimeoutError } from '../errors';
import type { Delivery } from '../provider';
import { ANY, isThenable, listenersOf } from './listeners';
import type { HubState, ListenerContext } from './types';

/** What a dispatch came to: `listeners: 0` means nobody listens to the type. */
export interface Dispatched {
  listeners: number;
  failures: unknown[];
  /** Set when the handler timeout passed first: resolves with the failures once they settle. */
  settled?: Promise<unknown[]>;
}
const NO_LISTENER: Dispatched = Object.freeze({ listeners: 0, failures: [] }) as Dispatched;
const SUCCEEDED: Dispatched = Object.freeze({ listeners: 1, failures: [] }) as Dispatched;

/**
 * Runs every listener of the event (its type's, then `onAny`'s) concurrently. Resolves with the
 * failures (empty = success), or at the handler timeout with the timeout and `settled`, which
 * resolves with the failures once the listeners really finish: the caller keeps the claim until
 * then. `claimContext` is what the store's claim hands the listeners (e.g. `{ tx }`).
 */
export function dispatch(
  state: HubState,
  event: PaymentEvent,
  delivery: Delivery,
  claimContext?: unknown,
): Dispatched | Promise<Dispatched> {
  // The AbortController is made only when a listener reads `signal` (most never do): it was the
  // largest single cost of a dispatch. A signal read after the timeout comes already aborted.
  let controller: AbortController | undefined;
  let timedOut: ListenerTimeoutError | undefined;
  const context: ListenerContext = {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (timedOut) controller.abort(timedOut);
      }
      return controller.signal;
    },
    delivery,
  };
  if (claimContext !== undefined && claimContext !== null) Object.assign(context, claimContext);
  const results: unknown[] = [];
  const callAll = (name: string): void => {
    for (const listener of listenersOf(state.emitter, name)) {
      try {
        results.push(listener(event, context));
      } catch (error) {
        results.push(Promise.reject(error));
      }
    }
  };
  callAll(event.type);
  callAll(ANY);
  if (results.length === 0) return NO_LISTENER;
  if (!results.some(isThenable)) return SUCCEEDED;
  const timeoutMs = state.settings.handlerTimeoutMs;
  // One promise that counts settlements, instead of Promise.race over allSettled and a timer
  // promise: same outcome (failures in listener order, or the timeout), fewer allocations.
  return new Promise<Dispatched>((resolve) => {
    const outcomes: Array<{ error: unknown } | undefined> = new Array(results.length);
    let pending = results.length;
    let answered = false;
    let settledLate: ((failures: unknown[]) => void) | undefined;
    const timer = setTimeout(() => {
      answered = true;
      timedOut = new ListenerTimeoutError(timeoutMs, event.id);
      controller?.abort(timedOut);
      const settled = new Promise<unknown[]>((r) => (settledLate = r));
      resolve({ listeners: results.length, failures: [timedOut], settled });
    }, timeoutMs);
    timer.unref?.();
    const settle = (): void => {
      if (--pending > 0) return;
      const failures: unknown[] = [];
      for (const o of outcomes) if (o) failures.push(o.error);
      if (answered) return settledLate!(failures);
      answered = true;
      clearTimeout(timer);
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
