import {
  checkSignedTime,
  GatewayApiError,
  parseGatewayTime,
  statusOutcome,
  StatusMismatchError,
  type MaxAge,
} from '@payhook/core/plugin';
import { STATUS, wasCaptured } from './normalize';
import { NUSA_SOURCE, type NusaConfirmation, type NusaNotice, type NusaRecord } from './schema';
import type { NusaStatusQuery } from './status-query';

type NusaTime =
  | 'capture_time'
  | 'settlement_time'
  | 'transaction_time'
  | 'expiry_time'
  | 'cancel_time'
  | 'chargeback_time';

/**
 * Which of the record's times dates each final status: when the fact happened. A refund, a void
 * and a chargeback are dated by their own times (`refunded_at`, `cancel_time`, `chargeback_time`),
 * never by the payment's; a pending payment's `expiry_time` (in the future) dates nothing, an
 * expired one's is when it failed.
 */
const STATUS_TIME = new Map<string, NusaTime>([
  ['capture', 'capture_time'],
  ['settlement', 'settlement_time'],
  ['deny', 'transaction_time'],
  ['failure', 'transaction_time'],
  ['expire', 'expiry_time'],
  ['cancel', 'cancel_time'],
  ['chargeback', 'chargeback_time'],
  ['partial_chargeback', 'chargeback_time'],
]);

const TIME_ZONE = 'Asia/Jakarta';

/**
 * The fact a notice reports, among those the record holds: the unsigned word may pick one, never
 * make one up. A completion notice (or one that names no refund) about a payment reversed since
 * reports the completion, which the record shows happened: the reversal has its own notice, and
 * reporting it twice would lose the completion whose notice was this one.
 */
function reportedStatus(notice: NusaNotice, record: NusaRecord): string {
  const said = statusOutcome(STATUS, notice.transaction_status);
  const now = statusOutcome(STATUS, record.transaction_status);
  if ((said === 'completed' || now === 'refunded') && wasCaptured(record))
    return record.settlement_time !== undefined ? 'settlement' : 'capture';
  return record.transaction_status;
}

/**
 * Asks the status API with the server key that verified the notice (`keyIndex`, at the base URL
 * of that key's mode), refuses a record that contradicts the signed fields (409), and takes the
 * status, the refund and the time from the record.
 */
export async function confirmNotice(
  notice: NusaNotice,
  keyIndex: number,
  statusQuery: NusaStatusQuery,
  limits: MaxAge,
): Promise<NusaConfirmation> {
  const record = await statusQuery(notice.order_id, keyIndex);
  if (!record || record.order_id !== notice.order_id)
    throw new StatusMismatchError('Nusa knows no such order', NUSA_SOURCE); // 409
  if (record.gross_amount !== notice.gross_amount)
    throw new StatusMismatchError('Nusa records another amount', NUSA_SOURCE);
  const refund = record.refunds?.find((r) => r.refund_key === notice.refund_key);
  if (notice.refund_key !== undefined && !refund)
    throw new StatusMismatchError('Nusa records no such refund', NUSA_SOURCE);
  const status = refund ? 'refund' : reportedStatus(notice, record);
  const field = STATUS_TIME.get(status);
  if (!refund && !field) return { record, status }; // pending, or no payment event
  // Never guess the part a partial chargeback took: the retry body, and Nusa asks again.
  if (status === 'partial_chargeback' && record.chargeback_amount === undefined)
    throw new GatewayApiError('Nusa records a partial chargeback without its amount', {
      source: NUSA_SOURCE,
      retryable: true,
    });
  const at = parseGatewayTime(refund ? refund.refunded_at : record[field!], {
    timeZone: TIME_ZONE,
    source: NUSA_SOURCE,
    field: field ?? 'refunded_at',
  });
  // A genuine notice replayed after the store forgot it must not count again: 401.
  checkSignedTime(at, limits, { what: `Nusa's ${field ?? 'refunded_at'}`, source: NUSA_SOURCE });
  return { record, status, at, ...(refund ? { refund } : {}) };
}
