import { runProviderConformance } from '../src/testing';
import { createTestProvider, signedDelivery } from './hmac-provider';

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
    return { body, headers: { 'x-test-signature': require('./hmac-provider').sign(body) } };
  })(),
  notPaymentEvent: signedDelivery({ event: 'payout' }),
});
