// packages/core/README.md, "A body parser first": the block there is the region below, byte for
// byte (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createPaymentHub, keepRawBody } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';

const hub = createPaymentHub();
hub.on('payment.completed', (event) => console.log('paid', event.orderId, event.amount));

const app = express();
// A parser mounted before payhook, for the whole app: keepRawBody keeps the exact bytes on
// req.rawBody, and the middleware verifies those.
app.use(express.json({ verify: keepRawBody }));
app.use(
  '/webhooks/cashy',
  createPayinMiddleware(hub, {
    merchantId: process.env.CASHY_MERCHANT_ID!,
    apiKey: process.env.CASHY_API_KEY!,
    currency: 'IDR',
  }),
);
app.post('/api/orders', (req, res) => {
  res.json({ received: req.body }); // your routes get the parsed body as usual
});
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
