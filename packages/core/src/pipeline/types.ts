import type { ListenerRegistry } from './listeners';
import type { PaymentEvent, PaymentEventType } from '../events';
import type { PaymentErrorLike } from '../errors';
import type { Logger } from '../logger';
import type { AnyPaymentProvider, Delivery, HttpReply, StatusLookup } from '../provider';
import type { AwaitedList, AwaitedPayment } from '../awaited/types';
import type { AwaitedOptions } from '../awaited/options';
import type { AwaitedState } from '../awaited/state';
import type { ExpectedPayment } from '../awaited/expect';
import type { SweepReport } from '../awaited/sweep-report';
import type { SweepOptions } from '../awaited/sweep';
import type { IdempotencyStore, StoreContext } from '../store';
import type { Inbox } from '../inbox/types';
import type { HeaderRedaction } from '../inbox/redact';
import type { CommitPolicy } from './commit-policy';
import type { RunContext } from './dispatch';
import type { DeadlineQueue } from './deadlines';
import type { InboxRef } from './record-delivery';
import type { ListenerCheckState } from './boot-check';

/** A hub listener's context: RunContext's `signal`, aborted when the handler timeout passes (the
 * gateway is then told to retry), and the delivery; plus what the store's claim hands (`{ tx }`). */
export interface ListenerContext extends RunContext {
  delivery: Delivery;
}

export interface UnhandledDelivery {
  provider: string;
  /** The payment event nobody listens to, when that is why it is unhandled. */
  event?: PaymentEvent;
  /** Why it is not a payment event ("payout", "unknown event name refund.created"...). */
  reason: string;
  /**
   * Whether the delivery's authenticity was established (signature, secret channel or status
   * query). False for an unsigned notice nobody confirmed: report it, never act on it.
   */
  verified: boolean;
  raw: unknown;
  delivery: Delivery;
}

export interface ErrorContext {
  provider?: string;
  event?: PaymentEvent;
  delivery?: Delivery;
  /**
   * For a GatewayApiError from confirm or a status query: its `retryable`. `false` means a retry
   * will not help (our query was refused: credentials, base URL): the gateway still got its retry
   * body, so the payment is not lost, but alert on it, as only a configuration fix clears it.
   */
  retryable?: boolean;
}

/** Reported by long-lived sources (the Lailaolab socket) on `source.up`, `source.down`, `source.error`. */
export interface SourceStatus {
  provider: string;
  detail?: string;
  error?: Error;
}

/** `C`: what the store's claim adds to the listener's context (e.g. `{ tx }`). */
type PaymentChannels<C = object> = {
  [K in PaymentEventType]: [event: PaymentEvent & { type: K }, context: ListenerContext & C];
};

export interface NoticeChannels {
  unhandled: [delivery: UnhandledDelivery];
  duplicate: [event: PaymentEvent];
  /** A delivery was superseded: e.g. a failure notice for a payment already completed. */
  superseded: [event: PaymentEvent, reason: string];
  error: [error: PaymentErrorLike, context: ErrorContext];
  'source.up': [status: SourceStatus];
  'source.down': [status: SourceStatus];
  'source.error': [status: SourceStatus];
  /** An awaited payment got its final answer (by webhook, socket, status query or replay). */
  'awaited.settled': [payment: AwaitedPayment];
  /**
   * An awaited payment's `until` passed with no final answer (or its only answer was older than
   * maxAgeMs): not a payment event; the merchant may cancel the order.
   */
  'awaited.overdue': [payment: AwaitedPayment];
}

export type HubChannels<C = object> = PaymentChannels<C> & NoticeChannels;
export type HubEventName = keyof HubChannels;
export type HubListener<K extends HubEventName, C = object> = (
  ...args: HubChannels<C>[K]
) => unknown;
export type AnyPaymentListener<C = object> = (
  event: PaymentEvent,
  context: ListenerContext & C,
) => unknown;

/**
 * Every outcome `receive`, `reconcile` and `replay` can answer, in the order the inspector lists
 * them. The one list: ReceiveOutcome derives from it, and packages that enumerate outcomes (the
 * inspector's filter, its metrics' zeroed series) read it instead of typing their own copy.
 */
export const RECEIVE_OUTCOMES = Object.freeze([
  'processed',
  'duplicate',
  'busy',
  'unhandled',
  'ignored',
  'pending',
  'superseded',
  'failed',
  'rejected',
] as const);

