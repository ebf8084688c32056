import type { PaymentEventType, RefundKind } from '../events';
import type { HttpReply } from '../provider';
import type { ReceiveOutcome } from '../pipeline/types';
import type { InboxBudgetOptions } from './budget';

/**
 * The inbox: one entry per delivery that reached the hub (processed, duplicate, refused...), with
 * its exact bytes, so an operator can see what a gateway sent and what it was answered, and replay
 * it. The contract lives here; `createMemoryInbox` (bounded, in-process) is the hub's default and
 * `@payhook/postgres` has a durable one.
 *
 * When the hub writes: once per call of `receive`, `reconcile` or `replay` (and per delivery an
 * adapter refuses), after the pipeline has its final outcome and before the reply goes out
 * (`record`; the last step of pipeline/receive.ts). Each call gets its inbox id before the pipeline
 * runs (`InboxRef`, passed explicitly to the steps that write). The outcome is what the gateway was
 * told: a listener that outlives the handler timeout leaves `failed` (the retry body), and the
 * redelivery that follows is an entry of its own. The hub does not call `update` today; it is there
 * for a late settlement or an operator's correction, so every implementation has it from the start.
 *
 * Writing inside the event's transaction: `record` takes an optional `context` (see
 * InboxRecordOptions). With a store whose claims carry a transaction (PostgreSQL; the hub's
 * CommitPolicy), the step that commits the event first records the delivery with the claim's
 * context (pipeline/finish.ts), and an inbox backed by the same database writes it in that
 * transaction: the delivery row and the event's done marker commit or roll back together. The
 * hub's final record of the delivery then replaces it (same id), or says `committed` when it has
 * nothing to add. An inbox that cannot write in the transaction (the memory inbox) ignores writes
 * with a context: a rolled-back transaction must not leave its entry behind, and the final record
 * follows. So each delivery has exactly one record without a context: the one to count.
 *
 * Unverified deliveries (refused, unsigned notices, junk that failed its status query, duplicates:
 * see `isVerifiedRecord`) are recorded too, but an implementation must bound them apart from the
 * rest, by count and by bytes (`inboxRecordSize`), so that a flood of them can neither fill the
 * disk nor evict the record of a processed payment. Both core inboxes take `maxUnverified` and
 * `maxUnverifiedBytes` (`resolveInboxBudget`) and keep the newest within them.
 */
export interface Inbox {
  /**
   * Stores one delivery. Resolves to the stored entry, or `undefined` when the inbox chose not to
   * keep it (an unverified delivery over its budget). The hub never fails a delivery
   * because the inbox failed: a rejection is logged.
   *
   * Resolves to undefined as well when `options.noAnswer` says nobody reads the answer.
   *
   * An `id` already stored is replaced, keeping its `attempt` counts (it is the same delivery):
   * so an entry written early, inside the event's transaction, is completed by the hub's final
   * record of the delivery (its reply, duration and outcome).
   */
  record(entry: InboxRecord, options?: InboxRecordOptions): Promise<InboxEntry | undefined>;
  /** Changes a stored entry's outcome (a late settlement); `undefined` when it is no longer kept. */
  update(id: string, patch: InboxUpdate): Promise<InboxEntry | undefined>;
  /** Newest first. `nextCursor`, when set, fetches the following page with the same filter. */
  list(filter?: InboxFilter, page?: InboxPage): Promise<InboxList>;
  get(id: string): Promise<InboxEntry | undefined>;
  /** Drops the entries older than the inbox's retention (as of `now`); resolves to how many. */
  prune(now?: Date): Promise<number>;
  /** Optional: free resources (connections, timers) at shutdown. */
  close?(): Promise<void>;
}

export interface InboxRecordOptions {
  /**
   * The transaction context of the delivery's event claim, when the hub's store provides one (an
   * opaque value the store and an inbox of the same backend agree on, e.g. the PostgreSQL client
   * of the open transaction). Absent for refused deliveries and stores without transactions.
   */
  context?: unknown;
  /**
   * Set on a delivery's final record when it says exactly what an entry written earlier with the
   * claim's `context` already says (one event, processed, the success reply), and that
   * transaction committed: an inbox that wrote that entry in the transaction may skip this write
   * (@payhook/postgres does: one round trip less per delivery) and resolve to undefined. An inbox
   * that did not write it (the memory inbox ignores writes with a context) records it as usual.
   */
  committed?: boolean;
  /**
   * The caller does not read what `record` resolves to (the hub never does): the inbox may
   * resolve to undefined instead of building the stored entry (the memory inbox then builds it on
   * the first read; @payhook/postgres returns no row).
   */
  noAnswer?: boolean;
}

