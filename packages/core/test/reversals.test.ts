/**
 * Reversals (issue 26): a void or a chargeback of a completed payment reaches the merchant's
 * listeners as `payment.refunded` with its `refund.kind`, never swallowed as `superseded`; the
 * status-table toolkit behind it; and two small promises of the plugin kit (GatewayApiError is
 * retryable unless a plugin says otherwise; a deprecation is seen even with the silent logger).
 */
import { testDelivery } from './support/deliveries';
import { createPaymentHub, GatewayApiError, silentLogger, type PaymentEvent } from '../src';
import { createTestProvider, recordHub, type TestPayload } from '../src/testing';
import {
  OUTCOME_EVENTS,
  ProviderConfigError,
  STATUS_OUTCOMES,
  statusOutcome,
  statusTable,
  validatePaymentEvent,
  warnDeprecatedOption,
  type StatusOutcome,
} from '../src/plugin';

const delivery = (payload: Partial<TestPayload>) => testDelivery(payload);

function hubWithRefundListener() {
  const hub = createPaymentHub();
  const rec = recordHub(hub);
  const refunds: PaymentEvent[] = [];
  hub.on('payment.refunded', (e) => void refunds.push(e));
  return { hub, rec, refunds };
}

describe('reversals of a completed payment', () => {
  const provider = createTestProvider();

  it('a void after the completion reaches the refund listener with kind void, not superseded', async () => {
    const { hub, rec, refunds } = hubWithRefundListener();
    await hub.receive(provider, delivery({ txn: 'T-1' }));
    const r = await hub.receive(
      provider,
      delivery({ txn: 'T-1', status: 'VOIDED', refundId: 'V-1' }),
    );
    expect(r.outcome).toBe('processed');
    expect(refunds.map((e) => [e.id, e.refund])).toEqual([
      ['test-gateway:T-1:void:V-1', { refundId: 'V-1', amount: '500.10', kind: 'void' }],
    ]);
    expect(rec.superseded).toHaveLength(0);
  });

  it('a chargeback reaches it with kind chargeback; a refund and a chargeback of one payment both count', async () => {
    const { hub, refunds } = hubWithRefundListener();
    await hub.receive(provider, delivery({ txn: 'T-2' }));
    await hub.receive(
      provider,
      delivery({ txn: 'T-2', status: 'REFUNDED', refundId: 'R-1', amount: '100' }),
    );
    await hub.receive(
      provider,
      delivery({ txn: 'T-2', status: 'CHARGEBACK', refundId: 'D-1', amount: '400.10' }),
    );
    expect(refunds.map((e) => `${e.refund?.kind} ${e.refund?.amount}`)).toEqual([
      'refund 100',
      'chargeback 400.10',
    ]);
    expect(refunds.every((e) => validatePaymentEvent(e))).toBe(true);
  });

  it('a failure after the completion is still stale: superseded, no listener called (control)', async () => {
    const { hub, rec } = hubWithRefundListener();
    const failed: PaymentEvent[] = [];
    hub.on('payment.failed', (e) => void failed.push(e));
    await hub.receive(provider, delivery({ txn: 'T-3' }));
    const r = await hub.receive(provider, delivery({ txn: 'T-3', status: 'FAILED' }));
    expect([r.outcome, failed.length, rec.superseded.length]).toEqual(['superseded', 0, 1]);
  });
});

describe('a draft outside the closed lists', () => {
  it('a refund kind or a type no list names: the retry body, reported, nothing dispatched', async () => {
    const base = createTestProvider();
    const { hub, rec, refunds } = hubWithRefundListener();
    for (const [type, kind] of [
      ['payment.refunded', 'reversal'],
      ['payment.reversed', undefined],
    ] as const) {
      const provider = {
        ...base,
        normalize: (raw: TestPayload) => [
          {
            id: `${raw.txn}:x`,
            type,
            orderId: null,
            transactionId: raw.txn,
            amount: raw.amount,
            currency: null,
            occurredAt: raw.at,
            refund: { refundId: 'R', amount: raw.amount, kind },
          },
        ],
      } as unknown as typeof base;
      const r = await hub.receive(provider, delivery({ txn: `T-${type}` }));
      expect([r.outcome, r.reply.status, r.error?.code]).toEqual([
        'failed',
        503,
        'ERR_NORMALIZE_FAILED',
      ]);
    }
    expect([refunds.length, rec.events.length, rec.errors.length]).toEqual([0, 0, 2]);
  });
});

