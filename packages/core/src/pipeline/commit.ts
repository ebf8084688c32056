import type { PaymentEvent } from '../events';
import { PaymentError } from '../errors';
import { modeKey } from '../modes';
import type { HubState } from './types';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * The key that records a transaction's completion, so a later failure notice is known stale. It
 * starts with `#`, which no provider id (kebab-case) can: no event id (`<provider id>:<key>`) can
 * ever be the same key, whatever transaction ids a gateway uses. A test-mode transaction's has
 * `test:` before its id (modeKey, which keeps a live id starting with `test:` apart from it).
 */
export const completedMarker = (event: PaymentEvent): string =>
  `#completed:${event.provider}:${modeKey(event.mode, event.transactionId)}`;

/**
 * Records that the transaction completed: one write when the store can; else the commit of the
 * marker claim held while the listeners ran (or a fresh claim + commit).
 */
async function markCompleted(
  state: HubState,
  event: PaymentEvent,
  markerToken: string | undefined,
): Promise<void> {
  const { store, settings } = state;
  const marker = completedMarker(event);
  if (store.markDone) return store.markDone(marker, settings.retentionMs);
  if (markerToken) return store.commit(marker, markerToken, settings.retentionMs);
  // No hold was won: the marker is recorded, or being recorded by another completion of the
  // transaction (see CommitPolicy.markerClaimOfItsOwn for why a transactional store stops here).
  if (!state.policy.markerClaimOfItsOwn) return;
  const claim = await store.claim(marker, settings.leaseMs);
  if (claim.state === 'claimed') await store.commit(marker, claim.token, settings.retentionMs);
}

/**
 * claimed → done after the listeners succeeded, retried with backoff for commitRetryMs: a store
 * blip must not turn a processed event into a redelivery that runs the listeners again. The claim
 * is never released here. Resolves with the ERR_COMMIT_FAILED error when it gave up.
 */
export async function commitProcessed(
  state: HubState,
  event: PaymentEvent,
  token: string,
  markerToken?: string,
): Promise<PaymentError | undefined> {
  const { store, settings, logger, policy } = state;
  const deadline = Date.now() + policy.commitRetryMs;
  for (let attempt = 0; ; attempt++) {
    try {
      if (event.type === 'payment.completed') {
        // The completion marker is written beside the commit, not after it: on a networked store
        // the two round trips overlap.
        await Promise.all([
          store.commit(event.id, token, settings.retentionMs),
          markCompleted(state, event, markerToken),
        ]);
      } else {
        await store.commit(event.id, token, settings.retentionMs);
      }
      logger.info(
        { eventId: event.id, type: event.type },
        '@payhook/core: payment event processed',
      );
      return undefined;
    } catch (cause) {
      const wait = Math.min(25 * 2 ** attempt, 1_000);
      if (Date.now() + wait > deadline)
        return new PaymentError(policy.commitFailedMessage(event.id), {
          code: 'ERR_COMMIT_FAILED',
          cause,
        });
      logger.warn({ eventId: event.id, attempt }, '@payhook/core: commit failed; retrying');
      await sleep(wait);
    }
  }
}
