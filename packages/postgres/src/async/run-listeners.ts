import {
  ListenerError,
  ListenerTimeoutError,
  PaymentError,
  type PaymentEvent,
} from '@payhook/core';
import { SOURCE } from './options';
import type { QueueState, WorkerContext } from './types';

export const ANY = '*';

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
 * Runs every worker listener of the event (its type's, then onAny's) concurrently and waits for all
 * of them. Throws a ListenerError with the failures, or a ListenerTimeoutError at the attempt
 * timeout (after aborting `context.signal`): the caller then throws the connection away, so a
 * listener still running can write nothing more in the rolled-back transaction.
 */
export async function runListeners(
  state: QueueState,
  event: PaymentEvent,
  base: Omit<WorkerContext, 'signal'> & { signal: AbortSignal },
): Promise<void> {
  const listeners = [
    ...state.emitter.listeners(event.type),
    ...state.emitter.listeners(ANY),
  ] as Array<(event: PaymentEvent, context: WorkerContext) => unknown>;
  if (listeners.length === 0) throw new NoWorkerListenerError(event.type);
  // Stopped while the job waited for BEGIN or a lock: an abort listener added now would never fire.
  if (base.signal.aborted) throw base.signal.reason;
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(base.signal.reason);
  base.signal.addEventListener('abort', onOuterAbort, { once: true });
  const context: WorkerContext = { ...base, signal: controller.signal };
  const timeoutMs = state.settings.attemptTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ListenerTimeoutError(timeoutMs, event.id);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const aborted = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {
      once: true,
    }),
  );
  try {
    const outcomes = await Promise.race([
      Promise.allSettled(listeners.map(async (listener) => listener(event, context))),
      timedOut,
      aborted,
    ]);
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    if (failures.length > 0) throw new ListenerError(failures, event);
  } finally {
    clearTimeout(timer);
    base.signal.removeEventListener('abort', onOuterAbort);
  }
}
