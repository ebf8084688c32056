// packages/inspector/README.md, "Mount": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs this file against real HTTP).
// #region readme
import express from 'express';
import { createMemoryInbox, createPaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';
import { createInspector, createPayhookMetrics } from '@payhook/inspector';

const metrics = createPayhookMetrics({ providers: ['cashy'] });
const hub = createPaymentHub({ inbox: metrics.inbox(createMemoryInbox()) });
metrics.watch(hub);
hub.on(
  'payment.completed',
  metrics.timed(async (event) => console.log('paid', event.orderId)),
);

const cashy = createPayinMiddleware(hub, {
  merchantId: process.env.CASHY_MERCHANT_ID!,
  apiKey: process.env.CASHY_API_KEY!,
});
const auth = {
  basic: [{ username: 'ops', password: process.env.INSPECTOR_PASSWORD!, write: true }],
};

const app = express();
app.use('/webhooks/cashy', cashy);
app.use('/payhook', createInspector({ hub, auth, providers: [cashy] }));
app.get('/metrics', metrics.handler); // behind your network's own rules, like any /metrics
app.listen(Number(process.env.PORT ?? 3000));
// #endregion
