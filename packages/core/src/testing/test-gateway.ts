import { createHmac } from 'node:crypto';
import {
  GatewayApiError,
  SignatureError,
  ProviderConfigError,
  type PaymentProvider,
  type SweepSchedule,
} from '../index';
import {
  defineProvider,
  notAPaymentEvent,
  OUTCOME_EVENTS,
  parseJson,
  pendingPayment,
  splitKeyModes,
  statusOutcome,
  statusTable,
  timingSafeEqualHex,
  verified,
  type ModeKey,
  type MountModeOptions,
  type NormalizeResult,
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
  status: 'PAID' | 'FAILED' | 'PENDING' | 'REFUNDED' | 'VOIDED' | 'CHARGEBACK';
  /** The refund's, the void's or the chargeback's own id. */
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

/** The test gateway's statuses onto core's closed set: the one table a plugin's normalize.ts starts with. */
const STATUS = statusTable<TestPayload['status']>({
  PAID: 'completed',
  FAILED: 'failed',
  PENDING: 'pending',
  REFUNDED: 'refunded',
  VOIDED: 'voided',
  CHARGEBACK: 'charged-back',
});

/** Options of the test gateway: its secret(s), each with its mode, and the mount's mode. */
export interface TestProviderOptions extends MountModeOptions {
  /** The secret, or secrets (a rotation; `{ key, mode: 'test' }` for a sandbox secret). */
  secret?: ModeKey<string> | readonly ModeKey<string>[];
}

export function createTestProvider(
  options: TestProviderOptions = {},
): PaymentProvider<TestPayload> {
  const given = options.secret ?? TEST_SECRET;
  const { keys: secrets, modes } = splitKeyModes(
    Array.isArray(given) ? given : [given as ModeKey<string>],
    options,
    'secret',
    '@payhook/test-gateway',
  );
  if (secrets.length === 0 || secrets.some((s) => !s))
    throw new ProviderConfigError('secret', 'is required', { source: '@payhook/test-gateway' });
  return defineProvider<TestPayload>({
    mode: options.mode,
    allowTestMode: options.allowTestMode,
    keyModes: modes,
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
        status: { enum: Object.keys(STATUS) },
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
      const body = delivery.body.toString('latin1');
      const keyIndex = secrets.findIndex((secret) =>
        timingSafeEqualHex(sign(body, secret), header),
      );
      if (keyIndex < 0) {
        throw new SignatureError('signature does not match the body', {
          source: '@payhook/test-gateway',
        });
      }
      const payload = parseJson(delivery.body, { source: '@payhook/test-gateway' }) as TestPayload;
      // Only a rotation names its key: a single secret keeps events without keyIndex.
      return secrets.length === 1 ? payload : verified(payload, { keyIndex });
    },
    normalize: normalizeTestPayload,
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
  });
}

/** The test gateway's statuses through its table: reversals are refunds with their kind. */
function normalizeTestPayload(raw: TestPayload): NormalizeResult<TestPayload> {
  if (raw.event !== 'payment') return notAPaymentEvent(`event ${raw.event}`);
  const outcome = statusOutcome(STATUS, raw.status);
  const becomes = outcome === undefined ? null : OUTCOME_EVENTS[outcome];
  if (becomes === null) return pendingPayment(raw.status);
  const base = {
    orderId: raw.order ?? null,
    transactionId: raw.txn,
    amount: raw.amount,
    currency: 'LAK',
    occurredAt: raw.at,
    type: becomes.type,
  };
  if (becomes.kind !== undefined) {
    // Each reversal is its own fact: a refund, a void and a chargeback of one payment all count.
    const refundId = raw.refundId ?? 'R';
    const id = becomes.kind === 'refund' ? `refund:${refundId}` : `${becomes.kind}:${refundId}`;
    return [
      {
        ...base,
        id: `${raw.txn}:${id}`,
        refund: { refundId, amount: raw.amount, kind: becomes.kind },
      },
    ];
  }
  if (becomes.type === 'payment.failed')
    return [{ ...base, id: `${raw.txn}:failed`, failure: { code: 'DECLINED' } }];
  return [{ ...base, id: `${raw.txn}:paid` }];
}

/** The test gateway with a status API over the payments `paid` recorded: see createStatusTestGateway. */
export interface StatusTestGateway {
  provider: PaymentProvider<TestPayload>;
  /** Records a completed payment at the gateway (its status API answers it from now on). */
  paid(txn: string, order: string, at?: string): void;
  /** Every status query's key, in order, and when each key was asked (ms). */
  asked: string[];
  askedAt: Map<string, number[]>;
  /** `down`: every status query fails with a retryable GatewayApiError (the API answers 503). */
  mode: 'up' | 'down';
}

/**
 * The test gateway (same id, signature and payloads) whose `fetchStatus` answers by reference or
 * by order number from the payments recorded with `paid`, for tests of awaited payments, the
 * sweeper and reconcile. `sweep` defaults to a fast schedule (first check 1 ms, at most 8 ms
 * apart, 1,000 queries a minute) so a hub created with `awaited: { sweepEveryMs: 0 }` finds
 * payments on the next `hub.sweep()`.
 */
export function createStatusTestGateway(
  options: TestProviderOptions & { maxAgeMs?: number; sweep?: Partial<SweepSchedule> } = {},
): StatusTestGateway {
  const records = new Map<string, { txn: string; order: string; at: string }>();
  const base = createTestProvider(options);
  const g: StatusTestGateway = {
    asked: [],
    askedAt: new Map(),
    mode: 'up',
    paid: (txn, order, at = new Date().toISOString()) => void records.set(txn, { txn, order, at }),
    provider: defineProvider<TestPayload>({
      id: 'test-gateway',
      source: '@payhook/test-gateway',
      schema: base.schema,
      verify: base.verify,
      normalize: base.normalize,
      ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
      mode: base.mode,
      allowTestMode: base.allowTestMode,
      keyModes: base.keyModes,
      maxAgeMs: options.maxAgeMs,
      statusLookups: ['reference', 'orderId'],
      sweep: { firstCheckMs: 1, maxIntervalMs: 8, queriesPerMinute: 1_000, ...options.sweep },
      async fetchStatus(key, lookup) {
        g.asked.push(key);
        g.askedAt.set(key, [...(g.askedAt.get(key) ?? []), Date.now()]);
        if (g.mode === 'down')
          throw new GatewayApiError('HTTP 503', { retryable: true, httpStatus: 503 });
        const found = [...records.values()].find((r) =>
          lookup?.by === 'orderId' ? r.order === key : r.txn === key,
        );
        return found ? [paidDraft(found)] : null;
      },
    }),
  };
  return g;
}

const paidDraft = (r: { txn: string; order: string; at: string }) => ({
  id: `${r.txn}:paid`,
  type: 'payment.completed' as const,
  orderId: r.order,
  transactionId: r.txn,
  amount: '500.10',
  currency: 'LAK',
  occurredAt: r.at,
});
