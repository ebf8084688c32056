import {
  defineProvider,
  hmacSha256Hex,
  parseJson,
  SignatureError,
  timingSafeEqualHex,
  type PaymentProvider,
} from '@payhook/core';

/**
 * A trimmed copy of core's test gateway (packages/core/test/hmac-provider.ts): HMAC-SHA256 of the
 * raw body in `x-test-signature`, success body {"ok":true}, retry 503 {"ok":false}. Copied because
 * a package must not import another package's test folder.
 */
export interface TestPayload {
  txn: string;
  amount: string;
  status: 'PAID' | 'FAILED';
  at: string;
}

export const TEST_SECRET = 'redis-store-test-secret';
const SOURCE = '@payhook/test-gateway';

export function signedDelivery(payload: Partial<TestPayload> = {}): {
  body: string;
  headers: Record<string, string>;
} {
  const body = JSON.stringify({
    txn: 'T1',
    amount: '500.10',
    status: 'PAID',
    at: '2025-01-02T03:04:05+07:00',
    ...payload,
  });
  const signature = hmacSha256Hex(TEST_SECRET, body);
  return { body, headers: { 'x-test-signature': signature } };
}

export function createTestProvider(): PaymentProvider<TestPayload> {
  return defineProvider<TestPayload>({
    id: 'test-gateway',
    source: SOURCE,
    schema: {
      type: 'object',
      required: ['txn', 'amount', 'status', 'at'],
      properties: {
        txn: { type: 'string', minLength: 1 },
        amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
        status: { enum: ['PAID', 'FAILED'] },
        at: { type: 'string' },
      },
    },
    verify(delivery) {
      const header = delivery.headers['x-test-signature'];
      if (typeof header !== 'string')
        throw new SignatureError('x-test-signature header is missing', {
          code: 'ERR_SIGNATURE_MISSING',
          source: SOURCE,
        });
      const expected = hmacSha256Hex(TEST_SECRET, delivery.body);
      if (!timingSafeEqualHex(expected, header))
        throw new SignatureError('signature does not match the body', { source: SOURCE });
      return parseJson(delivery.body, { source: SOURCE }) as TestPayload;
    },
    normalize(raw) {
      const base = {
        orderId: null,
        transactionId: raw.txn,
        amount: raw.amount,
        currency: 'LAK',
        occurredAt: raw.at,
      };
      return raw.status === 'PAID'
        ? [{ ...base, id: `${raw.txn}:paid`, type: 'payment.completed' as const }]
        : [
            {
              ...base,
              id: `${raw.txn}:failed`,
              type: 'payment.failed' as const,
              failure: { code: 'DECLINED' },
            },
          ];
    },
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
  });
}
