import type { ConformanceFixtures } from '@payhook/core/testing';
import { createAcmeProvider } from '../src';
import { signAcme } from '../src/signing';

const charge = {
  event: 'charge.succeeded',
  charge_id: 'ch_1',
  order_ref: 'A-1',
  amount_cents: 50010,
  currency: 'PHP',
  created_at: '2025-01-02 10:00:00',
};

export const acmeConformance: ConformanceFixtures = {
  name: 'acme',
  provider: () => createAcmeProvider({ secret: 'test-secret' }),
  valid: signAcme(charge, 'test-secret'),
  expected: [
    {
      type: 'payment.completed',
      id: 'acme:ch_1:payment.completed',
      amount: '500.10',
      transactionId: 'ch_1',
      orderId: 'A-1',
      occurredAt: '2025-01-02T10:00:00+08:00',
    },
  ],
  wrongKey: signAcme(charge, 'not-the-secret'),
  malformed: signAcme('{"event":', 'test-secret'),
  notPaymentEvent: signAcme({ ...charge, event: 'payout.paid' }, 'test-secret'),
};
