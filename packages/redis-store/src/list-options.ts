import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ConfigError } from '@payhook/core';
import { checkGivenClient } from './client';
import type { RedisStore } from './redis-store';

/** Where the awaited list gets its client and prefix: a store, a client or a URL. */
export interface ListConnectionOptions {
  store?: Pick<RedisStore, 'client' | 'prefix'>;
  client?: Redis | Cluster;
  url?: string;
  redisOptions?: RedisOptions;
  prefix?: string;
}

/** Exactly one of a store, a client and a URL. */
export function checkConnection(options: ListConnectionOptions, source: string): void {
  const { store, url } = options;
  const sources = [store, options.client, url].filter((v) => v !== undefined).length;
  if (sources > 1)
    throw new ConfigError('store', '(or client, or url): give only one of them', { source });
  if (sources === 0) throw new ConfigError('store', 'or client or url is required', { source });
  if (store !== undefined && (!store || !store.client || typeof store.prefix !== 'string'))
    throw new ConfigError('store', 'must come from createRedisStore()', { source });
  if (url !== undefined && (typeof url !== 'string' || url.length === 0))
    throw new ConfigError('url', 'must be a redis:// or rediss:// URL', { source });
  checkGivenClient(store?.client ?? options.client, source);
}

/** The store's prefix, or `prefix`: required, and not a second one beside a store's. */
export function listPrefix(options: ListConnectionOptions, source: string): string {
  const { store } = options;
  if (store !== undefined && options.prefix !== undefined && options.prefix !== store.prefix)
    throw new ConfigError('prefix', "is the store's when store is given", { source });
  const prefix = store?.prefix ?? options.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new ConfigError('prefix', 'is required, e.g. "payhook:shop-1:"', { source });
  return prefix;
}

/** What a list's name may be: it goes into Redis keys (and, for the awaited list, a hash tag). */
export const LIST_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
