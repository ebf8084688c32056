import { createPaymentHub, type PaymentProvider } from '@payhook/core';
import { createTestProvider, type TestPayload } from '@payhook/core/testing';

// A status answer's time is checked as of the answer: a payment completed while the query was on
// its way is dated after the query started, which read as "ahead of this server's clock" with no
// clock skew allowed (a fresh payment refused 401 ERR_DELIVERY_STALE).
it('reconcile accepts a payment paid while its status query ran (maxAgeMs set, no clock skew)', async () => {
  const gateway: PaymentProvider<TestPayload> = {
    ...createTestProvider(),
    maxAgeMs: 60_000,
    async fetchStatus(reference) {
      await new Promise((r) => setTimeout(r, 30));
      const paidAt = new Date().toISOString();
      return [
        {
          id: `${reference}:paid`,
          type: 'payment.completed' as const,
          orderId: 'O1',
          transactionId: reference,
          amount: '10.00',
          currency: 'LAK',
          occurredAt: paidAt,
        },
      ];
    },
  };
  const hub = createPaymentHub();
  let paid = 0;
  hub.on('payment.completed', () => void paid++);
  const result = await hub.reconcile(gateway, 'T-DURING');
  expect([result.outcome, result.error?.code, paid]).toEqual(['processed', undefined, 1]);
});
