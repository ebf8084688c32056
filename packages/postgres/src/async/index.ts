/**
 * The async mode of @payhook/postgres, re-exported by the package's src/index.ts.
 */
export { createPaymentQueue } from './queue';
export { attachQueue } from './attach-queue';
export type { AttachQueueOptions } from './attach-queue';
export { startWorker } from './worker';
export type { PaymentWorker, WorkerOptions } from './worker';
export { NoWorkerListenerError } from './run-listeners';
export type {
  DeadLetter,
  DeadLetterSource,
  FailedAttempt,
  PaymentQueue,
  PaymentQueueOptions,
  QueueChannels,
  QueueSettings,
  QueueStats,
  Queryable,
  WorkerContext,
  WorkerListener,
} from './types';
