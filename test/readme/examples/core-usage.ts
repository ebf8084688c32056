// packages/core/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub, createWebhookMiddleware } from '@payhook/core';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { db } from './db'; // your own code

const hub = createPaymentHub({ handlerTimeoutMs: 8_000 });
hub.on('payment.completed', async (event, { signal }) => {
  await db.orders.markPaid(event.orderId, event.amount, { eventId: event.id, signal });
});
hub.on('unhandled', ({ provider, reason }) =>
  console.info('not a payment event', provider, reason),
);
hub.on('error', (error, { provider, event }) => console.warn(error.code, provider, event?.id));

const newpay = createNewpayProvider({
  platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!,
  appId: process.env.NEWPAY_APP_ID!,
});
const app = express();
// Every plugin exports a ready-made middleware (here createNewpayMiddleware); this is what it
// does underneath:
app.use('/webhooks/newpay', createWebhookMiddleware(hub, newpay, { limit: 65_536 }));
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
