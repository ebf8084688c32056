import { GatewayApiError } from '@payhook/core';
import { SOURCE } from './schema';
import type { LailaolabStatusClient, LailaolabStatusResult } from './status-client';

export interface StatusLookupOptions {
  /** How long an answer is reused, in ms (0: never). */
  cacheMs: number;
  /** Most answers kept; the oldest goes first. */
  cacheSize: number;
  /** Most status queries in flight at once; beyond it, a retryable GatewayApiError. */
  maxInFlight: number;
}

/** Statuses that will not change back: a record in one of them can be reused for a while. */
const FINAL = new Set(['PAYMENT_COMPLETED', 'FAILED', 'EXPIRED', 'REFUNDED']);

export interface StatusLookup {
  /** The status API's answer for a delivery: cached, shared with a query already in flight, capped. */
  check(transactionId: string): Promise<LailaolabStatusResult>;
}

/**
 * Every POST to the unsigned webhook that names a transaction would cost the merchant one status
 * query on its own key. So: an answer that will not change (not found, or a final status) is
 * reused for `cacheMs`; a delivery for a transaction already being asked about waits for that
 * answer; and at most `maxInFlight` queries run at once, beyond which the delivery gets the
 * gateway's retry answer. A WAITING record is never reused: the payment completing a moment
 * later must not be refused on a stale answer.
 */
export function createStatusLookup(
  client: LailaolabStatusClient,
  options: StatusLookupOptions,
): StatusLookup {
  const cache = new Map<string, { result: LailaolabStatusResult; expiresAt: number }>();
  const pending = new Map<string, Promise<LailaolabStatusResult>>();
  let inFlight = 0;

  const remember = (transactionId: string, result: LailaolabStatusResult): void => {
    if (options.cacheMs === 0) return;
    if (result.found && !FINAL.has(result.data.status)) return;
    cache.delete(transactionId);
    cache.set(transactionId, { result, expiresAt: Date.now() + options.cacheMs });
    while (cache.size > options.cacheSize) cache.delete(cache.keys().next().value as string);
  };

  return {
    check(transactionId) {
      const hit = cache.get(transactionId);
      if (hit) {
        if (hit.expiresAt > Date.now()) return Promise.resolve(hit.result);
        cache.delete(transactionId);
      }
      const joined = pending.get(transactionId);
      if (joined) return joined;
      if (inFlight >= options.maxInFlight)
        return Promise.reject(
          new GatewayApiError(
            `${options.maxInFlight} status queries are already in flight (maxStatusQueries): transaction ${transactionId} was not asked about; the gateway is asked to deliver it again`,
            { source: SOURCE, retryable: true },
          ),
        );
      inFlight++;
      const call = client
        .check(transactionId)
        .then((result) => {
          remember(transactionId, result);
          return result;
        })
        .finally(() => {
          inFlight--;
          pending.delete(transactionId);
        });
      pending.set(transactionId, call);
      return call;
    },
  };
}
