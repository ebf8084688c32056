// packages/signed-param/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createSignedParamMiddleware } from '@payhook/signed-param';

const hub = createPaymentHub();
hub.on('payment.completed', async (event) => {
  // event.amount is exact decimal text in major units: "500.10" PHP, "50000" IDR
  console.log(
    `order ${event.orderId} paid ${event.amount} ${event.currency} (${event.transactionId})`,
  );
});
hub.on('payment.failed', (event) =>
  console.log(`order ${event.orderId} failed: ${event.failure?.code} ${event.failure?.message}`),
);
hub.on('payment.refunded', (event) =>
  console.log(
    `refund ${event.refund?.refundId} of ${event.refund?.amount} on ${event.transactionId}`,
  ),
);
hub.on('unhandled', ({ reason }) => console.info('acknowledged, not a payment:', reason));
hub.on('error', (error) => console.warn(error.code, error.message));

const app = express();
// Mount it before express.json(): the signature covers param exactly as sent.
app.use(
  '/webhooks/paycools',
  createSignedParamMiddleware(hub, {
    id: 'paycools',
    platformPublicKey: process.env.PLATFORM_PUBLIC_KEY!, // Base64 DER as the portal gives it, or PEM
    country: 'PH', // your account's country: needed for refunds, which name no currency
  }),
);
app.use(express.json()); // the rest of your app
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
