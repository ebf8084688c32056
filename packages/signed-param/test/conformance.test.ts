import { runProviderConformance } from '@payhook/core/testing';
import { createSignedParamProvider } from '../src';
import { SEED_002_PARAM, payoutParam, platformPublicBase64, signed, stranger } from './helpers';

// The genuine delivery is the doc example of the dynamic-order "3.2.3 Payment Notification"
// (docs.paycools.com/en/v2), signed with the test platform key.
const valid = signed(SEED_002_PARAM);
const expected = (provider: string) => [
  {
    type: 'payment.completed' as const,
    id: `${provider}:order.payment.success:C1032653961085706055`,
    orderId: 'Platform653350151938813',
    transactionId: 'C1032653961085706055',
    amount: '50000',
    currency: 'IDR',
    occurredAt: '2023-01-01T09:40:06+07:00',
    verification: 'signature' as const,
  },
];

for (const id of [undefined, 'paycools']) {
  runProviderConformance({
    name: `@payhook/signed-param (id ${id ?? 'default'})`,
    provider: () => createSignedParamProvider({ platformPublicKey: platformPublicBase64, id }),
    valid,
    expected: expected(id ?? 'signed-param'),
    wrongKey: signed(SEED_002_PARAM, stranger.privateKey),
    // Authentic (signed by the platform key) but param is not JSON.
    malformed: signed('eventName=order.payment.success&amount=50000'),
    notPaymentEvent: signed(payoutParam()),
  });
}
