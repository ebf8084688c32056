import { requirePlugin } from '../plugins';
import type { CliIo } from './io';

/**
 * What the deprecated aliases use of @payhook/postgres (an optional peer, loaded when an alias
 * runs): its `payhook-postgres` bin's entry, with each command's help and parsing.
 */
interface PostgresCli {
  runPostgresCli(argv: readonly string[], io: Partial<CliIo>): Promise<number>;
}

/** The old spellings: each is `payhook-postgres <command>` now. */
export const DEPRECATED_COMMANDS = {
  postgres: 'payhook postgres migrate',
  worker: 'payhook worker',
  'dead-letters': 'payhook dead-letters',
} as const;

/** `--url <u>` / `--url=<u>` (the old migrate flag) as `--database-url`; whether there was one. */
function renameUrlFlag(argv: readonly string[]): { argv: string[]; renamed: boolean } {
  let renamed = false;
  const out = argv.map((arg) => {
    if (arg !== '--url' && !arg.startsWith('--url=')) return arg;
    renamed = true;
    return arg.replace(/^--url/, '--database-url');
  });
  return { argv: out, renamed };
}

/** The old spelling's words and the new ones: `payhook postgres migrate` → `payhook-postgres migrate`. */
function spellings(alias: keyof typeof DEPRECATED_COMMANDS, argv: readonly string[]) {
  if (alias !== 'postgres')
    return { old: DEPRECATED_COMMANDS[alias], now: `payhook-postgres ${alias}` };
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? ` ${argv[0]}` : '';
  return { old: `payhook postgres${command}`, now: `payhook-postgres${command}` };
}

/**
 * `payhook postgres migrate …`, `payhook worker …`, `payhook dead-letters …`: deprecated aliases
 * of `payhook-postgres migrate|worker|dead-letters …`. One line on stderr names the new command,
 * then @payhook/postgres runs it (the same help, flags and exit codes). `payhook postgres
 * migrate --url <u>` is passed on as `--database-url <u>`. `argv` follows the alias's own words.
 */
export function deprecatedPostgresCommand(
  alias: keyof typeof DEPRECATED_COMMANDS,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const { old, now } = spellings(alias, argv);
  const { argv: forwarded, renamed } =
    alias === 'postgres' ? renameUrlFlag(argv) : { argv: [alias, ...argv], renamed: false };
  io.stderr(
    `payhook: "${old}" is deprecated: run "${now} …" (the bin of @payhook/postgres)` +
      `${renamed ? ', with --database-url instead of --url' : ''}\n`,
  );
  const cli = requirePlugin<PostgresCli>('@payhook/postgres', old);
  return cli.runPostgresCli(forwarded, io);
}
