import { createHmac } from 'node:crypto';
import { SignatureError, ProviderConfigError, type PaymentProvider } from '../index';
import {
  defineProvider,
  notAPaymentEvent,
  parseJson,
  pendingPayment,
  timingSafeEqualHex,
} from '../plugin';

/**
 * A reference gateway for tests (core's own, the Redis store's, the hostile suite, and yours when
 * you test something around a provider rather than a provider itself): HMAC-SHA256 of the raw body in `x-test-signature`, a JSON
 * body {event, txn, order, amount, status}, success body {"ok":true}, retry 503 {"ok":false}.
 */
export interface TestPayload {
  event: string;
  txn: string;
  order?: string;
  amount: string;
  status: 'PAID' | 'FAILED' | 'PENDING' | 'REFUNDED';
  refundId?: string;
  at: string;
}

export const TEST_SECRET = 'test-secret-do-not-use';

export function sign(body: string, secret = TEST_SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function signedDelivery(
  payload: Partial<TestPayload> = {},
  secret = TEST_SECRET,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    event: 'payment',
    txn: 'T1',
    order: 'O1',
    amount: '500.10',
    status: 'PAID',
    at: '2025-01-02T03:04:05+07:00',
    ...payload,
  });
  return { body, headers: { 'x-test-signature': sign(body, secret) } };
}

export function createTestProvider(
  options: { secret?: string } = {},
): PaymentProvider<TestPayload> {
  const secret = options.secret ?? TEST_SECRET;
  if (!secret)
    throw new ProviderConfigError('secret', 'is required', { source: '@payhook/test-gateway' });
  return defineProvider<TestPayload>({
    id: 'test-gateway',
    source: '@payhook/test-gateway',
    schema: {
      type: 'object',
      required: ['event', 'txn', 'amount', 'status', 'at'],
      properties: {
        event: { type: 'string' },
        txn: { type: 'string', minLength: 1 },
        order: { type: 'string' },
        amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
        status: { enum: ['PAID', 'FAILED', 'PENDING', 'REFUNDED'] },
        refundId: { type: 'string' },
        at: { type: 'string' },
      },
    },
    verify(delivery) {
      const header = delivery.headers['x-test-signature'];
      if (typeof header !== 'string')
        throw new SignatureError('x-test-signature header is missing', {
          code: 'ERR_SIGNATURE_MISSING',
          source: '@payhook/test-gateway',
        });
      if (!timingSafeEqualHex(sign(delivery.body.toString('latin1'), secret), header)) {
        throw new SignatureError('signature does not match the body', {
          source: '@payhook/test-gateway',
        });
      }
      return parseJson(delivery.body, { source: '@payhook/test-gateway' }) as TestPayload;
    },
    normalize(raw) {
      if (raw.event !== 'payment') return notAPaymentEvent(`event ${raw.event}`);
      if (raw.status === 'PENDING') return pendingPayment('PENDING');
      const base = {
        orderId: raw.order ?? null,
        transactionId: raw.txn,
        amount: raw.amount,
        currency: 'LAK',
        occurredAt: raw.at,
      };
      switch (raw.status) {
        case 'PAID':
          return [{ ...base, id: `${raw.txn}:paid`, type: 'payment.completed' }];
        case 'FAILED':
          return [
            {
              ...base,
              id: `${raw.txn}:failed`,
              type: 'payment.failed',
              failure: { code: 'DECLINED' },
            },
          ];
        case 'REFUNDED':
          return [
            {
              ...base,
              id: `${raw.txn}:refund:${raw.refundId}`,
              type: 'payment.refunded',
              refund: { refundId: raw.refundId ?? 'R', amount: raw.amount },
            },
          ];
      }
    },
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
  });
}
