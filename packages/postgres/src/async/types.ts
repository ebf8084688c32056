import type PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { PostgresTransaction } from '../transaction';
import type { Logger, PaymentEvent, PaymentEventType } from '@payhook/core';
import type { DeadlineQueue, ListenerRegistry, RunContext } from '@payhook/core/plugin';

/** What runs SQL: a pg Pool, a PoolClient inside a transaction, or anything with the same `query`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What a worker's listener gets with the event: core's RunContext (`signal`), `tx` and `attempt`. */
export interface WorkerContext extends RunContext {
  /**
   * The attempt's transaction: run the merchant's writes here. It commits together with the
   * event's `done` mark, or rolls back with it when a listener fails: the writes happen once.
   */
  tx: PostgresTransaction;
  /** 1 for the first attempt; counts failed attempts recorded before this one, plus one. */
  attempt: number;
  /** Aborted when the attempt times out or the worker is stopped past its grace period. */
  signal: AbortSignal;
}

export type WorkerListener<T extends PaymentEventType = PaymentEventType> = (
  event: PaymentEvent & { type: T },
  context: WorkerContext,
) => unknown;

export interface DeadLetter {
  /** The event id (the dead letter is the event). */
  id: string;
  provider: string;
  eventId: string;
  type: PaymentEventType;
  failedAt: Date;
  attempts: number;
  error?: { code?: string; message: string };
  event: PaymentEvent;
}

export interface QueueStats {
  /** Events waiting for a worker (queued, retrying or in hand). */
  depth: number;
  /** Milliseconds since the oldest waiting event was queued; null when none waits. */
  oldestPendingAgeMs: number | null;
  /** Failed attempts recorded on the waiting events (0 when every one is on its first try). */
  attempts: number;
  /** Waiting events that failed at least once. */
  retrying: number;
  dead: number;
}

/** A failed attempt, reported on `attempt.failed`. */
export interface FailedAttempt {
  event: PaymentEvent;
  attempt: number;
  error: unknown;
  /** False when this was the last attempt: the event is now a dead letter. */
  willRetry: boolean;
}

export interface QueueChannels {
  /** An event used all its attempts (or waits behind one that did): it is kept as a dead letter. */
  dead: [letter: DeadLetter];
  /** A dead letter was put back on the queue (retry one or retry all). */
  retried: [letter: { id: string; event: PaymentEvent }];
  'attempt.failed': [attempt: FailedAttempt];
  /** The listeners ran and their transaction committed. */
  done: [event: PaymentEvent, attempt: number];
  error: [error: Error];
}

export interface PaymentQueueOptions {
  /** The merchant's pool: enqueueing, the workers' transactions and pg-boss all use it. */
  pool: Pool;
  /** PostgreSQL schema of the event table and pg-boss's tables (default `payhook`). */
  schema?: string;
  /** pg-boss queue name (default `payhook_events`; letters, digits, `_` and `-`). */
  queueName?: string;
  /**
   * Retries after the first attempt (default 12). With the default delay and backoff the last one
   * comes 17 to 34 hours after the first: beyond every gateway's own schedule.
   */
  retryLimit?: number;
  /** Seconds before the first retry (default 15); doubled each time when `retryBackoff`. */
  retryDelaySeconds?: number;
  /** pg-boss's exponential backoff with jitter: retry n waits delay × 2^(n-1) to delay × 2^n (default true). */
  retryBackoff?: boolean;
  /** How long one attempt may run before its listeners are aborted and it counts as failed (default 60,000). */
  attemptTimeoutMs?: number;
  /**
   * How long a job may stay in hand before pg-boss gives it to another worker (default: the
   * attempt's bound, see `attemptBoundMs`, + 60 s). Must exceed that bound: a live worker ends its
   * attempt before then, so only a worker that died holds a job that long.
   */
  expireInSeconds?: number;
  /** How often an event waiting behind an earlier one of the same payment looks again (default 1 s, doubling to 60 s). */
  orderWaitSeconds?: number;
  /**
   * Deadline of each statement the worker runs itself (BEGIN, the locks, the event row, COMMIT,
   * ROLLBACK, the failure record; default 2,000 ms). Past it the connection is destroyed and the
   * attempt fails: a frozen or unreachable server never holds a job past its expiry.
   */
  statementTimeoutMs?: number;
  /** Longest a worker waits for a pooled connection before it takes a job (default 1,000 ms). */
  connectTimeoutMs?: number;
  /**
   * Longest an attempt waits for its payment's order lock, held by another attempt of the same
   * payment (default 2,000 ms). Past it the job steps aside: queued again after `orderWaitSeconds`,
   * not counted as an attempt.
   */
  orderLockTimeoutMs?: number;
  /** Extra pg-boss constructor options (maintenanceIntervalSeconds, archive and retention...). */
  boss?: Partial<PgBoss.ConstructorOptions>;
  logger?: Logger;
}

export interface QueueSettings {
  schema: string;
  queueName: string;
  deadQueueName: string;
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  attemptTimeoutMs: number;
  expireInSeconds: number;
  orderWaitSeconds: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  orderLockTimeoutMs: number;
  /** `"schema".payhook_async_event`, quoted once here. */
  table: string;
}

/** The explicit state every queue step works on. */
export interface QueueState {
  readonly pool: Pool;
  readonly boss: PgBoss;
  readonly settings: QueueSettings;
  readonly logger: Logger;
  /** Merchant listeners by type, plus ANY ('*'); notices on their own names. */
  readonly listeners: ListenerRegistry;
  /** The attempt timeout of every run of the listeners, on one timer. */
  readonly deadlines: DeadlineQueue;
  started: Promise<void> | undefined;
}

export interface DeadLetterSource {
  /** Newest first (at most `limit`, default 100). */
  list(limit?: number): Promise<DeadLetter[]>;
  /** Puts one back on the queue; false when no dead letter has this id. */
  retry(id: string): Promise<boolean>;
  /** Puts them all back, oldest first; resolves to how many. */
  retryAll(): Promise<number>;
}

export interface PaymentQueue {
  /**
   * Checks the schema's migrations (004_async_event makes the event table: run `migrate` first)
   * and creates pg-boss's schema (idempotent; several processes may call it at once).
   */
  start(): Promise<void>;
  /** Stops pg-boss's maintenance; the pool stays the merchant's. */
  stop(): Promise<void>;
  on<K extends PaymentEventType>(name: K, listener: WorkerListener<K>): PaymentQueue;
  on<K extends keyof QueueChannels>(
    name: K,
    listener: (...args: QueueChannels[K]) => unknown,
  ): PaymentQueue;
  off(
    name: PaymentEventType | keyof QueueChannels,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    listener: (...args: any[]) => unknown,
  ): PaymentQueue;
  onAny(listener: WorkerListener): PaymentQueue;
  /** Records the event as pending and queues its job, on `db` (the claim's transaction) or its own. */
  enqueue(event: PaymentEvent, db?: Queryable): Promise<boolean>;
  stats(): Promise<QueueStats>;
  /** Deletes done events older than `olderThanMs` (default 7 days); resolves with how many. */
  purgeDone(olderThanMs?: number): Promise<number>;
  readonly deadLetters: DeadLetterSource;
  readonly settings: QueueSettings;
  readonly boss: PgBoss;
}
