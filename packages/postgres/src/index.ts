/**
 * `@payhook/postgres`: the idempotency store inside the merchant's PostgreSQL, so the listeners'
 * writes and the processed record commit in one transaction; its schema and migrations.
 */
export { createPostgresStore } from './store';
export type { PostgresStore, PostgresStoreOptions, PostgresClaimContext } from './store';
export type { PostgresTransaction } from './transaction';
export { migrate, checkSchema, missingMigrations, MIGRATIONS } from './migrations';
export type { Migration, MigrateOptions, MigrateResult } from './migrations';
export {
  runPostgresCli,
  runMigrateCommand,
  runWorkerCommand,
  runDeadLettersCommand,
  POSTGRES_CLI_EXIT,
  POSTGRES_HELP,
  MIGRATE_HELP,
  WORKER_HELP,
  DEAD_LETTERS_HELP,
} from './cli';
export type { CommandIo, ListenersModule } from './cli';
export { createPostgresInbox } from './inbox';
export type { PostgresInbox, PostgresInboxOptions } from './inbox';
export { createPostgresAwaitedList } from './awaited-list';
export type { PostgresAwaitedList, PostgresAwaitedListOptions } from './awaited-list';
export { createPaymentQueue, attachQueue, startWorker, NoWorkerListenerError } from './async';
export type {
  AttachQueueOptions,
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
