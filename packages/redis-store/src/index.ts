export { createRedisStore, FAIL_FAST_REDIS_OPTIONS, DONE } from './redis-store';
export type { RedisStore, RedisStoreOptions } from './redis-store';
