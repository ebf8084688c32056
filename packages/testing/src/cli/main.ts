import { isPaymentError } from '@payhook/core';
import { MissingPluginError } from '../plugins';
import { EXIT, IoError, UsageError } from './errors';
import { mainHelp } from './help';
import { resolveIo, type CliIo } from './io';
import { keys } from './keys';
import { deprecatedPostgresCommand } from './postgres';
import { send } from './send';
import { simulate } from './simulate';

// The builders load their gateway's plugin when called (they are optional peers): a command
// loads only the plugin it uses, and a plugin that is not installed fails only the commands that
// need it. socket.io, too, loads only when the simulator starts.

async function dispatch(command: string | undefined, rest: string[], io: CliIo): Promise<number> {
  switch (command) {
    case 'send':
      return send(rest, io);
    case 'keys':
      return keys(rest, io);
    case 'simulate':
      return simulate(rest, io);
    // Deprecated aliases of the payhook-postgres bin (@payhook/postgres).
    case 'postgres':
    case 'worker':
    case 'dead-letters':
      return deprecatedPostgresCommand(command, rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.stdout(mainHelp());
      return command === undefined ? EXIT.USAGE : EXIT.OK;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** The exit code and the one stderr line of an expected failure; anything else is rethrown. */
function failure(error: unknown): { code: number; line: string } {
  if (error instanceof UsageError)
    return { code: EXIT.USAGE, line: `${error.message}\nRun "payhook --help" for usage.` };
  if (error instanceof IoError) return { code: EXIT.IO, line: error.message };
  // A gateway plugin that is not installed: say which package to install.
  if (error instanceof MissingPluginError) return { code: EXIT.USAGE, line: error.hint };
  // A configuration error of a plugin the steps before did not tie to a flag: still the input.
  if (isPaymentError(error)) return { code: EXIT.USAGE, line: error.message };
  throw error;
}

/** Runs the CLI; resolves with the exit code (the bin sets process.exitCode with it). */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const out = resolveIo(io);
  const [command, ...rest] = argv;
  try {
    return await dispatch(command, rest, out);
  } catch (error) {
    const { code, line } = failure(error);
    out.stderr(`payhook: ${line}\n`);
    return code;
  }
}
