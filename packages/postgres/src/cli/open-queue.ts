import { Pool } from 'pg';
import { createPaymentQueue } from '../async/queue';
import type { PaymentQueue, PaymentQueueOptions } from '../async/types';
import { BIN } from './args';
import type { CommandIo } from './io';

/** Where a command's queue is: the flags --database-url, --schema and --queue. */
export interface QueueFlags {
  url: string;
  schema?: string;
  queueName?: string;
}

/**
 * A pool of its own (20 connections, as the worker always had) and the queue on it. The pool is
 * the caller's to end after `queue.stop()`; it is ended here when the queue's options are refused.
 */
export function openQueue(
  flags: QueueFlags,
  io: Pick<CommandIo, 'stderr'>,
  extra: Omit<PaymentQueueOptions, 'pool' | 'schema' | 'queueName'> = {},
): { pool: Pool; queue: PaymentQueue } {
  const pool = new Pool({ connectionString: flags.url, max: 20 });
  // An idle connection lost (a database restart) is reported, not an end of the process.
  pool.on('error', (error) => io.stderr(`${BIN}: database connection lost: ${error.message}\n`));
  try {
    const queue = createPaymentQueue({
      ...extra,
      pool,
      schema: flags.schema,
      queueName: flags.queueName,
    });
    return { pool, queue };
  } catch (error) {
    void pool.end();
    throw error;
  }
}

/** Stops the queue (pg-boss's maintenance) and ends the pool, whatever state they are in. */
export async function closeQueue(opened: { pool: Pool; queue: PaymentQueue }): Promise<void> {
  await opened.queue.stop().catch(() => undefined);
  await opened.pool.end();
}
