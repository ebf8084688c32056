// packages/signed-param/README.md, "Reconciliation: fetchStatus": the block there is the region
// below, byte for byte (test/readme/readme-examples.test.ts checks it and runs it against a local
// platform API).
// #region readme
import { createPaymentHub } from '@payhook/core';
import { createSignedParamMiddleware } from '@payhook/signed-param';

const hub = createPaymentHub();
hub.on('payment.completed', async (event) =>
  console.log('paid', event.orderId, event.verification),
);

const paycools = createSignedParamMiddleware(hub, {
  id: 'paycools',
  platformPublicKey: process.env.PLATFORM_PUBLIC_KEY!,
  country: 'PH',
  statusQuery: {
    baseUrl: process.env.PLATFORM_API_BASE!, // the API origin your platform account gives you
    appId: process.env.PLATFORM_APP_ID!,
    merchantPrivateKey: process.env.MERCHANT_PRIVATE_KEY!,
  },
});
// app.use('/webhooks/paycools', paycools) as above; then, for a payment whose notice never came:
export async function reconcile(transactionId: string) {
  const { outcome } = await hub.reconcile(paycools.provider, transactionId);
  return outcome; // 'processed', 'duplicate' (the notification came), 'pending', 'unhandled'...
}
// #endregion

export { hub, paycools };
