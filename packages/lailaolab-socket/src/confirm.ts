import {
  awaitedKey,
  awaitedProvider,
  createQueryBudget,
  GatewayApiError,
  PaymentError,
  statusOutcome,
  type PaymentHub,
  type PaymentMode,
} from '@payhook/core/plugin';
import { RECORD_STATUS, recordIsFinal } from './normalize';
import { PROVIDER_ID, SOURCE } from './schema';
import type { LailaolabStatusClient, LailaolabStatusResult } from './status-query';

export interface StatusLookupOptions {
  /** How long an answer is reused, in ms (0: never). */
  cacheMs: number;
  /** Most answers kept; the oldest goes first. */
  cacheSize: number;
  /** Most status queries in flight at once; beyond it, a retryable GatewayApiError. */
  maxInFlight: number;
  /**
   * Most status queries per minute (any 60 s) about transactions nobody awaits (not awaiting on
   * the hub's awaited list); beyond it, a StatusBudgetError without a query. 0: only awaited ones
   * are asked.
   */
  unwatchedPerMinute: number;
}

/** Whether the merchant awaits this transaction (the hub's awaited list); false without a hub. */
export type IsAwaited = (transactionId: string) => Promise<boolean>;

/**
 * Awaited on `hub`: an entry keyed by the transaction id as its reference (`source.watch(id)`,
 * `hub.expectPayment(provider, { reference: id })`) that is still `awaiting`. A payment awaited by
 * order number is keyed by it, and not found here: the list has no lookup by reference.
 */
export function awaitedOn(hub: PaymentHub, mode: PaymentMode | undefined): IsAwaited {
  // Filed under `lailaolab:test` on a test mount (awaitedProvider), as expectPayment files it.
  const filed = awaitedProvider({ id: PROVIDER_ID, mode });
  return async (transactionId) =>
    (await hub.awaited.get(awaitedKey(filed, { reference: transactionId })))?.state === 'awaiting';
}

/**
 * 503 ERR_STATUS_BUDGET: the webhook names a transaction nobody awaits and this minute's budget of
 * queries for such ids is spent. Not a verdict on the delivery (it may be genuine): the gateway
 * gets its retry answer, and a later delivery, the socket or the sweep can still confirm it.
 */
export class StatusBudgetError extends PaymentError {
  constructor(transactionId: string, perMinute: number) {
    super(
      `transaction ${transactionId} is not awaited (source.watch, hub.expectPayment) and the ${perMinute} status queries a minute allowed for such transactions (unwatchedQueriesPerMinute) are spent: not asked about; the gateway is asked to deliver it again`,
      { code: 'ERR_STATUS_BUDGET', source: SOURCE },
    );
  }
}

/**
 * Statuses that will not change back, those RECORD_STATUS maps to an event (paid, failed, refunded):
 * a record in one of them can be reused for a while. WAITING and DISPUTED are asked again.
 */
const isFinal = (status: string): boolean => recordIsFinal(statusOutcome(RECORD_STATUS, status));

export interface StatusLookup {
  /** The status API's answer for a delivery: cached, shared with a query already in flight, capped. */
  check(transactionId: string): Promise<LailaolabStatusResult>;
}

/**
 * Every POST to the unsigned webhook that names a transaction would cost the merchant one status
 * query on its own key. So: an answer that will not change (not found, or a final status) is
 * reused for `cacheMs`; a delivery for a transaction already being asked about waits for that
 * answer; at most `maxInFlight` queries run at once; and a transaction the merchant does not await
 * (not awaiting on the hub's awaited list) is asked about only within `unwatchedPerMinute`. Beyond the last two the
 * delivery gets the gateway's retry answer. A WAITING record is never reused: the payment
 * completing a moment later must not be refused on a stale answer.
 */
export function createStatusLookup(
  client: LailaolabStatusClient,
  options: StatusLookupOptions,
  isAwaited: IsAwaited = () => Promise.resolve(false),
): StatusLookup {
  const cache = new Map<string, { result: LailaolabStatusResult; expiresAt: number }>();
  const pending = new Map<string, Promise<LailaolabStatusResult>>();
  const budget = createQueryBudget(options.unwatchedPerMinute);
  let inFlight = 0;

  const remember = (transactionId: string, result: LailaolabStatusResult): void => {
    if (options.cacheMs === 0) return;
    if (result.found && !isFinal(result.data.status)) return;
    cache.delete(transactionId);
    cache.set(transactionId, { result, expiresAt: Date.now() + options.cacheMs });
    while (cache.size > options.cacheSize) cache.delete(cache.keys().next().value as string);
  };
  const cached = (transactionId: string): Promise<LailaolabStatusResult> | undefined => {
    const hit = cache.get(transactionId);
    if (hit && hit.expiresAt > Date.now()) return Promise.resolve(hit.result);
    if (hit) cache.delete(transactionId);
    return pending.get(transactionId);
  };
  const ask = (transactionId: string): Promise<LailaolabStatusResult> => {
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
  };

  return {
    async check(transactionId) {
      const known = cached(transactionId);
      if (known) return known;
      // Asked only when a query would be spent: a cached or shared answer costs nothing.
      const awaited = await awaitedOrNot(isAwaited, transactionId);
      // The awaited list may have taken a turn: another delivery may have started the same query.
      const joined = cached(transactionId);
      if (joined) return joined;
      if (inFlight >= options.maxInFlight)
        throw new GatewayApiError(
          `${options.maxInFlight} status queries are already in flight (maxStatusQueries): transaction ${transactionId} was not asked about; the gateway is asked to deliver it again`,
          { source: SOURCE, retryable: true },
        );
      if (!awaited && !budget.take(Date.now()))
        throw new StatusBudgetError(transactionId, options.unwatchedPerMinute);
      return ask(transactionId);
    },
  };
}

/** A list that cannot be read awaits nothing: the id is then counted, never let through free. */
async function awaitedOrNot(isAwaited: IsAwaited, transactionId: string): Promise<boolean> {
  try {
    return await isAwaited(transactionId);
  } catch {
    return false;
  }
}
