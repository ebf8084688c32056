import { ConfigError } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import type { PaymentQueueOptions, QueueSettings } from './types';

export const SOURCE = '@payhook/postgres';
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

const fail = (option: string, problem: string): never => {
  throw new ConfigError(option, problem, { source: SOURCE });
};

/** Every queue option checked at construction: a typo is an error at boot, not at the first payment. */
export function resolveQueueOptions(options: PaymentQueueOptions): QueueSettings {
  if (!options || typeof options !== 'object') return fail('options', 'must be an object');
  const pool = options.pool as unknown as { query?: unknown; connect?: unknown } | undefined;
  if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function')
    fail('pool', 'must be a pg Pool (new Pool({ connectionString }))');
  const schema = options.schema ?? 'payhook';
  if (!NAME.test(schema)) fail('schema', 'must be a plain SQL identifier (letters, digits, _)');
  const queueName = options.queueName ?? 'payhook_events';
  if (!NAME.test(queueName)) fail('queueName', 'must be letters, digits and _ (at most 41)');
  const whole = (name: keyof PaymentQueueOptions, fallback: number, min: number): number =>
    checkWholeNumber(options[name], fallback, name, { min, source: SOURCE });
  const retryLimit = whole('retryLimit', 12, 0);
  const retryDelaySeconds = whole('retryDelaySeconds', 15, 1);
  const attemptTimeoutMs = whole('attemptTimeoutMs', 60_000, 1);
  const expireInSeconds = whole('expireInSeconds', Math.ceil(attemptTimeoutMs / 1000) + 60, 1);
  if (expireInSeconds * 1000 <= attemptTimeoutMs)
    fail(
      'expireInSeconds',
      'must be longer than attemptTimeoutMs: a live worker would lose its job',
    );
  const orderWaitSeconds = whole('orderWaitSeconds', 1, 1);
  const retryBackoff = options.retryBackoff ?? true;
  if (typeof retryBackoff !== 'boolean') fail('retryBackoff', 'must be a boolean');
  return {
    schema,
    queueName,
    deadQueueName: `${queueName}_dead`,
    retryLimit,
    retryDelaySeconds,
    retryBackoff,
    attemptTimeoutMs,
    expireInSeconds,
    orderWaitSeconds,
    table: `"${schema}".payhook_async_event`,
  };
}
