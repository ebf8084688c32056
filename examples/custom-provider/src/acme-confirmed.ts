import {
  checkSignedTime,
  decimalFromMinorUnits,
  defineProvider,
  GatewayApiError,
  isRetryableStatus,
  notAPaymentEvent,
  parseJson,
  pendingPayment,
  requestGateway,
  resolveMaxAge,
  StatusMismatchError,
  type MaxAgeOptions,
  type NormalizeResult,
  type PaymentHub,
  type PaymentProvider,
  type ReceiveResult,
} from '@payhook/core/plugin';
import { SOURCE } from './schema';

/** Acme's unsigned ping: it names a charge, nothing more can be believed of it. */
export interface AcmePing {
  event: string; // 'charge.updated', or anything else Acme adds later
  charge_id: string;
}

/** Acme's own record of a charge: `GET {statusQuery.baseUrl}/v1/charges/{id}`. */
export interface AcmeCharge {
  id: string;
  status: 'succeeded' | 'failed' | 'pending';
  order_ref: string | null;
  amount_cents: number;
  currency: string;
  updated_at: string; // ISO 8601 with an offset
}

/** Checked before any status query: junk costs no call on your key, and `..` is no charge id. */
const CHARGE_ID = /^ch_[A-Za-z0-9]{1,32}$/;

const pingSchema = {
  type: 'object',
  required: ['event', 'charge_id'],
  properties: {
    event: { type: 'string' },
    charge_id: { type: 'string', pattern: CHARGE_ID.source },
  },
};

export interface AcmeConfirmedOptions extends MaxAgeOptions {
  apiKey: string;
  /** Acme's status API: its base URL, and how long one query may take (ms, default 10 000). */
  statusQuery: { baseUrl: string; timeoutMs?: number };
}

export function createAcmeConfirmedProvider(
  options: AcmeConfirmedOptions,
): PaymentProvider<AcmePing, AcmeCharge | undefined> {
  const limits = resolveMaxAge(options, SOURCE); // maxAgeMs, clockSkewMs, checked at boot
  const getCharge = async (id: string): Promise<AcmeCharge | null> => {
    if (!CHARGE_ID.test(id)) return null;
    const response = await requestGateway(
      `${options.statusQuery.baseUrl}/v1/charges/${encodeURIComponent(id)}`,
      {
        headers: { authorization: `Bearer ${options.apiKey}` },
        timeoutMs: options.statusQuery.timeoutMs,
        source: SOURCE,
      },
    );
    if (response.status === 404) return null;
    if (response.status !== 200)
      throw new GatewayApiError(`status API answered HTTP ${response.status}`, {
        source: SOURCE,
        retryable: isRetryableStatus(response.status),
      });
    return parseJson(response.text, { source: SOURCE }) as AcmeCharge;
  };
  // Every field of the event comes from Acme's record, never from the unsigned ping.
  const fromRecord = (charge: AcmeCharge): NormalizeResult<AcmePing> =>
    charge.status === 'pending'
      ? pendingPayment('charge pending')
      : [
          {
            id: `${charge.id}:${charge.status}`,
            type: charge.status === 'succeeded' ? 'payment.completed' : 'payment.failed',
            orderId: charge.order_ref,
            transactionId: charge.id,
            amount: decimalFromMinorUnits(charge.amount_cents, 2, { source: SOURCE }),
            currency: charge.currency,
            occurredAt: charge.updated_at,
          },
        ];

  return defineProvider<AcmePing, AcmeCharge | undefined>({
    id: 'acme-ping',
    source: SOURCE,
    schema: pingSchema,
    verification: 'status-query',
    maxAgeMs: limits.maxAgeMs, // the hub checks at mount that its retention is longer
    verify(delivery) {
      return parseJson(delivery.body, { source: SOURCE }) as AcmePing; // nothing is signed
    },
    async confirm(ping) {
      if (ping.event !== 'charge.updated') return undefined; // no query for other notices
      const charge = await getCharge(ping.charge_id); // Acme down: 5xx, the retry answer
      if (!charge) throw new StatusMismatchError('Acme knows no such charge', SOURCE); // 409
      // A genuine ping replayed after the store forgot it must not count again: 401.
      checkSignedTime(charge.updated_at, limits, { what: 'the charge record', source: SOURCE });
      return charge;
    },
    normalize(ping, { confirmation }) {
      if (!confirmation) return notAPaymentEvent(`event ${ping.event}`, { verified: false });
      return fromRecord(confirmation);
    },
    // For hub.reconcile(provider, chargeId): the same record, the same events, the same ids.
    async fetchStatus(chargeId) {
      const charge = await getCharge(chargeId);
      return charge && fromRecord(charge);
    },
    ack: { ok: { body: { received: true } }, retry: { status: 503, body: { received: false } } },
  });
}

/**
 * A reconciliation job: asks Acme about the charges you are still waiting for (a missed ping, an
 * outage). hub.reconcile runs fetchStatus through the same claim and dispatch as a ping, so a
 * charge heard both ways is processed once.
 */
export async function reconcileCharges(
  hub: PaymentHub,
  provider: PaymentProvider<AcmePing, AcmeCharge | undefined>,
  chargeIds: readonly string[],
): Promise<ReceiveResult[]> {
  const results: ReceiveResult[] = [];
  for (const id of chargeIds) results.push(await hub.reconcile(provider, id));
  return results;
}
