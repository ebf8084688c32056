import PgBoss from 'pg-boss';
import { ConfigError, PAYMENT_EVENT_TYPES, silentLogger } from '@payhook/core';
import { ANY, DeadlineQueue, ListenerRegistry } from '@payhook/core/plugin';
import { bossDb, enqueue } from './enqueue';
import { createDeadLetters } from './dead-letters';
import { resolveQueueOptions, SOURCE } from './options';
import { notify } from './notify';
import { ensureStarted } from './start';
import { readStats } from './stats';
import { purgeDone } from './purge';
import type { PaymentQueue, PaymentQueueOptions, QueueState } from './types';

/** The key of a queue's state, for startWorker and attachQueue; not part of the merchant's API. */
export const QUEUE_STATE: unique symbol = Symbol('payhook.queueState');
export type InternalQueue = PaymentQueue & { readonly [QUEUE_STATE]: QueueState };

const CHANNELS = new Set<string>([
  ...PAYMENT_EVENT_TYPES,
  'dead',
  'retried',
  'attempt.failed',
  'done',
  'error',
]);

/**
 * The async mode's queue on the merchant's PostgreSQL: an event table (pending → done | dead) and
 * pg-boss for jobs, retries with backoff and expiry of jobs whose worker died. Options are checked
 * here; the event table is migration 004 (`migrate`), pg-boss's own tables are made by `start()`.
 */
export function createPaymentQueue(options: PaymentQueueOptions): PaymentQueue {
  const settings = resolveQueueOptions(options);
  const pool = options.pool;
  const boss = new PgBoss({
    schedule: false,
    ...options.boss,
    db: bossDb(pool),
    schema: settings.schema,
  });
  const listeners = new ListenerRegistry();
  const state: QueueState = {
    pool,
    boss,
    settings,
    logger: options.logger ?? silentLogger,
    listeners,
    deadlines: new DeadlineQueue(settings.attemptTimeoutMs),
    started: undefined,
  };
  boss.on('error', (error) => notify(state, 'error', error));
  const check = (name: string): string => {
    if (!CHANNELS.has(name))
      throw new ConfigError('event name', `"${name}" is not an event of the queue`, {
        source: SOURCE,
      });
    return name;
  };
  const queue: InternalQueue = {
    [QUEUE_STATE]: state,
    start: () => ensureStarted(state),
    async stop() {
      if (state.started) await state.started.catch(() => undefined);
      await boss.stop({ graceful: false, close: false });
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    on(name: string, listener: (...args: any[]) => unknown) {
      listeners.on(check(name), listener);
      return queue;
    },
    off(name, listener) {
      listeners.off(check(name), listener);
      return queue;
    },
    onAny(listener) {
      listeners.on(ANY, listener);
      return queue;
    },
    enqueue: (event, db) => enqueue(state, event, db),
    stats: () => readStats(state),
    purgeDone: (olderThanMs) => purgeDone(state, olderThanMs),
    deadLetters: createDeadLetters(state),
    settings,
    boss,
  } as InternalQueue;
  return queue;
}
