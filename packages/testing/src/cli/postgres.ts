import { requirePlugin } from '../plugins';
import { UsageError } from './errors';
import type { CliIo } from './io';

/** What the CLI uses of @payhook/postgres (an optional peer, loaded when a command needs it). */
interface PostgresCli {
  runWorkerCommand(argv: string[], io: CliIo): Promise<number>;
  runDeadLettersCommand(argv: string[], io: CliIo): Promise<number>;
  runMigrateCommand(
    argv: readonly string[],
    io: {
      stdout(line: string): void;
      stderr(line: string): void;
      env: Record<string, string | undefined>;
    },
  ): Promise<number>;
}

export const POSTGRES_HELP = `Usage: payhook postgres migrate [--url <postgres url>] [--schema <name>] [--check]

  migrate            apply @payhook/postgres's migrations (each in one transaction, under a lock)
  --url <url>        the database (default $DATABASE_URL)
  --schema <name>    the schema payhook's tables live in (default payhook)
  --check            apply nothing: exit 1 and name the missing migrations, if any
`;

/** `payhook postgres <command>`: forwarded to @payhook/postgres, so production needs no testing. */
export async function postgres(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout(POSTGRES_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'migrate') throw new UsageError(`unknown postgres command "${command}"`);
  const cli = requirePlugin<PostgresCli>('@payhook/postgres', 'payhook postgres migrate');
  return cli.runMigrateCommand(rest, {
    stdout: (line) => io.stdout(`${line}\n`),
    stderr: (line) => io.stderr(`${line}\n`),
    env: io.env,
  });
}

/** `payhook worker …`: the async mode's worker process (@payhook/postgres's runWorkerCommand). */
export function worker(argv: string[], io: CliIo): Promise<number> {
  return requirePlugin<PostgresCli>('@payhook/postgres', 'payhook worker').runWorkerCommand(
    argv,
    io,
  );
}

/** `payhook dead-letters list|retry <id>|retry-all|stats`: the async mode's dead letters. */
export function deadLetters(argv: string[], io: CliIo): Promise<number> {
  const cli = requirePlugin<PostgresCli>('@payhook/postgres', 'payhook dead-letters');
  return cli.runDeadLettersCommand(argv, io);
}
