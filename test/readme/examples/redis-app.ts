// packages/redis-store/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP and Redis).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createRedisStore } from '@payhook/redis-store';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { db } from './db'; // your own code

const store = createRedisStore({ url: process.env.REDIS_URL!, prefix: 'payhook:shop-1:' });

const hub = createPaymentHub({ store, handlerTimeoutMs: 8_000, leaseMs: 30_000 });
hub.on('payment.completed', async (event, { signal }) => {
  // Keyed on event.id, so that the rare second delivery (see Guarantees) changes nothing.
  await db.orders.markPaid(event.orderId, event.amount, { eventId: event.id, signal });
});
hub.on('error', (error, { event }) => console.warn(error.code, event?.id, error.message));

const app = express();
app.use(
  '/webhooks/newpay',
  createNewpayMiddleware(hub, {
    platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!,
    appId: process.env.NEWPAY_APP_ID!,
  }),
);

// Fail the boot, not the first payment, when Redis is unreachable.
store.ready().then(
  () => {
    const server = app.listen(Number(process.env.PORT ?? 3000));
    process.once('SIGTERM', () => server.close(() => void store.close()));
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
// #endregion
