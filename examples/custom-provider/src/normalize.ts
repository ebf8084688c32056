import type { PaymentEventType } from '@payhook/core';
import {
  decimalFromMinorUnits,
  notAPaymentEvent,
  parseGatewayTime,
  type NormalizeResult,
} from '@payhook/core/plugin';
import { SOURCE, type AcmePayload } from './schema';

/** Every Acme event that is a payment outcome; any other name is "not a payment event". */
const EVENT_TYPES = new Map<string, PaymentEventType>([
  ['charge.succeeded', 'payment.completed'],
  ['charge.failed', 'payment.failed'],
]);

/** The one place where Acme's statuses, cents and wall times become payhook's events. */
export function normalizeCharge(raw: AcmePayload, timeZone: string): NormalizeResult<AcmePayload> {
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
}
