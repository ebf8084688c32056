import type { PaymentQueue } from '../async/types';
import {
  COMMON_OPTIONS,
  EXIT,
  UsageError,
  databaseUrl,
  failed,
  parseCommand,
  usage,
  wholeNumber,
} from './args';
import { DEAD_LETTERS_HELP } from './help';
import { resolveIo, type CommandIo } from './io';
import { closeQueue, openQueue, type QueueFlags } from './open-queue';

const OPTIONS = {
  ...COMMON_OPTIONS,
  queue: { type: 'string' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

const ACTIONS = ['list', 'retry', 'retry-all', 'stats'] as const;

interface DeadLetterFlags extends QueueFlags {
  action: (typeof ACTIONS)[number];
  id?: string;
  json: boolean;
  limit?: number;
}

/** The action, its event id and the flags, or 'help'; a UsageError for anything wrong. */
function parseDeadLetterFlags(
  argv: readonly string[],
  env: CommandIo['env'],
): DeadLetterFlags | 'help' {
  const { values, positionals } = parseCommand(argv, { options: OPTIONS, allowPositionals: true });
  if (values.help) return 'help';
  const [action, id, ...extra] = positionals;
  const known = ACTIONS.find((a) => a === action);
  if (!known || (known === 'retry') !== (id !== undefined) || extra.length > 0)
    throw new UsageError('expected list, retry <event id>, retry-all or stats');
  return {
    url: databaseUrl(values, env),
    schema: values.schema,
    queueName: values.queue,
    action: known,
    id,
    json: values.json === true,
    limit: wholeNumber(values.limit, 'limit'),
  };
}

/** One action on the queue's dead letters; resolves with the exit code. */
async function deadLetterAction(
  queue: PaymentQueue,
  flags: DeadLetterFlags,
  io: CommandIo,
): Promise<number> {
  if (flags.action === 'stats') return (io.stdout(`${JSON.stringify(await queue.stats())}\n`), 0);
  if (flags.action === 'retry-all') {
    io.stdout(`retried ${await queue.deadLetters.retryAll()}\n`);
    return EXIT.OK;
  }
  if (flags.action === 'retry') {
    const found = await queue.deadLetters.retry(flags.id!);
    if (!found) io.stderr(`no dead letter ${flags.id}\n`);
    else io.stdout(`retried ${flags.id}\n`);
    return found ? EXIT.OK : EXIT.FAILED;
  }
  const letters = await queue.deadLetters.list(flags.limit);
  if (flags.json) io.stdout(`${JSON.stringify(letters.map(({ event: _e, ...l }) => l))}\n`);
  else
    for (const l of letters)
      io.stdout(
        `${l.failedAt.toISOString()}  ${l.id}  ${l.type}  attempts ${l.attempts}  ${l.error?.code ?? ''} ${l.error?.message ?? ''}\n`,
      );
  return EXIT.OK;
}

/**
 * `payhook-postgres dead-letters list | retry <id> | retry-all | stats`, given the arguments after
 * `dead-letters`. Resolves with the exit code: 0 done, 1 a failure or `retry` of an event that is
 * not dead, 2 bad usage.
 */
export async function runDeadLettersCommand(
  argv: readonly string[],
  io: Partial<CommandIo> = {},
): Promise<number> {
  const out = resolveIo(io);
  let flags: DeadLetterFlags | 'help';
  try {
    flags = parseDeadLetterFlags(argv, out.env);
  } catch (error) {
    return usage(out, error, DEAD_LETTERS_HELP);
  }
  if (flags === 'help') return (out.stdout(DEAD_LETTERS_HELP), EXIT.OK);
  let opened;
  try {
    opened = openQueue(flags, out);
    return await deadLetterAction(opened.queue, flags, out);
  } catch (error) {
    return failed(out, 'dead-letters', error);
  } finally {
    if (opened) await closeQueue(opened);
  }
}
