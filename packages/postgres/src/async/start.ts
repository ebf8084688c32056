import { ensureTable } from './schema';
import type { QueueState } from './types';

/** Tables and pg-boss, once per queue, whoever asks first (start(), an enqueue, a worker). */
export function ensureStarted(state: QueueState): Promise<void> {
  state.started ??= start(state);
  return state.started;
}

async function start(state: QueueState): Promise<void> {
  await ensureTable(state.pool, state.settings);
  await state.boss.start();
  const { queueName, deadQueueName } = state.settings;
  // createQueue is idempotent (ON CONFLICT DO NOTHING); the dead-letter queue must exist first.
  await state.boss.createQueue(deadQueueName);
  await state.boss.createQueue(queueName, { name: queueName, deadLetter: deadQueueName });
}
