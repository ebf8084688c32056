import { EXIT, UsageError, failed, usage } from './args';
import { runDeadLettersCommand } from './dead-letters';
import { COMMAND_HELP, POSTGRES_HELP } from './help';
import { resolveIo, type CommandIo } from './io';
import { runMigrateCommand } from './migrate';
import { runWorkerCommand } from './worker';

type Command = (argv: readonly string[], io: Partial<CommandIo>) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  migrate: runMigrateCommand,
  worker: runWorkerCommand,
  'dead-letters': runDeadLettersCommand,
};

/** `help [<command>]`: the bin's help, or a command's, on stdout. */
function help(argv: readonly string[], io: CommandIo): number {
  const [command, ...extra] = argv;
  if (command === undefined) return (io.stdout(POSTGRES_HELP), EXIT.OK);
  const text = Object.hasOwn(COMMAND_HELP, command) ? COMMAND_HELP[command] : undefined;
  if (!text || extra.length > 0)
    return usage(io, new UsageError(`no command "${command}"`), POSTGRES_HELP);
  io.stdout(text);
  return EXIT.OK;
}

/**
 * The `payhook-postgres` bin: `migrate`, `worker`, `dead-letters` and `help`. Resolves with the exit
 * code (0 ok, 1 failure, 2 usage); bin/payhook-postgres.js sets the process's exit code with it.
 */
export async function runPostgresCli(
  argv: readonly string[],
  io: Partial<CommandIo> = {},
): Promise<number> {
  const out = resolveIo(io);
  const [command, ...rest] = argv;
  if (command === undefined) return usage(out, new UsageError('no command'), POSTGRES_HELP);
  if (command === 'help' || command === '--help' || command === '-h') return help(rest, out);
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) return usage(out, new UsageError(`unknown command "${command}"`), POSTGRES_HELP);
  try {
    return await run(rest, out);
  } catch (error) {
    // What the commands do not expect (a bug): still one line, and exit 1.
    return failed(out, command, error);
  }
}
