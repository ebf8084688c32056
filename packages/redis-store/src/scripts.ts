import { createHash } from 'node:crypto';
import { StoreError } from '@payhook/core';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script with its SHA1, so calls send the hash and fall back to the source when needed. */
export interface Script {
  source: string;
  sha: string;
}

export const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/**
 * Runs a script on its key (or keys, which a Cluster needs in one hash slot) by its SHA (or by
 * source, `withSource`), bounded by `timeoutMs`: the client's own settings may queue commands while
 * Redis is away (a client passed in with ioredis defaults), and this bound makes every call settle,
 * so a delivery never hangs.
 */
export async function evalScript(
  client: Redis | Cluster,
  { sha, source }: Script,
  key: string | readonly string[],
  args: string[],
  timeoutMs: number,
  withSource = false,
): Promise<unknown> {
  const keys = typeof key === 'string' ? [key] : key;
  const call = async (): Promise<unknown> => {
    if (withSource) return client.eval(source, keys.length, ...keys, ...args);
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      // A fresh server (restart, failover to a replica) has an empty script cache.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(source, keys.length, ...keys, ...args);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([call(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the client is connected; rejects with a StoreError after `timeoutMs`. */
export function waitForReady(
  client: Redis | Cluster,
  timeoutMs: number,
  closed: boolean,
  what: string,
  source: string,
): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (closed || client.status === 'end')
    return Promise.reject(new StoreError('connect', new Error(`the ${what} is closed`), source));
  return new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(
        new StoreError('connect', new Error(`Redis was not ready within ${timeoutMs} ms`), source),
      );
    }, timeoutMs);
    client.once('ready', onReady);
  });
}
