// packages/redis-store/README.md, awaited payments on Redis: the block there is the region below,
// byte for byte (test/readme/readme-examples.test.ts checks it and runs it against Redis).
// #region readme
import { createPaymentHub } from '@payhook/core';
import { createRedisAwaitedList, createRedisStore } from '@payhook/redis-store';

const store = createRedisStore({ url: process.env.REDIS_URL!, prefix: 'payhook:shop-1:' });
const awaited = createRedisAwaitedList({ store }); // the store's client and prefix
// The sweeper starts as soon as a gateway is mounted on the hub; it asks every instance's payments.
const hub = createPaymentHub({ store, awaited: { list: awaited } });
// #endregion

export { awaited, hub, store };
