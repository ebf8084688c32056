import { ListenerError, PaymentError, type PaymentEvent } from '@payhook/core';
import { runListeners } from '@payhook/core/plugin';
import { SOURCE } from './options';
import type { QueueState, WorkerContext } from './types';

/** Thrown when no worker listener handles the event's type: it is retried, never marked done. */
export class NoWorkerListenerError extends PaymentError {
  constructor(type: string) {
    super(`no worker listener for ${type}; the event stays queued until one is added`, {
      code: 'ERR_NO_LISTENER',
      source: SOURCE,
    });
  }
}

/**
 * The worker's listeners on one attempt: core's runListeners (the hub's semantics: the type's
 * listeners then onAny's, concurrently, `context.signal` aborted at the end), under the worker's
 * policy. No listener: NoWorkerListenerError (retried). The attempt timeout, or `signal` (the
 * worker stopping past its grace, the job's expiry): that reason is thrown at once, without
 * waiting for the listeners, and the caller throws the connection away so a listener still
 * running can write nothing more in the rolled-back transaction. Failures: a ListenerError.
 */
export async function runWorkerListeners(
  state: QueueState,
  event: PaymentEvent,
  fields: Omit<WorkerContext, 'signal'>,
  signal: AbortSignal,
): Promise<void> {
  const run = await runListeners(state.listeners, event, fields, state.deadlines, signal);
  if (run.listeners === 0) throw new NoWorkerListenerError(event.type);
  if (run.settled) throw run.failures[0];
  if (run.failures.length > 0) throw new ListenerError(run.failures, event);
}
