import { requirePlugin } from '../plugins';
import { UsageError } from './errors';
import type { CliIo } from './io';

/** What `payhook postgres` uses of @payhook/postgres (an optional peer, loaded when called). */
interface PostgresCli {
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
