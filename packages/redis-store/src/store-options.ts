import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ConfigError, silentLogger, type Logger } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { checkGivenClient } from './client';
import type { RedisStoreOptions } from './redis-store';

export const SOURCE = '@payhook/redis-store';

/** RedisStoreOptions checked, with their defaults: what the store's state is built from. */
export interface ResolvedStoreOptions {
  /** The client passed in, or the URL to create one from (exactly one is set). */
  readonly given: Redis | Cluster | undefined;
  readonly url: string | undefined;
  readonly redisOptions: RedisOptions | undefined;
  readonly prefix: string;
  readonly minLeaseMs: number;
  readonly minTtlMs: number;
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
  readonly onLostClaim: RedisStoreOptions['onLostClaim'];
  readonly maxOrphanedClaims: number;
}

function positiveMs(value: number | undefined, option: string): number | undefined {
  return value === undefined
    ? undefined
    : checkWholeNumber(value, 0, option, { unit: 'milliseconds', source: SOURCE });
}

function positiveCount(value: number | undefined, option: string): number | undefined {
  return value === undefined ? undefined : checkWholeNumber(value, 0, option, { source: SOURCE });
}

/** Where the client comes from: exactly one of `client` (an ioredis client) and `url`. */
function checkConnection(options: RedisStoreOptions): void {
  const { client: given, url } = options;
  if (given && url !== undefined)
    throw new ConfigError('client', 'and url are exclusive: give one', { source: SOURCE });
  if (!given && (typeof url !== 'string' || url.length === 0))
    throw new ConfigError('url', 'or client is required (an ioredis client or a redis:// URL)', {
      source: SOURCE,
    });
  checkGivenClient(given, SOURCE);
}

/** Checks every option at construction (a ConfigError names the first wrong one). */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedStoreOptions {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'must be an object with client or url, and prefix', {
      source: SOURCE,
    });
  checkConnection(options);
  const prefix = options.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new ConfigError('prefix', 'is required, e.g. "payhook:shop-1:"', { source: SOURCE });
  const minLeaseMs = positiveMs(options.leaseMs, 'leaseMs') ?? 0;
  const minTtlMs = positiveMs(options.ttlMs, 'ttlMs') ?? 0;
  if (minLeaseMs > 0 && minTtlMs > 0 && minTtlMs < minLeaseMs)
    throw new ConfigError('ttlMs', 'must be at least leaseMs', { source: SOURCE });
  return {
    given: options.client,
    url: options.url,
    redisOptions: options.redisOptions,
    prefix,
    minLeaseMs,
    minTtlMs,
    commandTimeoutMs: positiveMs(options.commandTimeoutMs, 'commandTimeoutMs') ?? 1_000,
    logger: options.logger ?? silentLogger,
    onLostClaim: options.onLostClaim,
    maxOrphanedClaims: positiveCount(options.maxOrphanedClaims, 'maxOrphanedClaims') ?? 10_000,
  };
}
