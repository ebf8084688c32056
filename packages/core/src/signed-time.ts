import { StaleDeliveryError } from './errors';
import { checkPositiveMs } from './options';

/** How old a signed time may be, and how far ahead of our clock (the gateway's clock drifts). */
export interface MaxAgeOptions {
  /** Oldest accepted signed time, in ms before now (default 24 h: inside the hub's 72 h retention). */
  maxAgeMs?: number;
  /** Tolerance for a gateway clock ahead of ours, in ms (default 5 minutes). */
  clockSkewMs?: number;
}

export interface MaxAge {
  readonly maxAgeMs: number;
  readonly clockSkewMs: number;
}

export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/** The provider options' maxAgeMs and clockSkewMs, checked at boot. */
export function resolveMaxAge(options: MaxAgeOptions | undefined, source?: string): MaxAge {
  return Object.freeze({
    maxAgeMs: checkPositiveMs(options?.maxAgeMs, DEFAULT_MAX_AGE_MS, 'maxAgeMs', source),
    clockSkewMs: checkPositiveMs(
      options?.clockSkewMs,
      DEFAULT_CLOCK_SKEW_MS,
      'clockSkewMs',
      source,
    ),
  });
}

/**
 * Refuses a delivery whose signed (or confirmed) time is older than the maximum age or too far in
 * the future, so that a genuine delivery replayed after the store forgot it is never processed
 * again. `at` is an ISO 8601 instant with an offset, or epoch milliseconds. `what` names the time
 * in the refusal; a function is called only when the time is refused, so a plugin whose `what`
 * quotes the payload builds that text on a refusal only (payin built it on every delivery:
 * `JSON.stringify` and a template per webhook).
 */
export function checkSignedTime(
  at: string | number,
  limits: MaxAge,
  options: { now?: number; what?: string | (() => string); source?: string } = {},
): void {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  const now = options.now ?? Date.now();
  if (Number.isFinite(ms) && ms >= now - limits.maxAgeMs && ms <= now + limits.clockSkewMs) return;
  const given = options.what;
  const what = (typeof given === 'function' ? given() : given) ?? 'signed time';
  if (!Number.isFinite(ms))
    throw new StaleDeliveryError(`${what} is not a time that can be checked`, options.source);
  if (ms < now - limits.maxAgeMs)
    throw new StaleDeliveryError(
      `${what} is older than the ${limits.maxAgeMs} ms maximum age: refused as a possible replay` +
        secondsHint(ms),
      options.source,
    );
  throw new StaleDeliveryError(
    `${what} is more than ${limits.clockSkewMs} ms ahead of this server's clock`,
    options.source,
  );
}

/** Before this (1973-03-03), a time is no gateway's: most likely epoch seconds read as ms. */
const EARLIEST_PLAUSIBLE_MS = 1e11;

/**
 * The refusal's hint when the time falls in 1970-1973: what a time in epoch seconds becomes where
 * milliseconds are expected (`checkSignedTime(t)` with PayMongo's `t`). Only a hint: the time is
 * refused either way, since guessing the unit from the magnitude would accept what nobody signed.
 */
function secondsHint(ms: number): string {
  if (ms < 0 || ms >= EARLIEST_PLAUSIBLE_MS) return '';
  return (
    ` (it reads as ${new Date(ms).toISOString()}: a time in epoch seconds passed where ` +
    "milliseconds are expected? multiply by 1000, or parseGatewayTime(t, { unit: 'seconds' }))"
  );
}
