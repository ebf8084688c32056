import { isAbsolute, resolve } from 'node:path';
import type { PaymentQueue, PaymentQueueOptions } from '../async/types';
import { UsageError } from './args';

/** What `--listeners <module>` exports: a function that registers the worker listeners. */
export interface ListenersModule {
  default?: (queue: PaymentQueue) => unknown;
  register?: (queue: PaymentQueue) => unknown;
  /** Queue options for this worker (attemptTimeoutMs...); pool, schema and queueName come from the flags. */
  queueOptions?: Omit<PaymentQueueOptions, 'pool' | 'schema' | 'queueName'>;
}

/** The module's register function and queue options; a UsageError when it exports no function. */
export async function loadListeners(
  module: string,
  cwd: string,
): Promise<{
  register: (queue: PaymentQueue) => unknown;
  queueOptions: ListenersModule['queueOptions'];
}> {
  const path = isAbsolute(module) ? module : resolve(cwd, module);
  const mod = (await import(path)) as ListenersModule;
  const register = mod.register ?? mod.default;
  if (typeof register !== 'function')
    throw new UsageError(`--listeners ${module} exports no register(queue) function`);
  return { register, queueOptions: mod.queueOptions };
}
