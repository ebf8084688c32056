import { startWorker } from '../async/worker';
import type { PaymentQueue } from '../async/types';
import {
  BIN,
  COMMON_OPTIONS,
  EXIT,
  UsageError,
  databaseUrl,
  failed,
  parseCommand,
  usage,
  wholeNumber,
} from './args';
import { WORKER_HELP } from './help';
import { resolveIo, type CommandIo } from './io';
import { loadListeners } from './listeners';
import { closeQueue, openQueue, type QueueFlags } from './open-queue';

const OPTIONS = {
  ...COMMON_OPTIONS,
  queue: { type: 'string' },
  listeners: { type: 'string' },
  concurrency: { type: 'string' },
  'grace-ms': { type: 'string' },
} as const;

interface WorkerFlags extends QueueFlags {
  listeners: string;
  concurrency?: number;
  graceMs?: number;
}

/** The worker's flags, or 'help'; a UsageError for anything wrong with them. */
function parseWorkerFlags(argv: readonly string[], env: CommandIo['env']): WorkerFlags | 'help' {
  const { values } = parseCommand(argv, { options: OPTIONS });
  if (values.help) return 'help';
  if (!values.listeners) throw new UsageError('--listeners <module> is required');
  return {
    url: databaseUrl(values, env),
    schema: values.schema,
    queueName: values.queue,
    listeners: values.listeners,
    concurrency: wholeNumber(values.concurrency, 'concurrency'),
    graceMs: wholeNumber(values['grace-ms'], 'grace-ms', 0),
  };
}

/** Starts the queue and a worker, then, once `stopped` resolves, stops the worker. */
async function work(
  queue: PaymentQueue,
  flags: WorkerFlags,
  io: CommandIo,
  stopped: Promise<void>,
) {
  await queue.start();
  const worker = startWorker(queue, {
    concurrency: flags.concurrency,
    shutdownGraceMs: flags.graceMs,
  });
  io.stdout(`${BIN} worker: started (pid ${process.pid})\n`);
  await stopped;
  await worker.stop();
  io.stdout(`${BIN} worker: stopped ${JSON.stringify(worker.counts)}\n`);
}

/**
 * `payhook-postgres worker --listeners <module> [options]`, given the arguments after `worker`:
 * runs until SIGINT/SIGTERM (or `io.stopSignal`). Resolves with the exit code: 0 once stopped,
 * 1 a failure (the database unreachable, the module not loadable), 2 bad usage.
 */
export async function runWorkerCommand(
  argv: readonly string[],
  io: Partial<CommandIo> = {},
): Promise<number> {
  const out = resolveIo(io);
  let flags: WorkerFlags | 'help';
  try {
    flags = parseWorkerFlags(argv, out.env);
  } catch (error) {
    return usage(out, error, WORKER_HELP);
  }
  if (flags === 'help') return (out.stdout(WORKER_HELP), EXIT.OK);
  // Listened to from here: a signal during the start stops the worker once started.
  const stopped = out.stopSignal();
  let opened;
  try {
    const listeners = await loadListeners(flags.listeners, out.cwd);
    opened = openQueue(flags, out, listeners.queueOptions);
    opened.queue.on('error', (error) => out.stderr(`${BIN} worker: ${error.message}\n`));
    await listeners.register(opened.queue);
    await work(opened.queue, flags, out, stopped);
    return EXIT.OK;
  } catch (error) {
    return error instanceof UsageError
      ? usage(out, error, WORKER_HELP)
      : failed(out, 'worker', error);
  } finally {
    if (opened) await closeQueue(opened);
  }
}
