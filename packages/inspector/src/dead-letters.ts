/**
 * Dead letters of the async mode (events whose listeners kept failing past their retries). The
 * inspector only reads this interface; the queue package provides it. Everything is optional to
 * the inspector: without a source the page is not shown.
 */
export interface DeadLetter {
  id: string;
  provider: string;
  /** The payment event's idempotency key. */
  eventId: string;
  /** When it was given up on. */
  failedAt: Date;
  attempts: number;
  error?: { code?: string; message: string };
}

export interface DeadLetterSource {
  /** Newest first. */
  list(): Promise<readonly DeadLetter[]>;
  /** Puts one back on the queue. */
  retry(id: string): Promise<unknown>;
  /** Puts them all back; resolves to how many, when it knows. */
  retryAll(): Promise<number | void>;
}
