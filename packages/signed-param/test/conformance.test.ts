import { runProviderConformance } from '@payhook/core/testing';
import { createSignedParamProvider } from '../src';
import {
  RETURN_TIME,
  DOC_EXAMPLE_PARAM,
  freshDocParam,
  payoutParam,
  platformPublicBase64,
  signed,
  stranger,
  wallTime,
} from './helpers';

// The genuine delivery is the doc example of the dynamic-order "3.2.3 Payment Notification"
// (docs.paycools.com/en/v2) with fresh times, signed with the test platform key. The example as
// the doc prints it (signed in 2023) is the stale delivery.
const valid = signed(freshDocParam());
const expected = (provider: string) => [
  {
    type: 'payment.completed' as const,
    id: `${provider}:order.payment.success:C1032653961085706055`,
    orderId: 'Platform653350151938813',
    transactionId: 'C1032653961085706055',
    amount: '50000',
    currency: 'IDR',
    // ID_BCA_VA: the time is read on a Jakarta clock.
    occurredAt: `${RETURN_TIME.replace(' ', 'T')}+07:00`,
    verification: 'signature' as const,
    keyIndex: 0,
  },
];

for (const id of [undefined, 'paycools']) {
  runProviderConformance({
    name: `@payhook/signed-param (id ${id ?? 'default'})`,
    provider: () =>
      createSignedParamProvider({ platformPublicKey: platformPublicBase64, country: 'PH', id }),
    valid,
    expected: expected(id ?? 'signed-param'),
    wrongKey: signed(freshDocParam(), stranger.privateKey),
    stale: signed(DOC_EXAMPLE_PARAM),
    // Authentic (signed by the platform key) but param is not JSON.
    malformed: signed('eventName=order.payment.success&amount=50000'),
    notPaymentEvent: signed(payoutParam({ createTime: wallTime(60_000), returnTime: wallTime(0) })),
  });
}
