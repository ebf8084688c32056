import type { EventEmitter } from 'eventemitter3';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => unknown;

/** Listeners registered with `once`, so the hub can drop them after their first call. */
const ONCE = new WeakSet<Listener>();

export const ANY = '*';

/** Marks a listener as one-shot: `listenersOf` removes it as it hands it out. */
export function markOnce(listener: Listener): void {
  ONCE.add(listener);
}

/**
 * The listeners of `name`, called directly rather than through `emit`, so that their return values
 * (promises) can be awaited. eventemitter3 hands out a copy; a `once` listener is removed here, as
 * `emit` would have removed it.
 */
export function listenersOf(
  emitter: EventEmitter,
  name: string,
): Array<(...args: unknown[]) => unknown> {
  const listeners = emitter.listeners(name) as Listener[];
  for (const listener of listeners)
    if (ONCE.has(listener)) emitter.removeListener(name, listener, undefined, true);
  return listeners as unknown as Array<(...args: unknown[]) => unknown>;
}

export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null &&
  (typeof v === 'object' || typeof v === 'function') &&
  typeof (v as { then?: unknown }).then === 'function';
