import type { Inbox } from '../inbox/types';
import type { IdempotencyStore } from '../store';
import type { HubSettings } from './types';

/**
 * How an event's claim ends, decided once per hub from its store: the only place the pipeline
 * reads `store.transactional`. Two kinds of store exist:
 * - a record-only store (memory, Redis) records that an event was processed; the listeners' own
 *   writes are theirs. A commit that fails after the listeners succeeded is retried for
 *   commitRetryMs and the gateway is told "done" whatever happens: a retry answer would run the
 *   listeners again once the lease lapsed.
 * - a transactional store (PostgreSQL) holds the listeners' writes in the claim's transaction. Its
 *   commit is tried once (when it fails, the transaction and the writes are gone, so the gateway
 *   must redeliver), listeners that succeed after the gateway heard "retry" are rolled back for
 *   that redelivery, and the inbox entry is written inside the transaction, so the entry and the
 *   processed record commit or roll back together.
 */
export interface CommitPolicy {
  readonly transactional: boolean;
  /** How long a failed commit is retried, with backoff (0: tried once). */
  readonly commitRetryMs: number;
  /** Listeners that succeeded after the handler timeout: commit, or release for the redelivery. */
  readonly lateSuccess: 'commit' | 'release';
  /** What a commit that gave up tells the gateway. */
  readonly failedCommit: 'failed' | 'processed';
  /** The delivery's inbox entry is written with the claim's context, before the commit. */
  readonly recordInTransaction: boolean;
  /**
   * The completion marker may be taken by a claim of its own when no hold was won. A transactional
   * store's marker is joined into the event's transaction, or already recorded: a claim of its own
   * would need a second connection and could fail after the event's COMMIT went through.
   */
  readonly markerClaimOfItsOwn: boolean;
  /** Why a commit that gave up matters, for ERR_COMMIT_FAILED. */
  commitFailedMessage(eventId: string): string;
}

export function commitPolicyOf(
  store: IdempotencyStore<unknown>,
  settings: HubSettings,
  inbox: Inbox | undefined,
): CommitPolicy {
  if (store.transactional)
    return Object.freeze({
      transactional: true,
      commitRetryMs: 0,
      lateSuccess: 'release',
      failedCommit: 'failed',
      recordInTransaction: inbox !== undefined,
      markerClaimOfItsOwn: false,
      commitFailedMessage: (eventId: string) =>
        `the transaction of ${eventId} could not commit: the listeners' writes were rolled back ` +
        'with it; the gateway is asked to redeliver',
    });
  return Object.freeze({
    transactional: false,
    commitRetryMs: settings.commitRetryMs,
    lateSuccess: 'commit',
    failedCommit: 'processed',
    recordInTransaction: false,
    markerClaimOfItsOwn: true,
    commitFailedMessage: (eventId: string) =>
      `the listeners of ${eventId} succeeded but the store could not record it within ` +
      `${settings.commitRetryMs} ms; a redelivery after the lease may run them again`,
  });
}
