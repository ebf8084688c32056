export { createRedisStore, FAIL_FAST_REDIS_OPTIONS, DONE } from './redis-store';
export type { RedisStore, RedisStoreOptions } from './redis-store';
export { createRedisAwaitedList } from './awaited-list';
export type { RedisAwaitedList, RedisAwaitedListOptions } from './awaited-list';
export type { AwaitedKeyPart } from './awaited-scripts';
