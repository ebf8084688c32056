// packages/core/README.md, "Awaited payments": the block there is the region below, byte for byte
// (test/readme/readme-examples.test.ts checks it and runs it against a Cashy status API on 127.0.0.1).
import { createPaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';

export const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
export const cashy = createPayinMiddleware(hub, {
  merchantId: process.env.CASHY_MERCHANT_ID!,
  apiKey: process.env.CASHY_API_KEY!,
  currency: 'IDR',
  statusQuery: { baseUrl: process.env.CASHY_API_URL! }, // the status query (payInQuery)
});
export const cancelled: string[] = [];
const cancelOrder = (orderId: string | null) => void cancelled.push(String(orderId));

// #region readme
const order = { id: 'C-3004', until: Date.now() + 3_600_000 }; // an hour to pay
const awaiting = hub.expectPayment(cashy.provider, { orderId: order.id, until: order.until });
hub.on('awaited.overdue', (p) => cancelOrder(p.orderId)); // a notice, not a payment event
// #endregion

export { awaiting };
