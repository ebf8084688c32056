import { Pool } from 'pg';
import { checkSchema, migrate, missingMigrations } from './migrations';

/** Where the command writes, and its environment (DATABASE_URL). */
export interface MigrateCommandIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const USAGE = `usage: payhook postgres migrate [--url <postgres url>] [--schema <name>] [--check]
  --url     the database (default: $DATABASE_URL)
  --schema  the schema holding payhook's tables (default: payhook)
  --check   apply nothing: exit 1 and name the missing migrations, 0 when up to date`;

/**
 * `payhook postgres migrate`: the CLI's subcommand, given the arguments after `migrate`. Resolves
 * with the exit code (0 done, 1 missing migrations with --check or a failure, 2 bad usage).
 */
export async function runMigrateCommand(
  argv: readonly string[],
  io: MigrateCommandIo = {},
): Promise<number> {
  const out = io.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const parsed = parseArgs(argv, io.env ?? process.env);
  if (typeof parsed === 'string') {
    err(parsed);
    err(USAGE);
    return 2;
  }
  const pool = new Pool({ connectionString: parsed.url, max: 1 });
  try {
    if (parsed.check) {
      const missing = await missingMigrations(pool, { schema: parsed.schema });
      if (missing.length === 0) out(`payhook postgres: schema "${parsed.schema}" is up to date`);
      else await checkSchema(pool, { schema: parsed.schema });
      return 0;
    }
    const result = await migrate(pool, { schema: parsed.schema });
    out(
      result.applied.length === 0
        ? `payhook postgres: schema "${result.schema}" is up to date (version ${result.version})`
        : `payhook postgres: applied ${result.applied.join(', ')} to schema "${result.schema}"`,
    );
    return 0;
  } catch (error) {
    err(`payhook postgres: ${(error as Error).message}`);
    return 1;
  } finally {
    await pool.end();
  }
}

function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { url: string; schema: string; check: boolean } | string {
  let url = env.DATABASE_URL;
  let schema = 'payhook';
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') check = true;
    else if (arg === '--url' || arg === '--schema') {
      const value = argv[++i];
      if (!value || value.startsWith('--')) return `payhook postgres: ${arg} needs a value`;
      if (arg === '--url') url = value;
      else schema = value;
    } else return `payhook postgres: unknown argument ${String(arg)}`;
  }
  if (!url) return 'payhook postgres: no database: pass --url or set DATABASE_URL';
  return { url, schema, check };
}
