import { checkSchema } from '../migrations';
import type { QueueState } from './types';

/** The schema check and pg-boss, once per queue, whoever asks first (start(), an enqueue, a worker). */
export function ensureStarted(state: QueueState): Promise<void> {
  // A failed start is asked again next time: the migration may have run meanwhile.
  state.started ??= start(state).catch((error: unknown) => {
    state.started = undefined;
    throw error;
  });
  return state.started;
}

async function start(state: QueueState): Promise<void> {
  // The event table is migration 004_async_event: nothing is created at run time, so a schema
  // that was not migrated is the store's boot-check ConfigError, naming what is missing.
  await checkSchema(state.pool, { schema: state.settings.schema });
  // pg-boss's own tables are pg-boss's business: it creates and upgrades them in start().
  await state.boss.start();
  const { queueName, deadQueueName } = state.settings;
  // createQueue is idempotent (ON CONFLICT DO NOTHING); the dead-letter queue must exist first.
  await state.boss.createQueue(deadQueueName);
  await state.boss.createQueue(queueName, { name: queueName, deadLetter: deadQueueName });
}
