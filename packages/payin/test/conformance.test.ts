import { runProviderConformance } from '@payhook/core/testing';
import { createPayinProvider } from '../src';
import {
  COMPLETED_AT,
  DOC_SAMPLE_BODY,
  OTHER_KEY,
  baseOptions,
  payinWebhook,
  signed,
} from './fixtures';

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
      occurredAt: COMPLETED_AT,
      verification: 'signature',
      keyIndex: 0,
    },
  ],
  wrongKey: payinWebhook({}, { apiKey: OTHER_KEY }),
  // Genuinely signed, completed in 2022 (the doc sample): older than the 24 h maximum age.
  stale: signed(DOC_SAMPLE_BODY),
  // correctly signed, but cut short: not JSON
  malformed: signed('{"orderStatus":"SUCCESS","amount":100.10,'),
  notPaymentEvent: payinWebhook({ orderStatus: 'REVERSED' }),
});
