/**
 * `@payhook/postgres`: the idempotency store inside the merchant's PostgreSQL, so the listeners'
 * writes and the processed record commit in one transaction; its schema and migrations.
 */
export { createPostgresStore } from './store';
export type { PostgresStore, PostgresStoreOptions, PostgresClaimContext } from './store';
export type { PostgresTransaction } from './transaction';
export { migrate, checkSchema, missingMigrations, MIGRATIONS } from './migrations';
export type { Migration, MigrateOptions, MigrateResult } from './migrations';
export { runMigrateCommand } from './cli';
export type { MigrateCommandIo } from './cli';
export { createPostgresInbox } from './inbox';
export type { PostgresInbox, PostgresInboxOptions } from './inbox';
export { createPostgresWatchList } from './watch-list';
export type { PostgresWatchList, PostgresWatchListOptions } from './watch-list';
export {
  createPaymentQueue,
  attachQueue,
  startWorker,
  runWorkerCommand,
  runDeadLettersCommand,
  WORKER_HELP,
  DEAD_LETTERS_HELP,
  NoWorkerListenerError,
} from './async';
export type {
  AttachQueueOptions,
  CommandIo,
  ListenersModule,
  DeadLetter,
  DeadLetterSource,
  FailedAttempt,
  PaymentQueue,
  PaymentQueueOptions,
  PaymentWorker,
  QueueChannels,
  QueueSettings,
  QueueStats,
  Queryable,
  WorkerContext,
  WorkerListener,
  WorkerOptions,
} from './async';
