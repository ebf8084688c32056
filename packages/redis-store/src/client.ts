import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { ConfigError } from '@payhook/core';

/**
 * ioredis settings for a store that must fail fast: ioredis's defaults queue commands while Redis is
 * away and retry them 20 times per reconnect, so a delivery would hang until the gateway times out
 * instead of getting its retry answer. Applied to the client the store creates from `url`; use them
 * when you build the client yourself.
 */
export const FAIL_FAST_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  // A command issued while disconnected is refused at once instead of waiting for a reconnect.
  enableOfflineQueue: false,
  // Commands in flight when the connection drops are refused at the first reconnect attempt...
  maxRetriesPerRequest: 0,
  // ...and never replayed later: a claim the store already reported as failed must not land after.
  autoResendUnfulfilledCommands: false,
  connectTimeout: 2_000,
  // close() during an outage: ioredis keeps a 2 s timer for a socket that is already gone.
  disconnectTimeout: 200,
  // Keep reconnecting, with a capped backoff, so the store recovers by itself when Redis returns.
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
});

/** Refuses a `client` option that is not an ioredis Redis or Cluster (it has no evalsha). */
export function checkGivenClient(given: unknown, source: string): void {
  if (given && typeof (given as Redis).evalsha !== 'function')
    throw new ConfigError('client', 'must be an ioredis Redis or Cluster client', { source });
}

/** The client made from `url`: fail-fast settings, our timeout, then the caller's options. */
export function createOwnedClient(
  url: string,
  commandTimeoutMs: number,
  redisOptions: RedisOptions | undefined,
): Redis {
  return new Redis(url, {
    ...FAIL_FAST_REDIS_OPTIONS,
    commandTimeout: commandTimeoutMs,
    ...redisOptions,
  });
}

/** How long close waits for the client's 'end' before it stops waiting. */
const CLOSE_WAIT_MS = 1_000;

/**
 * Closes a client made from `url`, resolving once its socket is gone, or after CLOSE_WAIT_MS: a
 * client between two reconnect attempts has no socket left to close, so ioredis may never emit
 * 'end' for it (a test's cleanup once waited past a minute for that, on a Redis that had been
 * SIGKILLed and restarted).
 */
export async function closeOwnedClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return;
  // quit() resolves on Redis's OK, before the socket is gone: wait for 'end' so nothing is left open.
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    client.once('end', () => resolve());
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
  });
  if (client.status === 'ready') {
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  } else client.disconnect();
  await ended;
  clearTimeout(timer);
}
