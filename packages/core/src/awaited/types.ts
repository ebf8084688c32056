import type { PaymentMode } from '../events';
/**
 * Awaited payments: the payments a merchant said it expects (`hub.expectPayment`), each kept until
 * a final answer, whichever way it comes: the webhook, the socket, or the sweeper's status query.
 * A gateway that stops retrying (NewPay after three tries, Cashy after ten) then loses nothing.
 *
 * AWAITED_STATES and SETTLED_BY are the one list each from which the types, the stores' checks and
 * the inspector's columns derive.
 */

/** `awaiting` until a final answer (`settled`) or until `until` passes without one (`overdue`). */
export const AWAITED_STATES = ['awaiting', 'settled', 'overdue'] as const;
export type AwaitedState = (typeof AWAITED_STATES)[number];

/** Which path brought the final answer. */
export const SETTLED_BY = ['webhook', 'socket', 'status-query', 'replay'] as const;
export type SettledBy = (typeof SETTLED_BY)[number];

/** One awaited payment. Times are milliseconds since the epoch (UTC), every writer's clock. */
export interface AwaitedPayment {
  /** `<provider>:order:<orderId>`, or `<provider>:ref:<reference>` when no order number is given. */
  key: string;
  provider: string;
  /** The merchant's own order number. */
  orderId: string | null;
  /** The gateway's reference for the payment, when the merchant has it. */
  reference: string | null;
  /** Past this time with no final answer, the payment is `overdue` (a notice, not an event). */
  until: number;
  createdAt: number;
  state: AwaitedState;
  /** Status queries asked about it so far. */
  checks: number;
  /** When the sweeper may ask next. */
  nextCheckAt: number;
  /** What the last status query said (`pending`, `unknown to the gateway`, an error code). */
  lastResult: string | null;
  settledAt: number | null;
  settledBy: SettledBy | null;
  /** The id of the event that settled it (`<provider>:<gateway key>`). */
  eventId: string | null;
  /** The merchant allowed a status answer older than the provider's maxAgeMs for this payment. */
  allowOlderThanMaxAge: boolean;
}

/** What `add` is given: the list fills in the rest (state `awaiting`, no checks yet). */
export type NewAwaitedPayment = Pick<
  AwaitedPayment,
  'key' | 'provider' | 'orderId' | 'reference' | 'until' | 'createdAt' | 'nextCheckAt'
> & { allowOlderThanMaxAge: boolean };

/** How a payment is recognized when a notification or a status answer names it. */
export interface AwaitedMatch {
  provider: string;
  orderId: string | null;
  /** The event's transactionId: the gateway's reference. */
  reference: string | null;
}

export interface AwaitedSettlement {
  by: SettledBy;
  at: number;
  eventId: string;
}

/** What one lease of due entries is for: the sweeper that holds it, and until when. */
export interface AwaitedLease {
  /** A random id per sweeper (per hub). */
  owner: string;
  now: number;
  /** The lease lasts `leaseMs` from `now`; past it another sweeper may take the entry. */
  leaseMs: number;
  limit: number;
  /** Only this provider's entries (default: every provider's). */
  provider?: string;
  /**
   * Entries whose `nextCheckAt` is at or before this time are due (default `now`): a later time
   * asks early, e.g. every watched payment after a socket reconnects.
   */
  dueBy?: number;
}

export interface AwaitedReschedule {
  nextCheckAt: number;
  checks: number;
  lastResult: string | null;
}

export interface AwaitedCounts {
  awaiting: number;
  /** Awaiting entries whose `until` has passed but that no sweep has closed yet are counted here too. */
  overdue: number;
  settled: number;
}

export interface AwaitedListFilter {
  state?: AwaitedState;
  provider?: string;
  /** Most entries returned, most recently created first (default 100). */
  limit?: number;
}

/**
 * Where awaited payments live: in this process (`createMemoryAwaitedList`), in Redis
 * (`createRedisAwaitedList` from @payhook/redis-store) or PostgreSQL (`createPostgresAwaitedList`
 * from @payhook/postgres) for several instances and restarts. `runAwaitedListConformance` in
 * `@payhook/core/testing` holds a list to these rules. Every call may reject (a backend down).
 */
export interface AwaitedList {
  /**
   * Awaits a payment. An entry already there keeps its state: an awaiting one takes the later
   * `until` and fills in a reference it did not have; a settled or overdue one is returned as it is.
   * Rejects with an AwaitedListFullError (code ERR_AWAITED_FULL) when `maxEntries` payments are awaiting:
   * an awaited payment is never dropped to make room.
   */
  add(entry: NewAwaitedPayment): Promise<AwaitedPayment>;
  /**
   * Settles the awaiting (or overdue) entry that `match` names: the one keyed by its order number,
   * else one keyed by its reference or whose `reference` it is. Resolves with the entry as settled when this call settled it, null otherwise (none
   * awaited, or already settled): so the notice is sent once whoever settles it.
   */
  settle(match: AwaitedMatch, settlement: AwaitedSettlement): Promise<AwaitedPayment | null>;
  /**
   * Takes up to `limit` awaiting entries (of `provider`, when given) whose `nextCheckAt` is at or
   * before `dueBy` (default `now`) and whose lease is free
   * (never taken, or lapsed), soonest first, leasing each to `owner` until `now + leaseMs`. Two
   * sweepers never hold the same entry; an entry whose sweeper died is taken again once its lease lapses.
   */
  lease(lease: AwaitedLease): Promise<AwaitedPayment[]>;
  /** Ends `owner`'s lease with the next check's time; false when the lease is not owner's (any more). */
  reschedule(key: string, owner: string, next: AwaitedReschedule): Promise<boolean>;
  /**
   * Awaiting → overdue (`until` passed with no final answer, at `at`: for logs; purge measures from
   * `until`). Resolves with the entry when this
   * call made it overdue, null otherwise (settled meanwhile, or already overdue).
   */
  expire(key: string, at: number, lastResult: string | null): Promise<AwaitedPayment | null>;
  get(key: string): Promise<AwaitedPayment | null>;
  list(filter?: AwaitedListFilter): Promise<AwaitedPayment[]>;
  counts(now: number): Promise<AwaitedCounts>;
  /** Deletes settled and overdue entries whose end (settledAt, or until) is before `before`; resolves with how many. */
  purge(before: number): Promise<number>;
  close?(): Promise<void>;
}

/**
 * The `provider` an awaited payment is filed under: the mount's id, with `:test` for a test-mode
 * mount (`newpay:test`). A test mount and a live mount of one gateway on one hub then await,
 * sweep and settle apart: a sandbox payment never settles a live order with the same number, and
 * a live order is never asked about through the sandbox's status API. An event is filed by its own
 * mode the same way (`{ id: event.provider, mode: event.mode }`).
 */
export function awaitedProvider(mount: {
  readonly id: string;
  readonly mode?: PaymentMode;
}): string {
  return mount.mode === 'test' ? `${mount.id}:test` : mount.id;
}

/** The key of an awaited payment: by order number when the merchant gives one. */
export function awaitedKey(
  provider: string,
  ids: { orderId?: string | null; reference?: string | null },
): string {
  return ids.orderId != null
    ? `${provider}:order:${ids.orderId}`
    : `${provider}:ref:${ids.reference}`;
}