export type ReceiveOutcome = (typeof RECEIVE_OUTCOMES)[number];

export interface ReceiveResult {
  outcome: ReceiveOutcome;
  /** What to answer the gateway: its own success or retry body, or an error reply. */
  reply: HttpReply;
  /** The normalized events of the delivery (dispatched or not). */
  events: PaymentEvent[];
  error?: PaymentErrorLike;
  /**
   * Why there is no event, for `pending` and `unhandled` with no events: the plugin's
   * `pendingPayment`/`notAPaymentEvent` reason, or that the gateway knows no such payment.
   */
  reason?: string;
  /** The delivery's inbox entry id, when the hub has an inbox (whether or not the inbox kept it). */
  inboxId?: string;
}

export interface PaymentHubOptions<
  S extends IdempotencyStore<unknown> = IdempotencyStore<unknown>,
> {
  /**
   * Where processed events are recorded (default: an in-process memory store). What its claims
   * carry (e.g. @payhook/postgres's `{ tx }`) reaches the listeners' context, typed.
   */
  store?: S;
  logger?: Logger;
  /**
   * How long the gateway waits for its answer while listeners run (default 8,000 ms). Past it the
   * gateway gets its retry body, but the listeners keep running and keep the event's claim (renewed
   * every leaseMs / 3) until they settle: committed when they resolve, released when they reject
   * (or at hardTimeoutMs). Redeliveries meanwhile get the retry body too.
   */
  handlerTimeoutMs?: number;
  /**
   * The hard cap: how long after the handler timeout the hub still waits for listeners that have
   * not settled (default 60,000 ms). Past it their claim is released (a transactional store's
   * connection is destroyed, rolling their writes back), reported on `error` as
   * ERR_LISTENER_ABANDONED, and a redelivery processes the event. On a store that is not
   * transactional, what the abandoned listener still does is outside the exactly-once guarantee.
   */
  hardTimeoutMs?: number;
  /**
   * How long a claim holds without renewal (default 30,000 ms): only a process that dies stops
   * renewing, so this is how soon a redelivery can take over the event of a crashed process.
   */
  leaseMs?: number;
  /**
   * How long a processed event is remembered (default 72 h). It must outlive the gateways' retry
   * windows (Cashy: about 17 h) and every provider's maxAgeMs (checked at mount).
   */
  retentionMs?: number;
  /**
   * How long a commit that fails after the listeners succeeded is retried, with backoff, before
   * it is reported on `error` as ERR_COMMIT_FAILED (default 5,000 ms; shorter than leaseMs).
   */
  commitRetryMs?: number;
  /**
   * Payment types the merchant does not handle on purpose: with no listener, they are acknowledged
   * and reported on `unhandled` as ignored. Any other type with no listener gets the retry body and
   * is never marked done, so adding the listener later still processes the redelivery.
   */
  ignore?: readonly PaymentEventType[];
  /**
   * Most events dispatched at once (listeners still running count, timed out or not). Beyond it a
   * delivery gets the retry body at once, without a claim. Default: no cap.
   */
  maxInFlight?: number;
  /**
   * Where every delivery is recorded (exact bytes, redacted headers, outcome, reply): see Inbox.
   * Default: a memory inbox (1,000 verified entries and 8 MiB, 100 unverified and 2 MiB, 24 h);
   * `false` records nothing.
   */
  inbox?: Inbox | false;
  /**
   * More request header names whose values the inbox must never store (the merchant's own secret
   * headers, e.g. a token a proxy adds): recorded as `[redacted]`, on top of core's
   * REDACTED_HEADERS and each provider's `secretHeaders`. Checked at construction.
   */
  redactHeaders?: readonly string[];
  /**
   * Awaited payments (`hub.expectPayment`): where they live (default: this process's memory) and
   * how the sweeper asks the gateways about them. Checked at construction.
   */
  awaited?: AwaitedOptions;
}

/**
 * Per call of `hub.reconcile` and `hub.replay`. Both refuse (401 ERR_DELIVERY_STALE) a payment
 * older than the provider's maxAgeMs unless told otherwise here.
 */
