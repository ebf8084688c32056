/**
 * The normalized payment event. PAYMENT_EVENT_TYPES is the single source of the type union, the
 * hub's event map and the JSON schema's enum, so the three can never drift apart.
 */
export const PAYMENT_EVENT_TYPES = [
  'payment.completed',
  'payment.failed',
  'payment.refunded',
] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

/** How the authenticity of the notification was established. */
export const VERIFICATION_METHODS = ['signature', 'status-query', 'secret-channel'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

/**
 * Which of the gateway's environments the event comes from: `live` money, or the gateway's `test`
 * (sandbox) environment. Decided by the key that verified the delivery (each key of a provider has
 * its mode: ProviderDefinition.keyModes) or by the mount's own mode; a live mount refuses
 * test-mode deliveries unless the merchant allows them (`allowTestMode`).
 */
export const PAYMENT_MODES = ['live', 'test'] as const;
export type PaymentMode = (typeof PAYMENT_MODES)[number];

export function isPaymentMode(value: unknown): value is PaymentMode {
  return (PAYMENT_MODES as readonly unknown[]).includes(value);
}

/**
 * How money went back to the payer on a `payment.refunded` event: `refund` (the merchant or the
 * gateway refunded it), `void` (a captured payment cancelled before settlement: no money moves
 * between banks, but the merchant will not receive it), `chargeback` (the payer's bank took it
 * back). All three reverse a completed payment, so a merchant's refund listener must run for each;
 * docs/events.md, "Reversals", says why they share one event type.
 */
export const REFUND_KINDS = ['refund', 'void', 'chargeback'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

export interface PaymentFailure {
  code?: string;
  message?: string;
}

export interface PaymentRefund {
  /** The gateway's id of the refund, void or chargeback (a dispute id for a chargeback). */
  refundId: string;
  /** Exact decimal in major units; a partial refund carries the refunded part only. */
  amount: string;
  /** How the money went back (`refund` when the plugin's draft does not say). */
  kind: RefundKind;
}

export interface PaymentEvent<Raw = unknown> {
  /** `<provider>:<gateway key>`; stable across redeliveries of the same fact: the idempotency key. */
  id: string;
  type: PaymentEventType;
  /** The provider id, e.g. `newpay`. */
  provider: string;
  /** The merchant's own order number, when the gateway echoes it. */
  orderId: string | null;
  /** The gateway's reference for the payment. */
  transactionId: string;
  /** Exact decimal in major units ("500.10"); never a binary float. */
  amount: string;
  /** ISO 4217 code when known. */
  currency: string | null;
  /** ISO 8601 with an explicit offset, from the gateway's clock and time zone. */
  occurredAt: string;
  /** ISO 8601 (UTC) of the moment payhook received the delivery. */
  receivedAt: string;
  verification: VerificationMethod;
  /**
   * `live` or the gateway's `test` environment: see PAYMENT_MODES. A test-mode event's id has
   * `test:` after the provider id, so it can never be taken for a live one.
   */
  mode: PaymentMode;
  /**
   * Which of the configured verification keys matched (0 = the first), for gateways that accept
   * several during a key rotation.
   */
  keyIndex?: number;
  failure?: PaymentFailure;
  refund?: PaymentRefund;
  /** Gateway-specific extras that have no place in the envelope (fees, PATCH serials...). */
  details?: Record<string, unknown>;
  /** The gateway payload as verified, typed per provider. */
  raw: Raw;
}

export function isPaymentEventType(value: unknown): value is PaymentEventType {
  return typeof value === 'string' && (PAYMENT_EVENT_TYPES as readonly string[]).includes(value);
}

export const DECIMAL_PATTERN = '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$';
export const ISO_DATETIME_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';

/**
 * JSON schema of a PaymentEvent, for consumers that put events on a queue and validate them on the
 * other side (see `validatePaymentEvent`).
 */
export const paymentEventSchema = {
  $id: 'https://payhook.dev/schemas/payment-event.json',
  type: 'object',
  required: [
    'id',
    'type',
    'provider',
    'orderId',
    'transactionId',
    'amount',
    'currency',
    'occurredAt',
    'receivedAt',
    'verification',
    'raw',
  ],
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { type: 'string', enum: [...PAYMENT_EVENT_TYPES] },
    provider: { type: 'string', minLength: 1 },
    orderId: { type: ['string', 'null'] },
    transactionId: { type: 'string', minLength: 1 },
    amount: { type: 'string', pattern: DECIMAL_PATTERN },
    currency: { anyOf: [{ type: 'string', pattern: '^[A-Z]{3}$' }, { type: 'null' }] },
    occurredAt: { type: 'string', pattern: ISO_DATETIME_PATTERN },
    receivedAt: { type: 'string', pattern: ISO_DATETIME_PATTERN },
    verification: { type: 'string', enum: [...VERIFICATION_METHODS] },
    // Not required: events queued by a version before modes (async mode) have none; read as live.
    mode: { type: 'string', enum: [...PAYMENT_MODES] },
    keyIndex: { type: 'integer', minimum: 0 },
    failure: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      additionalProperties: false,
    },
    refund: {
      type: 'object',
      required: ['refundId', 'amount'],
      properties: {
        refundId: { type: 'string', minLength: 1 },
        amount: { type: 'string', pattern: DECIMAL_PATTERN },
        // Not required, as `mode`: an event queued before kinds existed is a refund.
        kind: { type: 'string', enum: [...REFUND_KINDS] },
      },
      additionalProperties: false,
    },
    details: { type: 'object' },
    raw: {},
  },
  additionalProperties: false,
  allOf: [
    {
      if: { properties: { type: { const: 'payment.refunded' } } },
      then: { required: ['refund'] },
    },
  ],
} as const;
