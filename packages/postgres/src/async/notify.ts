import { notifyListeners } from '@payhook/core/plugin';
import type { QueueChannels, QueueState } from './types';

/**
 * Tells the queue's subscribers, after the fact: each one is called whatever the others do; one
 * that throws or rejects is reported on `error` (a failing `error` subscriber is logged) and never
 * undoes (or fails) the committed work it was told about.
 */
export function notify<K extends keyof QueueChannels>(
  state: QueueState,
  name: K,
  ...args: QueueChannels[K]
): void {
  notifyListeners(state.listeners, name, args, (error) => {
    if (name !== 'error') notify(state, 'error', asError(error));
    else state.logger.error({ err: error }, '@payhook/postgres: an error listener failed');
  });
}

/** An unknown thrown value as an Error, for `error`. */
export const asError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(String(value));
