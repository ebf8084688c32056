import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CommandIo } from './io';

/** The bin's name, the first word of every line it writes to stderr. */
export const BIN = 'payhook-postgres';

/** Exit codes, for scripts: 0 done, 1 failed (or migrations missing with --check), 2 bad usage. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Bad usage: the command prints the message and its help to stderr and exits 2. */
export class UsageError extends Error {}

/** The options every command takes. */
export const COMMON_OPTIONS = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * node:util's strict parseArgs over a command's arguments, its errors as UsageErrors. `--url` (the
 * old `payhook postgres migrate` flag) is refused with the flag to use instead.
 */
export function parseCommand<T extends ParseArgsConfig>(
  argv: readonly string[],
  config: T,
): Parsed<T> {
  const url = argv.find((arg) => arg === '--url' || arg.startsWith('--url='));
  if (url) throw new UsageError('--url is not an option: use --database-url <url>');
  try {
    // strict (the default): an unknown flag or a missing value throws.
    return parseArgs({ ...config, args: [...argv] }) as Parsed<T>;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (!code?.startsWith('ERR_PARSE_ARGS')) throw error;
    // "Unknown option '--x'. To specify a positional argument starting with a '-', place it..."
    throw new UsageError(message.split(/\.\s/)[0]!);
  }
}

/** --database-url, else $DATABASE_URL; a UsageError when neither is set. */
export function databaseUrl(values: { 'database-url'?: string }, env: CommandIo['env']): string {
  const url = values['database-url'] ?? env.DATABASE_URL;
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL');
  return url;
}

/** A flag's value as a whole number of at least `min`; undefined when the flag is absent. */
export function wholeNumber(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${flag} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

/** A UsageError's message and the command's help on stderr: exit 2. Anything else is rethrown. */
export function usage(io: Pick<CommandIo, 'stderr'>, error: unknown, help: string): number {
  if (!(error instanceof UsageError)) throw error;
  io.stderr(`${BIN}: ${error.message}\n\n${help}`);
  return EXIT.USAGE;
}

/** A failure's one line on stderr (`payhook-postgres <command>: <message>`): exit 1. */
export function failed(io: Pick<CommandIo, 'stderr'>, command: string, error: unknown): number {
  io.stderr(`${BIN} ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.FAILED;
}
