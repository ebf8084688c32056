/**
 * The help of payhook-postgres and of each of its commands, written once: the bin prints them, and
 * @payhook/testing's deprecated aliases (`payhook postgres migrate`...) forward to the same commands.
 */

const DATABASE = `  --database-url <url>   PostgreSQL (default $DATABASE_URL)
  --schema <name>        the schema of payhook's tables and of the queue (default payhook)
  -h, --help             this help`;

const EXIT_LINE = 'Exit codes: 0 ok; 1 failed; 2 usage error.';

export const MIGRATE_HELP = `Usage: payhook-postgres migrate [--check] [--database-url <url>] [--schema <name>]

Applies @payhook/postgres's migrations, each in one transaction, under an advisory lock (two deploys
migrating at once apply each step once). Run it once per database and after each upgrade.

Options:
  --check                apply nothing: exit 1 naming the missing migrations, 0 when up to date
${DATABASE}

Exit codes: 0 applied or up to date; 1 failed, or migrations missing with --check; 2 usage error.
`;

export const WORKER_HELP = `Usage: payhook-postgres worker --listeners <module> [options]

Runs the async mode's listeners on queued payment events until SIGINT/SIGTERM, then finishes the
jobs in hand (or returns them to the queue past --grace-ms) and exits 0. Run as many as you like.

Options:
  --listeners <module>   a module exporting register(queue) (or a default function) that adds
                         queue.on('payment.completed', ...) listeners, and optionally queueOptions
                         (required)
${DATABASE}
  --queue <name>         the pg-boss queue name (default payhook_events)
  --concurrency <n>      jobs in hand at once (default 4)
  --grace-ms <ms>        at shutdown, how long jobs in hand may finish (default 30000)

${EXIT_LINE}
`;

export const DEAD_LETTERS_HELP = `Usage: payhook-postgres dead-letters <list | retry <event id> | retry-all | stats> [options]

  list        dead events, newest first, with their attempts and last error (--json for JSON)
  retry <id>  put one back on the queue (exit 1 when it is not a dead letter)
  retry-all   put them all back, oldest first (a payment's events keep their order)
  stats       queue depth, age of the oldest pending event, attempts, dead count (JSON)

Options:
${DATABASE}
  --queue <name>         the pg-boss queue name (default payhook_events)
  --limit <n>            list: at most n letters
  --json                 list: one JSON array

${EXIT_LINE}
`;

export const POSTGRES_HELP = `payhook-postgres: @payhook/postgres's commands

Usage:
  payhook-postgres migrate [--check] [--schema <name>]            apply the migrations
  payhook-postgres worker --listeners <module> [options]          run async-mode workers
  payhook-postgres dead-letters list|retry <id>|retry-all|stats   the async mode's dead letters
  payhook-postgres help [<command>]                               this help, or a command's

Every command takes --database-url <url> (default $DATABASE_URL) and --schema <name> (default
payhook). Run "payhook-postgres <command> --help" for a command's options.

${EXIT_LINE}
`;

/** Each command's help, by its name. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  migrate: MIGRATE_HELP,
  worker: WORKER_HELP,
  'dead-letters': DEAD_LETTERS_HELP,
};
