import { ConfigError } from '../errors';
import { checkWholeNumber } from '../options';
import type { InboxRecord } from './types';

/**
 * The one budget every inbox keeps for deliveries that processed nothing new: whoever can reach
 * the webhook URL can make them (forgeries, unsigned notices, junk transaction ids), so they must
 * be capped by count and by bytes apart from the entries of verified payments.
 */
export interface InboxBudgetOptions {
  /** Most unverified entries kept (newest kept). */
  maxUnverified?: number;
  /** Most bytes of unverified entries kept (body, header names and values, message, URL). */
  maxUnverifiedBytes?: number;
  /**
   * @deprecated The old name of `maxUnverified`, from when only `rejected` deliveries were capped.
   * It now caps every unverified entry. Giving both with different values is a ConfigError.
   */
  maxRefused?: number;
}

export interface InboxBudget {
  readonly maxUnverified: number;
  readonly maxUnverifiedBytes: number;
}

/** The budget options checked at construction: a ConfigError names the bad one. */
export function resolveInboxBudget(
  options: InboxBudgetOptions,
  defaults: InboxBudget,
  source?: string,
): InboxBudget {
  const { maxUnverified, maxRefused } = options;
  if (maxRefused !== undefined && maxUnverified !== undefined && maxRefused !== maxUnverified)
    throw new ConfigError(
      'maxRefused',
      'is the deprecated name of maxUnverified: give maxUnverified only',
      { source },
    );
  const count = maxUnverified === undefined ? maxRefused : maxUnverified;
  return Object.freeze({
    maxUnverified: checkWholeNumber(
      count,
      defaults.maxUnverified,
      maxUnverified === undefined && maxRefused !== undefined ? 'maxRefused' : 'maxUnverified',
      { min: 0, source },
    ),
    maxUnverifiedBytes: checkWholeNumber(
      options.maxUnverifiedBytes,
      defaults.maxUnverifiedBytes,
      'maxUnverifiedBytes',
      { min: 0, unit: 'bytes', source },
    ),
  });
}

/**
 * Whether an entry is kept as a verified one, never evicted by unverified ones: it carries an event
 * (only a verified delivery has events: signature, secret channel or a status query that confirmed
 * it) and is not a duplicate. Every outcome but `duplicate` qualifies when it has events:
 * `processed`, `failed` (a listener or the store failed), `busy`, `superseded`, `ignored`,
 * `unhandled` (nobody listens to its type). A duplicate counts against the unverified budget: the
 * entry that processed the event is kept, and a genuine delivery can be re-posted at will (a
 * captured signed body within its maxAgeMs, a Lailaolab notice naming a real transaction).
 * `rejected` never counts. Without events: `pending`, `unhandled` (not a payment event, signed or not),
 * `failed` before an event existed (status query failed or capped, normalize failed).
 */
export function isVerifiedRecord(record: Pick<InboxRecord, 'outcome' | 'events'>): boolean {
  // `rejected` never has events from the hub; an inbox written to by other code stays safe.
  return (
    record.events.length > 0 && record.outcome !== 'duplicate' && record.outcome !== 'rejected'
  );
}

/**
 * The bytes an entry holds that its sender chose: body, header names and values, the decoded
 * message (as JSON) and the URL. What the hub adds (reply, events, error) is small and bounded.
 */
export function inboxRecordSize(
  record: Pick<InboxRecord, 'body' | 'headers' | 'message' | 'url'>,
): number {
  let size = record.body.length + (record.url === undefined ? 0 : Buffer.byteLength(record.url));
  for (const name in record.headers) {
    const value = record.headers[name]!;
    size += Buffer.byteLength(name);
    if (typeof value === 'string') size += Buffer.byteLength(value);
    else for (const v of value) size += Buffer.byteLength(v);
  }
  if (record.message !== undefined) size += messageSize(record.message);
  return size;
}

function messageSize(message: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(message) ?? '');
  } catch {
    // Not JSON (a cycle, a BigInt): its text form is still a fair measure of what it holds.
    return Buffer.byteLength(String(message));
  }
}
