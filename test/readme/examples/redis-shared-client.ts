// packages/redis-store/README.md, a client you already have: the block there is the region
// below, byte for byte (test/readme/readme-examples.test.ts checks it and runs it against Redis).
// #region readme
import { Redis } from 'ioredis';
import { createRedisStore, FAIL_FAST_REDIS_OPTIONS } from '@payhook/redis-store';

const client = new Redis(process.env.REDIS_URL!, {
  ...FAIL_FAST_REDIS_OPTIONS,
  commandTimeout: 1_000,
});
const store = createRedisStore({ client, prefix: 'payhook:shop-1:' });
// #endregion

export { client, store };
