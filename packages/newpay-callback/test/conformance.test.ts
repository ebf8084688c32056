import { generateKeyPairSync } from 'node:crypto';
import { runProviderConformance } from '@payhook/core/testing';
import { jsonNumber } from '@payhook/core/plugin';
import { createNewpayProvider } from '../src';
import { signV1Callback, signV2Callback } from '../src/signing';
import {
  keys,
  platformPublicPem,
  providerOptions,
  V2_ENVELOPE_TIME,
  V1_TIME,
  V2_PAYTIME,
  DOC_V1_TIMESTAMP,
  vientiane,
  v1Payment,
  v1Refund,
  v2Payment,
  v2Refund,
} from './helpers';

const platform = keys.platform.privateKey;
// NewPay's sandbox signs with a platform key of its own, tagged `{ key, mode: 'test' }`.
const sandbox = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sandboxPem = sandbox.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const v2 = (data: Parameters<typeof signV2Callback>[0], key = platform) =>
  signV2Callback(data, key, { timestamp: V2_ENVELOPE_TIME });

runProviderConformance({
  name: 'NewPay v1 callbacks',
  provider: () => createNewpayProvider(providerOptions()),
  valid: signV1Callback(v1Payment(), platform),
  expected: [
    {
      id: 'newpay:202209210000006950:completed',
      type: 'payment.completed',
      orderId: '202209067002502223',
      transactionId: '202209210000006950',
      amount: '123.00',
      currency: 'LAK',
      occurredAt: vientiane(V1_TIME),
    },
  ],
  wrongKey: signV1Callback(v1Payment(), keys.stranger.privateKey),
  // Signed by NewPay's key but not a payload NewPay sends: the amount is not a decimal.
  malformed: signV1Callback(v1Payment({ orderAmt: jsonNumber('1e3') }), platform),
  // A refused refund (tranStatus 0) is genuine but leaves the payment as it was.
  notPaymentEvent: signV1Callback(v1Refund('0'), platform),
  // The doc sample exactly as published: its signed timestamp is from 2022.
  stale: signV1Callback(v1Payment({ timestamp: jsonNumber(DOC_V1_TIMESTAMP) }), platform),
  testMode: {
    provider: () =>
      createNewpayProvider(
        providerOptions({
          platformPublicKey: [platformPublicPem, { key: sandboxPem, mode: 'test' }],
          allowTestMode: true,
        }),
      ),
    valid: signV1Callback(v1Payment(), sandbox.privateKey),
  },
});

runProviderConformance({
  name: 'NewPay v2 callbacks',
  provider: () => createNewpayProvider(providerOptions()),
  valid: v2(v2Payment()),
  expected: [
    {
      id: 'newpay:NP20250102000000123:completed',
      type: 'payment.completed',
      orderId: 'M20250102001',
      transactionId: 'NP20250102000000123',
      amount: '15000.00',
      currency: 'LAK',
      occurredAt: vientiane(V2_PAYTIME),
    },
  ],
  wrongKey: v2(v2Payment(), keys.stranger.privateKey),
  malformed: v2(v2Payment({ orderAmt: { value: 'lots', currency: 'LAK' } })),
  // Flip a digit of the signed paytime, not of the unsigned envelope.
  tamper: (valid) => ({
    ...valid,
    body: String(valid.body).replace(`"paytime":${V2_PAYTIME}`, `"paytime":${V2_PAYTIME + 1}`),
  }),
  // A signed paytime 30 days old, in a fresh (unsigned) envelope.
  stale: v2(v2Payment({ paytime: jsonNumber(String(V2_PAYTIME - 30 * 86_400_000)) })),
  notPaymentEvent: v2(v2Refund({ refundStatus: 'FAIL' })),
});
