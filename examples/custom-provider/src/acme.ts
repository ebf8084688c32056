import {
  createWebhookMiddleware,
  ProviderConfigError,
  SignatureError,
  type PaymentEventType,
  type PaymentHub,
  type PaymentProvider,
  type WebhookMiddleware,
} from '@payhook/core';
import {
  assertTimeZone,
  decimalFromMinorUnits,
  defineProvider,
  hmacSha256Hex,
  notAPaymentEvent,
  parseGatewayTime,
  parseJson,
  timingSafeEqualHex,
} from '@payhook/core/plugin';

export const SOURCE = '@acme/payhook-acme';

/**
 * Acme Pay, a made-up gateway: it POSTs JSON with `x-acme-signature: hex(HMAC-SHA256(secret,
 * body))`, amounts in cents, times in Manila wall time, and expects `{"received":true}`.
 */
export interface AcmePayload {
  event: string; // 'charge.succeeded', 'charge.failed', or anything else Acme adds later
  charge_id: string;
  order_ref?: string;
  amount_cents: number;
  currency: string;
  created_at: string; // "2025-01-02 10:00:00", Asia/Manila wall time
  failure_code?: string;
}

const schema = {
  type: 'object',
  required: ['event', 'charge_id', 'amount_cents', 'currency', 'created_at'],
  properties: {
    event: { type: 'string' },
    charge_id: { type: 'string', minLength: 1 },
    order_ref: { type: 'string' },
    amount_cents: { type: 'integer', minimum: 0 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    created_at: { type: 'string' },
    failure_code: { type: 'string' },
  },
};

/** Every Acme event that is a payment outcome; any other name is "not a payment event". */
const EVENT_TYPES = new Map<string, PaymentEventType>([
  ['charge.succeeded', 'payment.completed'],
  ['charge.failed', 'payment.failed'],
]);

export interface AcmeOptions {
  secret: string;
  timeZone?: string;
}

export function createAcmeProvider(options: AcmeOptions): PaymentProvider<AcmePayload> {
  // Check options at construction: a missing key fails at boot, not at the first payment.
  if (typeof options?.secret !== 'string' || options.secret.length === 0)
    throw new ProviderConfigError('secret', 'is required', { source: SOURCE });
  const secret = options.secret;
  const timeZone = assertTimeZone(options.timeZone ?? 'Asia/Manila', 'timeZone', SOURCE);

  return defineProvider<AcmePayload>({
    id: 'acme', // prefixes every event id and store key
    source: SOURCE, // starts every error message
    schema,
    verify(delivery) {
      // Authenticity on the bytes as received, never on a re-serialized object.
      const signature = delivery.headers['x-acme-signature'];
      if (typeof signature !== 'string' || signature.length === 0)
        throw new SignatureError('x-acme-signature header is missing', {
          code: 'ERR_SIGNATURE_MISSING',
          source: SOURCE,
        });
      if (!timingSafeEqualHex(hmacSha256Hex(secret, delivery.body), signature))
        throw new SignatureError('signature does not match the body', { source: SOURCE });
      return parseJson(delivery.body, { source: SOURCE }) as AcmePayload;
    },
    normalize(raw) {
      // Map every gateway status in one place, with an explicit "not a payment event".
      const type = EVENT_TYPES.get(raw.event);
      if (!type) return notAPaymentEvent(`event ${raw.event}`);
      return [
        {
          id: `${raw.charge_id}:${type}`, // stable across redeliveries
          type,
          orderId: raw.order_ref ?? null,
          transactionId: raw.charge_id,
          amount: decimalFromMinorUnits(raw.amount_cents, 2, { source: SOURCE }),
          currency: raw.currency,
          occurredAt: parseGatewayTime(raw.created_at, {
            timeZone,
            source: SOURCE,
            field: 'created_at',
          }),
          ...(type === 'payment.failed' ? { failure: { code: raw.failure_code } } : {}),
        },
      ];
    },
    ack: { ok: { body: { received: true } }, retry: { status: 500, body: { received: false } } },
  });
}

export function createAcmeMiddleware(
  hub: PaymentHub,
  options: AcmeOptions & { limit?: number },
): WebhookMiddleware {
  return createWebhookMiddleware(hub, createAcmeProvider(options), { limit: options.limit });
}
