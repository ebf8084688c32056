// packages/postgres/README.md, "Async mode": the block there is the region below, byte for byte
// (type-checked with the repository; the async tests run the same calls on real PostgreSQL).
// #region readme
import express from 'express';
import { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import {
  attachQueue,
  createPaymentQueue,
  createPostgresStore,
  startWorker,
} from '@payhook/postgres';

const pool = new Pool({ connectionString: process.env.DATABASE_URL });
const hub = createPaymentHub({ store: createPostgresStore({ pool }) });

// Async dispatch: the hub verifies, claims, records the event as pending and commits, then
// answers NewPay at once. Retries run for about a day (retryLimit 12, from 15 s, doubling).
const queue = createPaymentQueue({ pool });
attachQueue(hub, queue);

// The merchant's listeners go on the queue; `tx` is the attempt's transaction: the write and the
// event's done mark commit together, or roll back together and the attempt is retried.
queue.on('payment.completed', async (event, { tx }) => {
  await tx.query('UPDATE orders SET paid_at = now() WHERE id = $1', [event.orderId]);
});
queue.on('dead', (letter) => console.error('gave up on', letter.eventId, letter.error?.message));

const app = express();
app.use(
  '/callbacks/newpay',
  createNewpayMiddleware(hub, {
    platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!,
    appId: process.env.NEWPAY_APP_ID!,
  }),
);
app.listen(Number(process.env.PORT ?? 3000));

// In the web process, or on their own machines with `payhook-postgres worker --listeners ./listeners.js`.
const worker = startWorker(queue, { concurrency: 4 });
process.once('SIGTERM', () => void worker.stop().then(() => pool.end()));
// #endregion
