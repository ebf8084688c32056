// README.md, "Use it in your app": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { orders } from './orders'; // your own code

const hub = createPaymentHub(); // in-memory store; see @payhook/redis-store
// event.id is the same on every redelivery of a fact: key your writes on it, so that a crash after
// your write and before payhook records the event (which runs the listener again) changes nothing.
hub.on('payment.completed', async (event) => {
  // event.amount is an exact decimal string ("500.10"); event.raw is NewPay's own payload
  await orders.markPaid(event.id, event.orderId, event.amount, event.currency);
});
hub.on('payment.failed', async (event) =>
  orders.markFailed(event.id, event.orderId, event.failure),
);
hub.on('payment.refunded', async (event) =>
  orders.refund(event.id, event.orderId, event.refund!.amount),
);

const app = express();
app.use(
  '/webhooks/newpay',
  createNewpayMiddleware(hub, {
    platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!, // PEM or bare Base64 DER
    appId: process.env.NEWPAY_APP_ID!,
  }),
);
app.use(express.json()); // your own routes' parser, after payhook
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
