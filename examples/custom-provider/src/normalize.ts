import {
  decimalFromMinorUnits,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseGatewayTime,
  statusOutcome,
  statusTable,
  type NormalizeResult,
} from '@payhook/core/plugin';
import { SOURCE, type AcmePayload } from './schema';

/**
 * Every Acme event that is a payment outcome, and what it means: the one table at the top of
 * normalize.ts. Any other name (a payout, one Acme adds later) is "not a payment event".
 */
const STATUS = statusTable(
  {
    'charge.succeeded': 'completed',
    'charge.failed': 'failed',
  },
  SOURCE,
);

/** The one place where Acme's statuses, cents and wall times become payhook's events. */
export function normalizeCharge(raw: AcmePayload, timeZone: string): NormalizeResult<AcmePayload> {
  const outcome = statusOutcome(STATUS, raw.event);
  const becomes = outcome === undefined ? null : OUTCOME_EVENTS[outcome];
  if (!becomes) return notAPaymentEvent(`event ${raw.event}`);
  const { type } = becomes;
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
