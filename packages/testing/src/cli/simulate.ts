import { startSimulatorControl } from '../control';
import { LAILAOLAB_TEST_SECRET } from '../lailaolab';
import { startLailaolabSimulator } from '../lailaolab-simulator';
import { requirePlugin } from '../plugins';
import { given, nonEmpty, parseCommand } from './args';
import { EXIT, IoError, UsageError } from './errors';
import { SIMULATE_HELP } from './help';
import type { CliIo } from './io';

const SIMULATE_OPTIONS = { secret: { type: 'string' }, port: { type: 'string' } } as const;

/** The simulator and its control endpoint on `port`; a port in use is an I/O failure (exit 3). */
async function startBoth(port: number, secretKey: string) {
  // The simulator plays the gateway: it needs socket.io (an optional peer), not the plugin, so
  // it also serves an app that runs elsewhere. Without socket.io, the error names this command.
  requirePlugin('socket.io', 'payhook simulate lailaolab');
  const simulator = await startLailaolabSimulator({ secretKey });
  try {
    return { simulator, control: await startSimulatorControl(simulator, { port }) };
  } catch (error) {
    await simulator.close();
    throw new IoError(`cannot listen on port ${port} (${(error as NodeJS.ErrnoException).code})`);
  }
}

function runningText(
  info: { socketUrl: string; apiBase: string; control: string },
  secretGiven: boolean,
): string {
  return [
    'Lailaolab simulator running',
    `  socket      ${info.socketUrl}   (the source's url option)`,
    `  status API  ${info.apiBase}   (apiBase)`,
    // A secret the user typed is not echoed; the built-in one is a public test value.
    `  secret      ${secretGiven ? 'the one you gave' : `${LAILAOLAB_TEST_SECRET} (test value)`}   (secretKey)`,
    `  control     ${info.control}`,
    `Play a payment: payhook send lailaolab payment --simulator ${info.control} [--url <your webhook>]`,
    'Ctrl-C to stop.',
    '',
  ].join('\n');
}

/** `payhook simulate lailaolab`: runs until the stop signal. */
export async function simulate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(args, SIMULATE_OPTIONS, () => SIMULATE_HELP, io);
  if (!parsed) return EXIT.OK;
  const { values, positionals } = parsed;
  const [target, extra] = positionals;
  if (target !== 'lailaolab')
    throw new UsageError(
      target
        ? `no simulator for "${target}" (only lailaolab: the other gateways are plain HTTP, use "payhook send")`
        : 'simulate needs a gateway: lailaolab',
    );
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a port number');
  const secretGiven = nonEmpty(given('--secret', values.secret, 'LAILAOLAB_SECRET_KEY', io));
  const { simulator, control } = await startBoth(port, secretGiven ?? LAILAOLAB_TEST_SECRET);
  const info = {
    socketUrl: simulator.socketBase,
    apiBase: simulator.apiBase,
    control: control.url,
  };
  io.stdout(values.json ? `${JSON.stringify(info)}\n` : runningText(info, Boolean(secretGiven)));
  await io.stopSignal!();
  await control.close();
  await simulator.close();
  if (!values.json) io.stdout('simulator stopped\n');
  return EXIT.OK;
}
