import type { Logger } from '../logger';
import type { IdempotencyStore } from '../store';

/**
 * Renews the claim every leaseMs / 3 while a timed-out listener runs, so that only a process that
 * dies lets the lease lapse. A store without `renew` cannot: the lease then lapses after leaseMs.
 * Returns the function that stops renewing.
 */
export function keepLease(
  store: IdempotencyStore<unknown>,
  key: string,
  token: string,
  leaseMs: number,
  logger: Logger,
): () => void {
  const renew = store.renew?.bind(store);
  if (!renew) {
    logger.warn(
      { key },
      '@payhook/core: the store cannot renew a claim; the lease lapses after leaseMs',
    );
    return () => {};
  }
  const renewOnce = (): void => {
    renew(key, token, leaseMs).then(
      (held) => {
        if (!held) {
          clearInterval(timer);
          logger.warn({ key }, '@payhook/core: a timed-out listener lost its claim');
        }
      },
      (error: unknown) => logger.warn({ key, err: error }, '@payhook/core: lease renewal failed'),
    );
  };
  // Every third of a lease, and at once: the handler timeout may be close to the lease's end.
  const timer = setInterval(renewOnce, Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref?.();
  renewOnce();
  return () => clearInterval(timer);
}
