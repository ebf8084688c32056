/** The package name: it starts every error message. */
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

export const acmeSchema = {
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
