/** The `payhook-postgres` bin's commands (bin/payhook-postgres.js runs runPostgresCli). */
export { runPostgresCli } from './main';
export { runMigrateCommand } from './migrate';
export { runWorkerCommand } from './worker';
export { runDeadLettersCommand } from './dead-letters';
export { EXIT as POSTGRES_CLI_EXIT } from './args';
export { POSTGRES_HELP, MIGRATE_HELP, WORKER_HELP, DEAD_LETTERS_HELP } from './help';
export type { CommandIo } from './io';
export type { ListenersModule } from './listeners';
