import { checkWholeNumber } from '../options';
import { PAYMENT_EVENT_TYPES, isPaymentEventType, type PaymentEventType } from '../events';
import { ConfigError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { createMemoryStore, isMemoryStore, type IdempotencyStore } from '../store';
import { createMemoryInbox } from '../inbox/memory';
import type { Inbox } from '../inbox/types';
import { checkHeaderNames } from '../inbox/redact';
import type { HubSettings, PaymentHubOptions } from './types';
import { resolveAwaitedOptions } from '../awaited/options';

/** Every hub option checked at construction: a bad one throws a ConfigError naming it. */
export function resolveHubOptions(options: PaymentHubOptions): {
  settings: HubSettings;
  store: IdempotencyStore<unknown>;
  logger: Logger;
  inbox: Inbox | undefined;
  awaited: ReturnType<typeof resolveAwaitedOptions>;
} {
  const handlerTimeoutMs = positiveInt(options.handlerTimeoutMs, 8_000, 'handlerTimeoutMs');
  const hardTimeoutMs = positiveInt(options.hardTimeoutMs, 60_000, 'hardTimeoutMs');
  const leaseMs = positiveInt(options.leaseMs, 30_000, 'leaseMs');
  const retentionMs = positiveInt(options.retentionMs, 72 * 3_600_000, 'retentionMs');
  if (leaseMs <= handlerTimeoutMs) {
    throw new ConfigError(
      'leaseMs',
      `(${leaseMs}) must be longer than handlerTimeoutMs (${handlerTimeoutMs}), or a slow listener's claim could be taken over while it runs`,
    );
  }
  if (retentionMs < leaseMs) throw new ConfigError('retentionMs', 'must be at least leaseMs');
  const commitRetryMs = positiveInt(
    options.commitRetryMs,
    Math.min(5_000, leaseMs / 2),
    'commitRetryMs',
  );
  if (commitRetryMs >= leaseMs)
    throw new ConfigError(
      'commitRetryMs',
      `(${commitRetryMs}) must be shorter than leaseMs (${leaseMs})`,
    );
  const maxInFlight =
    options.maxInFlight === undefined
      ? undefined
      : positiveInt(options.maxInFlight, 0, 'maxInFlight');
  const settings: HubSettings = Object.freeze({
    handlerTimeoutMs,
    hardTimeoutMs,
    leaseMs,
    retentionMs,
    commitRetryMs,
    ignore: checkIgnore(options.ignore),
    maxInFlight,
    redactHeaders: checkHeaderNames(options.redactHeaders, 'redactHeaders'),
  });
  return {
    settings,
    store: checkStoreDeadline(checkStore(options.store), handlerTimeoutMs),
    logger: checkLogger(options.logger),
    inbox: checkInbox(options.inbox),
    awaited: checkAwaitedLease(resolveAwaitedOptions(options.awaited), handlerTimeoutMs),
  };
}

const positiveInt = (value: number | undefined, fallback: number, option: string): number =>
  checkWholeNumber(value, fallback, option, { unit: 'milliseconds' });

function checkIgnore(value: unknown): readonly PaymentEventType[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((t) => isPaymentEventType(t)))
    throw new ConfigError(
      'ignore',
      `must be a list of payment event types (${PAYMENT_EVENT_TYPES.join(', ')})`,
    );
  return Object.freeze([...value]) as readonly PaymentEventType[];
}

function checkLogger(logger: Logger | undefined): Logger {
  const checked = logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof checked[level] !== 'function')
      throw new ConfigError('logger', `must have a ${level}() method (pino-compatible)`);
  }
  return checked;
}

function checkStore(store: IdempotencyStore<unknown> | undefined): IdempotencyStore<unknown> {
  const checked = store ?? createMemoryStore();
  warnIfMemoryStoreInProduction(checked);
  for (const op of ['claim', 'commit', 'release'] as const) {
    if (typeof checked[op] !== 'function')
      throw new ConfigError('store', `must implement ${op}() (IdempotencyStore)`);
  }
  return checked;
}

/** A store that may wait longer than the handler timeout would hang the gateway's request. */
function checkStoreDeadline(
  store: IdempotencyStore<unknown>,
  handlerTimeoutMs: number,
): IdempotencyStore<unknown> {
  const deadline = store.deadlineMs;
  if (deadline !== undefined && !(deadline < handlerTimeoutMs))
    throw new ConfigError(
      'handlerTimeoutMs',
      `(${handlerTimeoutMs}) must be longer than the store's deadline (${deadline} ms: its ` +
        'statementTimeoutMs or connectTimeoutMs), or one store call could outlast the handler',
    );
  return store;
}

let memoryStoreWarned = false;
/** The memory store forgets on restart: say so once, where production operators look. */
function warnIfMemoryStoreInProduction(store: IdempotencyStore<unknown>): void {
  if (memoryStoreWarned || process.env.NODE_ENV !== 'production' || !isMemoryStore(store)) return;
  memoryStoreWarned = true;
  process.emitWarning(
    'the in-memory idempotency store forgets every processed event when the process restarts, and ' +
      'each instance has its own: a replay after a restart, or on another instance, is processed again. ' +
      'Use @payhook/redis-store (shared, survives restarts of the app) or @payhook/postgres.',
    { type: 'PayhookWarning', code: 'PAYHOOK_MEMORY_STORE' },
  );
}

function checkInbox(inbox: Inbox | false | undefined): Inbox | undefined {
  if (inbox === false) return undefined;
  if (inbox === undefined) return createMemoryInbox();
  for (const op of ['record', 'update', 'list', 'get', 'prune'] as const) {
    if (typeof (inbox as Partial<Inbox> | null)?.[op] !== 'function')
      throw new ConfigError('inbox', `must be false or implement ${op}() (Inbox)`);
  }
  return inbox;
}

/**
 * A sweeper's lease covers one status query and the dispatch of its answer, which the gateway's
 * timeout and handlerTimeoutMs bound: a lease no longer than the handler timeout would lapse while
 * its holder still waits, and another instance would ask again.
 */
function checkAwaitedLease<T extends { settings: { leaseMs: number } }>(
  awaited: T,
  handlerTimeoutMs: number,
): T {
  if (awaited.settings.leaseMs <= handlerTimeoutMs)
    throw new ConfigError(
      'awaited.leaseMs',
      `(${awaited.settings.leaseMs}) must be longer than handlerTimeoutMs (${handlerTimeoutMs}) plus your gateways' status query timeouts`,
    );
  return awaited;
}
