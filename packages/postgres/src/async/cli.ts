import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createPaymentQueue } from './queue';
import { startWorker } from './worker';
import type { PaymentQueue, PaymentQueueOptions } from './types';

/** What the commands need from their process; structurally the testing CLI's CliIo. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop. Default: SIGINT or SIGTERM. */
  stopSignal?: () => Promise<void>;
}

/** What `--listeners <module>` exports: a function that registers the worker listeners. */
export interface ListenersModule {
  default?: (queue: PaymentQueue) => unknown;
  register?: (queue: PaymentQueue) => unknown;
  /** Queue options for this worker (attemptTimeoutMs...); pool, schema and queueName come from the flags. */
  queueOptions?: Omit<PaymentQueueOptions, 'pool' | 'schema' | 'queueName'>;
}

export const WORKER_HELP = `payhook worker --listeners <module> [options]

Runs the async mode's listeners on queued payment events until SIGINT/SIGTERM, then finishes the
jobs in hand (or returns them to the queue past --grace-ms). Run as many as you like.

Options:
  --listeners <module>   a module exporting register(queue) (or a default function) that adds
                         queue.on('payment.completed', ...) listeners (required)
  --database-url <url>   PostgreSQL (default $DATABASE_URL)
  --schema <name>        the queue's schema (default payhook)
  --queue <name>         the pg-boss queue name (default payhook_events)
  --concurrency <n>      jobs in hand at once (default 4)
  --grace-ms <ms>        at shutdown, how long jobs in hand may finish (default 30000)
`;

export const DEAD_LETTERS_HELP = `payhook dead-letters <list | retry <event id> | retry-all | stats> [options]

  list        dead events, newest first, with their attempts and last error (--json for JSON)
  retry <id>  put one back on the queue
  retry-all   put them all back, oldest first (a payment's events keep their order)
  stats       queue depth, age of the oldest pending event, attempts, dead count (JSON)

Options: --database-url <url> (default $DATABASE_URL), --schema, --queue, --limit <n>, --json
`;

const COMMON = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  queue: { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Common = { 'database-url'?: string; schema?: string; queue?: string };

function openQueue(values: Common, io: CommandIo, extra: Partial<PaymentQueueOptions> = {}) {
  const connectionString = values['database-url'] ?? io.env.DATABASE_URL;
  if (!connectionString) throw new UsageError('--database-url (or DATABASE_URL) is required');
  const pool = new Pool({ connectionString, max: 20 });
  // An idle connection lost (a database restart) is reported, not an end of the process.
  pool.on('error', (error) => io.stderr(`payhook: database connection lost: ${error.message}\n`));
  const queue = createPaymentQueue({
    ...extra,
    pool,
    schema: values.schema,
    queueName: values.queue,
  });
  return { pool, queue };
}

class UsageError extends Error {}

const defaultStop = (): Promise<void> =>
  new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

function usage(io: CommandIo, error: unknown, help: string): number {
  io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
  return 2;
}

/** `payhook worker`: resolves to the exit code once stopped (0), or 2 for bad usage. */
export async function runWorkerCommand(argv: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...COMMON,
        listeners: { type: 'string' },
        concurrency: { type: 'string' },
        'grace-ms': { type: 'string' },
      },
    }).values;
    if (parsed.help) return (io.stdout(WORKER_HELP), 0);
    if (!parsed.listeners) throw new UsageError('--listeners <module> is required');
  } catch (error) {
    return usage(io, error, WORKER_HELP);
  }
  const path = isAbsolute(parsed.listeners) ? parsed.listeners : resolve(io.cwd, parsed.listeners);
  const mod = (await import(path)) as ListenersModule;
  const register = mod.register ?? mod.default;
  if (typeof register !== 'function')
    return usage(io, new UsageError(`${path} exports no register(queue) function`), WORKER_HELP);
  let opened;
  try {
    opened = openQueue(parsed, io, mod.queueOptions);
  } catch (error) {
    return usage(io, error, WORKER_HELP);
  }
  const { pool, queue } = opened;
  queue.on('error', (error) => io.stderr(`payhook worker: ${error.message}\n`));
  await register(queue);
  await queue.start();
  const worker = startWorker(queue, {
    concurrency: parsed.concurrency ? Number(parsed.concurrency) : undefined,
    shutdownGraceMs: parsed['grace-ms'] ? Number(parsed['grace-ms']) : undefined,
  });
  io.stdout(`payhook worker: started (pid ${process.pid})\n`);
  await (io.stopSignal ?? defaultStop)();
  await worker.stop();
  await queue.stop();
  await pool.end();
  io.stdout(`payhook worker: stopped ${JSON.stringify(worker.counts)}\n`);
  return 0;
}

/** `payhook dead-letters list | retry <id> | retry-all | stats`: resolves to the exit code. */
export async function runDeadLettersCommand(argv: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...COMMON, json: { type: 'boolean' }, limit: { type: 'string' } },
    });
    if (parsed.values.help) return (io.stdout(DEAD_LETTERS_HELP), 0);
  } catch (error) {
    return usage(io, error, DEAD_LETTERS_HELP);
  }
  const [action, id] = parsed.positionals;
  if (
    !['list', 'retry', 'retry-all', 'stats'].includes(action ?? '') ||
    (action === 'retry' && !id)
  )
    return usage(
      io,
      new UsageError('expected list, retry <id>, retry-all or stats'),
      DEAD_LETTERS_HELP,
    );
  let opened;
  try {
    opened = openQueue(parsed.values, io);
  } catch (error) {
    return usage(io, error, DEAD_LETTERS_HELP);
  }
  const { pool, queue } = opened;
  try {
    return await deadLetterAction(queue, action!, id, parsed.values, io);
  } finally {
    await queue.stop();
    await pool.end();
  }
}

async function deadLetterAction(
  queue: PaymentQueue,
  action: string,
  id: string | undefined,
  values: { json?: boolean; limit?: string },
  io: CommandIo,
): Promise<number> {
  if (action === 'stats') return (io.stdout(`${JSON.stringify(await queue.stats())}\n`), 0);
  if (action === 'retry-all') {
    io.stdout(`retried ${await queue.deadLetters.retryAll()}\n`);
    return 0;
  }
  if (action === 'retry') {
    const found = await queue.deadLetters.retry(id!);
    io[found ? 'stdout' : 'stderr'](found ? `retried ${id}\n` : `no dead letter ${id}\n`);
    return found ? 0 : 1;
  }
  const letters = await queue.deadLetters.list(values.limit ? Number(values.limit) : undefined);
  if (values.json) io.stdout(`${JSON.stringify(letters.map(({ event: _e, ...l }) => l))}\n`);
  else
    for (const l of letters)
      io.stdout(
        `${l.failedAt.toISOString()}  ${l.id}  ${l.type}  attempts ${l.attempts}  ${l.error?.code ?? ''} ${l.error?.message ?? ''}\n`,
      );
  return 0;
}
