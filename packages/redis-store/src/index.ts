export { createRedisStore, FAIL_FAST_REDIS_OPTIONS, DONE } from './redis-store';
export type { RedisStore, RedisStoreOptions } from './redis-store';
export { createRedisWatchList } from './watch-list';
export type { RedisWatchList, RedisWatchListAddResult, RedisWatchListOptions } from './watch-list';
export { createRedisAwaitedList } from './awaited-list';
export type { RedisAwaitedList, RedisAwaitedListOptions } from './awaited-list';
export type { AwaitedKeyPart } from './awaited-scripts';
