// packages/newpay-callback/README.md, reconciliation: the block there is the region below, byte
// for byte (test/readme/readme-examples.test.ts checks it and runs it against a local uniQueryPay).
// #region readme
import { createPaymentHub } from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';

const hub = createPaymentHub();
hub.on('payment.completed', async (event) =>
  console.log('paid', event.orderId, event.verification),
);

const newpay = createNewpayMiddleware(hub, {
  platformPublicKey: process.env.NEWPAY_PLATFORM_PUBLIC_KEY!,
  appId: process.env.NEWPAY_APP_ID!,
  statusQuery: {
    mchId: process.env.NEWPAY_MCH_ID!,
    merchantPrivateKey: process.env.NEWPAY_MERCHANT_KEY!,
    baseUrl: process.env.NEWPAY_API_BASE, // unset: https://prod-openapi-v2.newpay.la/beta/pay
  },
});
// app.use('/callbacks/newpay', newpay) as above; then, for an order still open after the last retry:
export async function reconcile(newpayOrderNo: string) {
  const { outcome } = await hub.reconcile(newpay.provider, newpayOrderNo);
  return outcome; // 'processed', 'duplicate' (the callback came), 'pending', 'unhandled' (unknown)...
}
// #endregion

export { hub, newpay };
