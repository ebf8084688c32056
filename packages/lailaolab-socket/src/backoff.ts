import { checkWholeNumber, optionFailer, type OptionFailer } from '@payhook/core/plugin';
import { SOURCE } from './schema';

export interface ReconnectOptions {
  /** First delay after a disconnect (default 1,000 ms). */
  initialDelayMs?: number;
  /** Ceiling of the delay (default 30,000 ms). */
  maxDelayMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /** Spread around the delay, 0..1 (default 0.5: between half and one and a half times). */
  jitter?: number;
  /** Attempts before giving up (default Infinity: a payment socket should never stop trying). */
  maxAttempts?: number;
}

export type ResolvedReconnect = Required<ReconnectOptions>;

export function resolveReconnect(options: ReconnectOptions = {}): ResolvedReconnect {
  const fail: OptionFailer = optionFailer(SOURCE, { prefix: 'reconnect.' });
  const r: ResolvedReconnect = {
    initialDelayMs: options.initialDelayMs ?? 1_000,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: options.jitter ?? 0.5,
    maxAttempts: options.maxAttempts ?? Infinity,
  };
  if (!Number.isFinite(r.initialDelayMs) || r.initialDelayMs <= 0)
    fail('initialDelayMs', 'must be a positive number of milliseconds');
  if (!Number.isFinite(r.maxDelayMs) || r.maxDelayMs < r.initialDelayMs)
    fail('maxDelayMs', 'must be at least initialDelayMs');
  if (!Number.isFinite(r.factor) || r.factor < 1) fail('factor', 'must be 1 or more');
  if (!Number.isFinite(r.jitter) || r.jitter < 0 || r.jitter > 1)
    fail('jitter', 'must be between 0 and 1');
  if (r.maxAttempts !== Infinity)
    checkWholeNumber(r.maxAttempts, 1, 'reconnect.maxAttempts', {
      unit: 'attempts (or Infinity)',
      source: SOURCE,
      provider: true,
    });
  return r;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, then spread by the
 * jitter so that many merchants' servers do not all reconnect in the same instant after an outage.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedReconnect,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  const spread = base * options.jitter;
  return Math.round(Math.min(options.maxDelayMs, base - spread + random() * 2 * spread));
}