describe('the event schema', () => {
  const event = (extra: Record<string, unknown>) => ({
    id: 'p:T:refund:R',
    type: 'payment.refunded',
    provider: 'p',
    orderId: null,
    transactionId: 'T',
    amount: '1.00',
    currency: null,
    occurredAt: '2025-01-02T03:04:05+07:00',
    receivedAt: '2025-01-02T03:04:05Z',
    verification: 'signature',
    raw: {},
    ...extra,
  });

  it('takes a kind and a mode from their lists only; an event queued before either still reads', () => {
    expect(
      validatePaymentEvent(
        event({ mode: 'test', refund: { refundId: 'R', amount: '1', kind: 'void' } }),
      ),
    ).toBe(true);
    expect(validatePaymentEvent(event({ refund: { refundId: 'R', amount: '1' } }))).toBe(true);
    expect(
      validatePaymentEvent(event({ refund: { refundId: 'R', amount: '1', kind: 'reversal' } })),
    ).toBe(false);
    expect(
      validatePaymentEvent(event({ mode: 'sandbox', refund: { refundId: 'R', amount: '1' } })),
    ).toBe(false);
  });
});

describe('status tables', () => {
  it('map every outcome to its event, reversals to payment.refunded with their kind', () => {
    expect(Object.keys(OUTCOME_EVENTS).sort()).toEqual([...STATUS_OUTCOMES].sort());
    expect(OUTCOME_EVENTS.voided).toEqual({ type: 'payment.refunded', kind: 'void' });
    expect(OUTCOME_EVENTS['charged-back']).toEqual({
      type: 'payment.refunded',
      kind: 'chargeback',
    });
    expect([OUTCOME_EVENTS.pending, OUTCOME_EVENTS['not-a-payment']]).toEqual([null, null]);
  });

  it('refuse a word outside the closed set at load, and read only their own keys', () => {
    expect(() => statusTable({ PAID: 'paid' as StatusOutcome }, '@acme/payhook')).toThrow(
      ProviderConfigError,
    );
    const table = statusTable({ PAID: 'completed', CANCEL: 'voided' });
    expect(Object.isFrozen(table)).toBe(true);
    expect(
      ['PAID', 'CANCEL', 'paid', 'toString', '__proto__', 7].map((s) => statusOutcome(table, s)),
    ).toEqual(['completed', 'voided', undefined, undefined, undefined, undefined]);
  });
});

describe('the plugin kit', () => {
  it('a GatewayApiError is retryable unless the plugin says it needs a change first', () => {
    expect(new GatewayApiError('HTTP 502').retryable).toBe(true);
    expect(new GatewayApiError('SIGN_ERROR', { retryable: false }).retryable).toBe(false);
  });

  it('a deprecation warned through the silent default logger reaches process warnings', () => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(
        warnDeprecatedOption('@acme/payhook', 'oldSilent', 'statusQuery.x', silentLogger),
      ).toBe(true);
      const logged: string[] = [];
      const logger = {
        ...silentLogger,
        warn: (_: unknown, m?: string) => void logged.push(m ?? ''),
      };
      expect(warnDeprecatedOption('@acme/payhook', 'oldLogged', 'statusQuery.y', logger)).toBe(
        true,
      );
      expect(emitted.mock.calls.map((c) => c[0])).toEqual([
        '@acme/payhook: the option oldSilent is deprecated: give statusQuery.x instead',
      ]);
      expect(logged).toEqual([
        '@acme/payhook: the option oldLogged is deprecated: give statusQuery.y instead',
      ]);
    } finally {
      emitted.mockRestore();
    }
  });
});