export interface MaxAgeOverride {
  /**
   * Process it even when it is older than the provider's `maxAgeMs`: the merchant's own
   * back-office decision about one payment (e.g. a late order credited by hand), never something
   * to pass on behalf of a customer or a request. Past the store's retention the event may be one
   * already processed: check your own records first.
   */
  allowOlderThanMaxAge?: boolean;
}

/** Per call of `hub.reconcile`. */
export interface ReconcileOptions extends MaxAgeOverride {
  /**
   * What `reference` is: the gateway's reference (default) or the merchant's order number, when
   * the provider's `statusLookups` accepts it.
   */
  by?: StatusLookup;
}

/** `C`: what the store's claims add to the listeners' context (`object`: nothing). */
export interface PaymentHub<C = object> {
  on<K extends HubEventName>(name: K, listener: HubListener<K, C>): PaymentHub<C>;
  once<K extends HubEventName>(name: K, listener: HubListener<K, C>): PaymentHub<C>;
  off<K extends HubEventName>(name: K, listener: HubListener<K, C>): PaymentHub<C>;
  /** Every payment event, whatever its type; awaited like the typed listeners. */
  onAny(listener: AnyPaymentListener<C>): PaymentHub<C>;
  offAny(listener: AnyPaymentListener<C>): PaymentHub<C>;
  /**
   * The transport-free entry point: verify → validate → confirm → normalize → claim → dispatch →
   * commit/release.
   */
  receive(provider: AnyPaymentProvider, delivery: Delivery): Promise<ReceiveResult>;
  /**
   * Asks the gateway about a payment (the provider's `fetchStatus`) and processes what it says
   * through the same claim/dispatch path as a notification: a payment seen both ways is processed
   * once. `outcome: 'unhandled'` when the gateway knows no such payment. A payment whose time in
   * the answer (`occurredAt`: paid or confirmed) is older than the provider's `maxAgeMs` is refused
   * (`rejected`, 401 ERR_DELIVERY_STALE: nothing dispatched or stored) unless
   * `allowOlderThanMaxAge`.
   */
  reconcile(
    provider: AnyPaymentProvider,
    reference: string,
    options?: ReconcileOptions,
  ): Promise<ReceiveResult>;
  /**
   * Awaits a payment the merchant expects (call it when the order is created): the first of the
   * webhook, the socket and the sweeper's status query settles it, on the one claim path, and a
   * payment with no final answer by `until` gets the `awaited.overdue` notice. Throws a ConfigError
   * when the provider's status query cannot be asked about it (no fetchStatus, or a lookup it does
   * not accept); rejects with ERR_AWAITED_FULL when the list is full.
   */
  expectPayment(provider: AnyPaymentProvider, expected: ExpectedPayment): Promise<AwaitedPayment>;
  /**
   * Asks now about every awaited payment whose check is due (the timer does it every
   * sweepEveryMs); `{ provider, all: true }` asks about all of one gateway's, due or not.
   */
  sweep(options?: SweepOptions): Promise<SweepReport>;
  /** Where awaited payments live (the `awaited.list` option, or this process's memory). */
  readonly awaited: AwaitedList;
  /** Stops the sweeper and waits for a sweep in progress; the hub still receives deliveries. */
  close(): Promise<void>;
  /**
   * Runs a stored delivery's bytes and headers through `receive` again, with transport `replay`:
   * verified again, the store deciding whether it is a duplicate. The replay is recorded as its
   * own entry (`replayOf` the original). Throws a ConfigError when the hub has no inbox, and a
   * PaymentError ERR_INBOX_ENTRY_NOT_FOUND (404) when the entry is not kept or is another provider's.
   * An entry received more than the provider's `maxAgeMs` ago is refused (`rejected`, 401
   * ERR_DELIVERY_STALE, recorded as the replay's entry) unless `allowOlderThanMaxAge`; the
   * provider also checks the delivery's own signed time, if it has one, as for any delivery.
   */
  replay(
    provider: AnyPaymentProvider,
    inboxId: string,
    options?: MaxAgeOverride,
  ): Promise<ReceiveResult>;
  /**
   * Checks now, for every provider mounted on this hub, that each payment type it emits (its
   * `eventTypes`) has a listener (or `onAny`) or is in `ignore`; call it once your listeners are
   * registered. Returns the gaps (empty when none). Throws a ConfigError when a gap is on a provider
   * whose gateway disables the webhook after failures (`disablesWebhookAfterFailures`) and
   * NODE_ENV is production. Without it, the same check runs by itself once per provider just
   * after its mount (setImmediate) and logs a warning (at error level, and on `error`, for the
   * case this throws).
   */
  checkListeners(): UnlistenedTypes[];
  /** The hub's inbox, or undefined with `inbox: false`. */
  readonly inbox: Inbox | undefined;
  /** Adapter-only (see `rejectDelivery` and `notifyHub`). */
  readonly [HUB_INTERNALS]: HubInternals;
  listenerCount(name: HubEventName | '*'): number;
  readonly store: IdempotencyStore<unknown>;
  readonly logger: Logger;
  readonly options: HubSettings;
}