/** One normalized event of a delivery: only events that passed verification are ever listed. */
export interface InboxEvent {
  /** The idempotency key (`<provider>:<gateway key>`). */
  id: string;
  type: PaymentEventType;
  orderId: string | null;
  transactionId: string;
  /** Exact decimal in major units, as in the event. */
  amount: string;
  currency: string | null;
  /** Present for a test-mode event only: sandbox money (entries recorded before modes have none). */
  mode?: 'test';
  /** A payment.refunded event's kind: `refund`, `void` or `chargeback`. */
  refundKind?: RefundKind;
}

/** What the hub hands to `record`: the inbox assigns nothing but `attempt` counts. */
export interface InboxRecord {
  /** Unique, assigned by the hub (a UUID), so a replay can link to it before it is stored. */
  id: string;
  receivedAt: Date;
  provider: string;
  /** `http`, `socket`, `status-query`, `replay`... (the delivery's transport). */
  transport: string;
  method?: string;
  url?: string;
  /**
   * The request headers, names lower-cased, with secrets redacted before any inbox sees them:
   * REDACTED_HEADERS, the provider's `secretHeaders` and the hub's `redactHeaders`. Signature
   * headers are kept: a replay re-verifies the stored bytes against them.
   */
  headers: Readonly<Record<string, string | readonly string[]>>;
  /** The exact raw bytes as received (empty for transports without bytes; see `message`). */
  body: Buffer;
  /** A message decoded by its transport (a Socket.IO event) when there are no raw bytes. */
  message?: unknown;
  outcome: ReceiveOutcome;
  /** What the gateway was answered. */
  reply: HttpReply;
  events: readonly InboxEvent[];
  /**
   * The error behind a refused or failed outcome (the catalogue code and message); `retryable:
   * false` for a GatewayApiError that says a retry will not help (see ErrorContext.retryable).
   */
  error?: { code: string; message: string; retryable?: false };
  /** For a replay: the id of the entry it replays. */
  replayOf?: string;
  /** Milliseconds from receipt to the reply. */
  durationMs: number;
}

/** A stored entry: the record, plus how many deliveries of each of its events the inbox has seen. */
export interface InboxEntry extends Omit<InboxRecord, 'events'> {
  events: readonly (InboxEvent & {
    /** This delivery is the n-th the inbox has kept that carries this event id (1 = the first). */
    attempt: number;
  })[];
}

export type InboxUpdate = Partial<Pick<InboxRecord, 'outcome' | 'reply' | 'error'>>;

export interface InboxFilter {
  provider?: string;
  outcome?: ReceiveOutcome | readonly ReceiveOutcome[];
  transport?: string;
  /** receivedAt ≥ from. */
  from?: Date;
  /** receivedAt < to. */
  to?: Date;
  /** Entries with an event of this order id (events are verified ones only). */
  orderId?: string;
  transactionId?: string;
  eventId?: string;
  /** Replays of this entry. */
  replayOf?: string;
}

export interface InboxPage {
  /** Entries per page: default 50, at most 500. */
  limit?: number;
  /** The `nextCursor` of the previous page (opaque; only meaningful to the inbox that made it). */
  cursor?: string;
}

export interface InboxList {
  entries: InboxEntry[];
  nextCursor?: string;
}

export interface MemoryInboxOptions extends InboxBudgetOptions {
  /** Most verified entries kept (see `isVerifiedRecord`; oldest dropped first). Default 1,000. */
  maxEntries?: number;
  /**
   * Most bytes of verified entries kept (body, header names and values, message, URL; oldest
   * dropped first). Default 8 MiB. Unverified entries have their own `maxUnverifiedBytes`.
   */
  maxBytes?: number;
  /** How long an entry is kept; `prune` (also run on each record, at most once a minute). Default 24 h. */
  retentionMs?: number;
}

/** What a memory inbox holds, for operators and tests. */
export interface MemoryInboxCounts {
  /** Verified entries kept. */
  entries: number;
  /** Unverified entries kept (no event, or a duplicate), at most `maxUnverified`. */
  unverified: number;
  /** Bytes of every entry kept (verified and unverified), as `inboxRecordSize` counts them. */
  bytes: number;
  /** Bytes of the unverified entries kept, at most `maxUnverifiedBytes`. */
  unverifiedBytes: number;
  /** Unverified entries dropped to keep `maxUnverified` and `maxUnverifiedBytes`. */
  droppedUnverified: number;
  /** Verified entries dropped to keep `maxEntries` or `maxBytes`. */
  dropped: number;
  /** Entries dropped by retention. */
  pruned: number;
  /** @deprecated The same as `unverified` (it counted only rejected deliveries before). */
  refused: number;
  /** @deprecated The same as `droppedUnverified`. */
  droppedRefused: number;
}

export interface MemoryInbox extends Inbox {
  counts(): MemoryInboxCounts;
}
