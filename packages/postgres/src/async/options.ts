import { checkWholeNumber, optionFailer, type OptionFailer } from '@payhook/core/plugin';
import { checkSchemaName } from '../sql';
import type { PaymentQueueOptions, QueueSettings } from './types';

export const SOURCE = '@payhook/postgres';
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

/**
 * Statements an attempt may run under the statement deadline, counted on its longest path: BEGIN,
 * the order lock's last poll, the event row, the earlier-event check, the done mark, the job's
 * completion and COMMIT (7); then, when it failed, the terminate and the wait for its connection's
 * end, or ROLLBACK (2), and the failure record's BEGIN, fence, UPDATE, fail, dead mark and COMMIT (6).
 */
export const STATEMENTS_PER_ATTEMPT = 15;
/** What the failure path needs after the attempt ended: a housekeeping connection + 8 statements. */
const SETTLE_STATEMENTS = 8;
/** Slack for the event loop and the network between the deadlines. */
export const EXPIRY_MARGIN_MS = 1_000;

const fail: OptionFailer = optionFailer(SOURCE, { provider: false });

/**
 * The longest an attempt can keep its job in hand, every phase at its own limit: the order-lock
 * wait, the listeners' `attemptTimeoutMs`, a housekeeping connection and every statement at its
 * deadline. `expireInSeconds` must exceed it (plus a margin), so pg-boss never expires a job whose
 * attempt still runs.
 */
export function attemptBoundMs(s: {
  attemptTimeoutMs: number;
  orderLockTimeoutMs: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}): number {
  return (
    s.orderLockTimeoutMs +
    s.attemptTimeoutMs +
    s.connectTimeoutMs +
    STATEMENTS_PER_ATTEMPT * s.statementTimeoutMs
  );
}

/** What the worker keeps back before a job's expiry to end the attempt and record its failure. */
export function settleReserveMs(s: QueueSettings): number {
  return s.connectTimeoutMs + SETTLE_STATEMENTS * s.statementTimeoutMs + EXPIRY_MARGIN_MS;
}

/** Every queue option checked at construction: a typo is an error at boot, not at the first payment. */
export function resolveQueueOptions(options: PaymentQueueOptions): QueueSettings {
  if (!options || typeof options !== 'object') return fail('options', 'must be an object');
  const pool = options.pool as unknown as { query?: unknown; connect?: unknown } | undefined;
  if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function')
    fail('pool', 'must be a pg Pool (new Pool({ connectionString }))');
  // The store's rule: the event table lives in the store's schema, made by its migrations.
  const schema = checkSchemaName(options.schema, 'payhook');
  const queueName = options.queueName ?? 'payhook_events';
  if (!NAME.test(queueName)) fail('queueName', 'must be letters, digits and _ (at most 41)');
  const whole = (name: keyof PaymentQueueOptions, fallback: number, min: number): number =>
    checkWholeNumber(options[name], fallback, name, { min, source: SOURCE });
  const limits = {
    attemptTimeoutMs: whole('attemptTimeoutMs', 60_000, 1),
    statementTimeoutMs: whole('statementTimeoutMs', 2_000, 1),
    connectTimeoutMs: whole('connectTimeoutMs', 1_000, 1),
    orderLockTimeoutMs: whole('orderLockTimeoutMs', 2_000, 1),
  };
  const boundMs = attemptBoundMs(limits) + EXPIRY_MARGIN_MS;
  const expireInSeconds = whole('expireInSeconds', Math.ceil(boundMs / 1000) + 60, 1);
  if (expireInSeconds * 1000 <= boundMs)
    fail(
      'expireInSeconds',
      `must be longer than the attempt's bound, ${boundMs} ms: orderLockTimeoutMs + attemptTimeoutMs ` +
        `+ connectTimeoutMs + ${STATEMENTS_PER_ATTEMPT} × statementTimeoutMs + ${EXPIRY_MARGIN_MS} ms ` +
        '(pg-boss would hand a job to a second worker while its attempt still runs)',
    );
  const retryBackoff = options.retryBackoff ?? true;
  if (typeof retryBackoff !== 'boolean') fail('retryBackoff', 'must be a boolean');
  return {
    schema,
    queueName,
    deadQueueName: `${queueName}_dead`,
    retryLimit: whole('retryLimit', 12, 0),
    retryDelaySeconds: whole('retryDelaySeconds', 15, 1),
    retryBackoff,
    ...limits,
    expireInSeconds,
    orderWaitSeconds: whole('orderWaitSeconds', 1, 1),
    table: `"${schema}".payhook_async_event`,
  };
}