/** What `hub.checkListeners()` found for one mounted provider. */
export interface UnlistenedTypes {
  /** The provider's id. */
  provider: string;
  /** The types it emits with no listener (nor `onAny`) and not in `ignore`. */
  types: PaymentEventType[];
  /** Whether its gateway disables the webhook after repeated failures. */
  disablesWebhookAfterFailures: boolean;
}

/** The hub's checked settings: what createPaymentHub made of its options. */
export type HubSettings = Readonly<{
  handlerTimeoutMs: number;
  hardTimeoutMs: number;
  leaseMs: number;
  retentionMs: number;
  commitRetryMs: number;
  ignore: readonly PaymentEventType[];
  maxInFlight: number | undefined;
  /** The merchant's header names, lower-cased. */
  redactHeaders: readonly string[];
}>;

/** What adapters and sources need of a hub, kept off its public surface. */
export interface HubInternals {
  /** Reports a delivery refused before it reached `receive` (413, 415, 405...); returns the reply. */
  reject(provider: AnyPaymentProvider, error: PaymentErrorLike, delivery?: Delivery): HttpReply;
  /** Reports on a notice channel (`source.up`, `source.down`, `source.error`...). */
  notify<K extends keyof NoticeChannels>(name: K, ...args: NoticeChannels[K]): void;
  /** A provider mounted on the hub (see mountProvider): the sweeper can ask about its payments. */
  mount(provider: AnyPaymentProvider): void;
  /** A plugin's own state on this hub, made by `create` the first time `key` is asked for. */
  pluginState<T>(key: string, create: () => T): T;
}

/** The key of a hub's internals: adapters reach them through @payhook/core/plugin. */
export const HUB_INTERNALS: unique symbol = Symbol('payhook.hubInternals');

/**
 * The explicit state every pipeline step works on: one per hub. `inFlight` counts events whose
 * listeners run now, timed out or not (for maxInFlight).
 */
export interface HubState {
  readonly listeners: ListenerRegistry;
  readonly store: IdempotencyStore<unknown>;
  readonly logger: Logger;
  readonly settings: HubSettings;
  readonly inbox: Inbox | undefined;
  /** Which headers each provider's entries have redacted (filled as providers are seen). */
  readonly redaction: HeaderRedaction;
  /** How an event's claim ends on this hub's store, chosen once (commit-policy.ts). */
  readonly policy: CommitPolicy;
  /** The handler timeout of every dispatch, on one timer (deadlines.ts). */
  readonly deadlines: DeadlineQueue;
  /** Awaited payments: their list, the sweeper's timer and budgets (awaited/state.ts). */
  readonly awaited: AwaitedState;
  /** The providers mounted, for the boot-time listener check (boot-check.ts). */
  readonly listenerCheck: ListenerCheckState;
  inFlight: number;
}

/** One delivery on its way through the pipeline: what each step after normalize is handed. */
export interface DeliveryRun {
  readonly provider: AnyPaymentProvider;
  readonly delivery: Delivery;
  /** Where the delivery is recorded (undefined when the hub has no inbox). */
  readonly ref: InboxRef | undefined;
  /** Set when its entry was written inside an event's transaction that committed (finish.ts). */
  committedEntry?: boolean;
}

/** What one event came to in the claim/dispatch/commit step. */
export type EventOutcome =
  'processed' | 'duplicate' | 'busy' | 'superseded' | 'failed' | 'unhandled' | 'ignored';

/** An event's outcome, and the error behind it when there is one. */
export type EventResult = [EventOutcome, PaymentErrorLike?];

/** The hub a store makes: its listeners' context carries what the store's claims hand them. */
export type PaymentHubFor<S> = PaymentHub<StoreContext<S>>;
