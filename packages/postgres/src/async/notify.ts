import type { QueueChannels, QueueState } from './types';

/**
 * Tells the queue's subscribers, after the fact: a subscriber that throws is reported on `error`
 * and never undoes (or fails) the committed work it was told about.
 */
export function notify<K extends keyof QueueChannels>(
  state: QueueState,
  name: K,
  ...args: QueueChannels[K]
): void {
  try {
    state.emitter.emit(name, ...args);
  } catch (error) {
    if (name !== 'error') notify(state, 'error', asError(error));
  }
}

/** An unknown thrown value as an Error, for `error`. */
export const asError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(String(value));
