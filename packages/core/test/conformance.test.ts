import { runProviderConformance } from '../src/testing';
import { createTestProvider, sign, signedDelivery } from '../src/testing';

const valid = signedDelivery();
runProviderConformance({
  name: 'core test gateway (HMAC)',
  provider: () => createTestProvider(),
  valid,
  expected: [
    {
      type: 'payment.completed',
      id: 'test-gateway:T1:paid',
      amount: '500.10',
      orderId: 'O1',
      transactionId: 'T1',
      currency: 'LAK',
    },
  ],
  wrongKey: signedDelivery({}, 'another-secret'),
  malformed: (() => {
    const body = '{"event":"payment","txn":';
    return { body, headers: { 'x-test-signature': sign(body) } };
  })(),
  notPaymentEvent: signedDelivery({ event: 'payout' }),
});
