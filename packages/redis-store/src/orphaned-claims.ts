/**
 * Claims whose answer never came: their SET NX may have run (or may still run: a frozen Redis
 * executes what is in its socket when it resumes), and then it holds the key for the whole lease
 * with nobody to dispatch, commit or release it: the hub answered the gateway with its retry body.
 * Each is released by its token, which this store generated and nobody else ever used, once Redis
 * answers again.
 */
import { SOURCE } from './store-options';
import { runScript, type StoreState } from './store-state';

/** true: answered (released, already gone, or not ours); false: no answer, kept for later. */
async function releaseOrphan(state: StoreState, token: string, redisKey: string): Promise<boolean> {
  const { orphans } = state;
  try {
    // EVAL, not EVALSHA: the answer of a NOSCRIPT fallback may be lost too (a restarted server).
    const result = await runScript(state, 'release', redisKey, [token], { withSource: true });
    if (orphans.tokens.delete(token)) orphans.settled++;
    if (result === 1) orphans.released++;
    return true;
  } catch {
    return false; // kept: the next answer from Redis, or its 'ready', tries again
  }
}

/** One log line for the orphans settled (and forgotten) since the last one. */
function reportOrphans(state: StoreState): void {
  const { orphans } = state;
  const { settled, released, forgotten } = orphans;
  if (settled === 0 && forgotten === 0) return;
  state.options.logger.info(
    { settled, released, forgotten },
    `${SOURCE}: ${settled} claims whose answer was lost are settled (${released} still held, released now)` +
      (forgotten > 0 ? `; ${forgotten} more were forgotten (maxOrphanedClaims)` : ''),
  );
  orphans.settled = 0;
  orphans.released = 0;
  orphans.forgotten = 0;
}

/** Keeps a claim whose answer was lost, and tries to release it at once. */
export function rememberOrphan(state: StoreState, token: string, redisKey: string): void {
  if (state.closed) return;
  const { orphans, options } = state;
  const { maxOrphanedClaims } = options;
  orphans.tokens.set(token, redisKey);
  if (orphans.tokens.size > maxOrphanedClaims) {
    const [oldest] = orphans.tokens.keys();
    orphans.tokens.delete(oldest!);
    if (orphans.forgotten++ === 0)
      options.logger.warn(
        { maxOrphanedClaims },
        `${SOURCE}: more than ${maxOrphanedClaims} claims without an answer; forgetting the oldest, ` +
          'whose keys then stay claimed until their lease ends',
      );
  }
  // At once: on a connection that is still open (a frozen or slow Redis), this release is queued
  // behind the claim and runs right after it when Redis resumes, before any later redelivery.
  void releaseOrphan(state, token, redisKey).then((answered) => {
    if (answered && orphans.tokens.size === 0) reportOrphans(state);
  });
}

/** Releases every orphan, 100 at a time, until Redis stops answering or none is left. */
export async function releaseOrphans(state: StoreState): Promise<void> {
  const { orphans } = state;
  if (orphans.flushing || state.closed) return;
  orphans.flushing = true;
  try {
    while (orphans.tokens.size > 0 && !state.closed) {
      const batch = [...orphans.tokens].slice(0, 100);
      const answered = await Promise.all(batch.map(([t, k]) => releaseOrphan(state, t, k)));
      // Redis is away again: stop here, the next answer or 'ready' resumes.
      if (!answered.every(Boolean)) return;
    }
    reportOrphans(state);
  } finally {
    orphans.flushing = false;
  }
}

/** At close: the orphans not yet released are dropped, and the log says so. */
export function dropOrphans(state: StoreState): void {
  const { tokens } = state.orphans;
  if (tokens.size > 0)
    state.options.logger.warn(
      { left: tokens.size },
      `${SOURCE}: closed with ${tokens.size} claims whose answer was lost; those that landed hold their keys until their lease ends`,
    );
  tokens.clear();
}
