import { runProviderConformance } from '@payhook/core/testing';
import { createPayinProvider } from '../src';
import { OTHER_KEY, baseOptions, payinWebhook, signed } from './fixtures';

runProviderConformance({
  name: 'Cashy payin (@payhook/payin)',
  provider: () => createPayinProvider({ ...baseOptions, currency: 'IDR' }),
  valid: payinWebhook(),
  expected: [
    {
      id: 'cashy:PAYIN8232154612109344768:completed',
      type: 'payment.completed',
      orderId: 'M1656908719283',
      transactionId: 'PAYIN8232154612109344768',
      amount: '100.10',
      currency: 'IDR',
      occurredAt: '2022-08-08T08:08:08+07:00',
      verification: 'signature',
    },
  ],
  wrongKey: payinWebhook({}, { apiKey: OTHER_KEY }),
  // correctly signed, but cut short: not JSON
  malformed: signed('{"orderStatus":"SUCCESS","amount":100.10,'),
  notPaymentEvent: payinWebhook({ orderStatus: 'REVERSED' }),
});
