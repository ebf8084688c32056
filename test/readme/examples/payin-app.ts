// packages/payin/README.md, "Usage": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';

const hub = createPaymentHub();
hub.on('payment.completed', async (event) => {
  // PATCH (replenishment) orders arrive as their own payment on the original order
  const kind = event.details?.isPatch ? `top-up #${event.details.serial ?? '?'}` : 'payment';
  console.log(`${kind} for order ${event.orderId}: ${event.amount} ${event.currency}`);
});
hub.on('payment.failed', (event) =>
  console.log(`order ${event.orderId} failed: ${event.failure?.code}`),
);
hub.on('error', (error) => console.warn(error.code, error.message));

const app = express();
// Mount it before express.json(): the Sign covers the raw bytes.
app.use(
  '/webhooks/cashy',
  createPayinMiddleware(hub, {
    merchantId: process.env.CASHY_MERCHANT_ID!,
    apiKey: process.env.CASHY_API_KEY!,
    timeZone: 'Asia/Jakarta', // the zone of your Cashy country's completionTime
    currency: 'IDR',
  }),
);
app.use(express.json()); // the rest of your app
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
