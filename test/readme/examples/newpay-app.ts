// packages/newpay-callback/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';

const hub = createPaymentHub();

hub.on('payment.completed', async (event) => {
  // event.amount is an exact decimal string ("123.00"), event.transactionId the newpayOrderNo
  console.log('paid', event.orderId, event.amount, event.currency);
});
hub.on('payment.failed', async (event) => console.log('failed', event.orderId, event.failure));
hub.on('payment.refunded', async (event) => console.log('refunded', event.refund));
hub.on('unhandled', (u) => console.log('not a payment event:', u.reason));

const app = express();
// Mount before express.json(): the signature is checked on the bytes NewPay sent.
app.use(
  '/callbacks/newpay',
  createNewpayMiddleware(hub, {
    platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!, // PEM or bare Base64 DER
    appId: process.env.NEWPAY_APP_ID!,
  }),
);
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
