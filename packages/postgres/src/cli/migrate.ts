import { Pool } from 'pg';
import { migrate, missingMigrations } from '../migrations';
import { BIN, COMMON_OPTIONS, EXIT, databaseUrl, failed, parseCommand, usage } from './args';
import { MIGRATE_HELP } from './help';
import { resolveIo, type CommandIo } from './io';

const OPTIONS = { ...COMMON_OPTIONS, check: { type: 'boolean' } } as const;

type Write = (text: string) => void;

/** --check: exit 0 when every migration is applied, 1 naming the missing ones. */
async function checkMigrations(pool: Pool, schema: string, out: Write, err: Write) {
  const missing = await missingMigrations(pool, { schema });
  if (missing.length === 0) {
    out(`${BIN} migrate: schema "${schema}" is up to date\n`);
    return EXIT.OK;
  }
  err(
    `${BIN} migrate: schema "${schema}" lacks migration ${missing.join(', ')}: ` +
      `run "${BIN} migrate --schema ${schema}"\n`,
  );
  return EXIT.FAILED;
}

/** Applies what is missing and says what it did. */
async function applyMigrations(pool: Pool, schema: string, out: Write) {
  const result = await migrate(pool, { schema });
  out(
    result.applied.length === 0
      ? `${BIN} migrate: schema "${result.schema}" is up to date (version ${result.version})\n`
      : `${BIN} migrate: applied ${result.applied.join(', ')} to schema "${result.schema}"\n`,
  );
  return EXIT.OK;
}

/**
 * `payhook-postgres migrate [--check] [--database-url <url>] [--schema <name>]`, given the
 * arguments after `migrate`. Resolves with the exit code: 0 done or up to date, 1 a failure or
 * (with --check) missing migrations, 2 bad usage.
 */
export async function runMigrateCommand(
  argv: readonly string[],
  io: Partial<CommandIo> = {},
): Promise<number> {
  const { stdout, stderr, env } = resolveIo(io);
  let url: string, schema: string, check: boolean;
  try {
    const { values } = parseCommand(argv, { options: OPTIONS });
    if (values.help) return (stdout(MIGRATE_HELP), EXIT.OK);
    [url, schema, check] = [databaseUrl(values, env), values.schema ?? 'payhook', !!values.check];
  } catch (error) {
    return usage({ stderr }, error, MIGRATE_HELP);
  }
  const pool = new Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined); // an idle connection lost: the next query reports it
  try {
    if (check) return await checkMigrations(pool, schema, stdout, stderr);
    return await applyMigrations(pool, schema, stdout);
  } catch (error) {
    return failed({ stderr }, 'migrate', error);
  } finally {
    await pool.end();
  }
}
