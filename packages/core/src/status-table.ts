import type { PaymentEventType, RefundKind } from './events';
import { ProviderConfigError } from './errors';

/**
 * The small closed set every gateway status maps onto (Medusa's payment providers do the same
 * with PaymentSessionStatus): one table at the top of a plugin's normalize.ts, gateway word →
 * outcome, read by `statusOutcome`. `voided` and `charged-back` reverse a completed payment: they
 * become `payment.refunded` with that kind, never a `payment.failed` (which, for a payment already
 * completed, the hub drops as stale: `superseded`). `not-a-payment` is a status that is not about
 * a payment's money (a dispute opened, a payout).
 */
export const STATUS_OUTCOMES = [
  'completed',
  'failed',
  'pending',
  'refunded',
  'voided',
  'charged-back',
  'not-a-payment',
] as const;
export type StatusOutcome = (typeof STATUS_OUTCOMES)[number];

/** A gateway's statuses and what each means: `{ SUCCESS: 'completed', EXPIRED: 'failed', … }`. */
export type StatusTable<Status extends string = string> = Readonly<Record<Status, StatusOutcome>>;

/** The event an outcome becomes, and for a reversal its refund kind; none for the other three. */
export const OUTCOME_EVENTS: Readonly<
  Record<StatusOutcome, { type: PaymentEventType; kind?: RefundKind } | null>
> = Object.freeze({
  completed: { type: 'payment.completed' },
  failed: { type: 'payment.failed' },
  refunded: { type: 'payment.refunded', kind: 'refund' },
  voided: { type: 'payment.refunded', kind: 'void' },
  'charged-back': { type: 'payment.refunded', kind: 'chargeback' },
  pending: null,
  'not-a-payment': null,
});

/**
 * Checks a status table once, at load: every value one of STATUS_OUTCOMES (a typo is a
 * ProviderConfigError naming the status), and freezes it.
 *
 * @example const STATUS = statusTable({ PAID: 'completed', EXPIRED: 'failed', WAITING: 'pending' })
 */
export function statusTable<Status extends string>(
  table: Record<Status, StatusOutcome>,
  source?: string,
): StatusTable<Status> {
  for (const [status, outcome] of Object.entries(table)) {
    if (!(STATUS_OUTCOMES as readonly unknown[]).includes(outcome))
      throw new ProviderConfigError(
        `status table ${status}`,
        `must be one of ${STATUS_OUTCOMES.join(', ')}`,
        { source },
      );
  }
  return Object.freeze({ ...table });
}

/**
 * What a gateway status means by the table, or undefined for a status the table does not name
 * (a new word the gateway added: the plugin decides, usually `notAPaymentEvent`). Only the
 * table's own keys count: `toString` or `__proto__` from a payload is not a status.
 */
export function statusOutcome(table: StatusTable, status: unknown): StatusOutcome | undefined {
  return typeof status === 'string' && Object.hasOwn(table, status) ? table[status] : undefined;
}
