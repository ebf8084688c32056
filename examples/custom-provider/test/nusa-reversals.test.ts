import type { PaymentEvent } from '@payhook/core';
import { createNusaProvider } from '../src';
import { DAY, MINUTE, NusaStatusApi, iso, jakarta, notice, nusaHub } from './nusa-gateway';

/**
 * Voids and chargebacks reverse a completed payment: they reach `payment.refunded` with their
 * kind. Never `payment.failed`: the hub drops a failure after a completion as `superseded`, and
 * the merchant would never hear that a paid order lost its money.
 */
const KEY = 'server-key';
const api = new NusaStatusApi(KEY);
beforeAll(() => api.listen());
afterAll(() => api.close());

/** A hub with a `payment.refunded` listener, as a merchant's. */
function merchant() {
  const mounted = nusaHub(
    createNusaProvider({ serverKeys: [KEY], statusQuery: { baseUrl: api.baseUrl } }),
  );
  const refunded: PaymentEvent[] = [];
  mounted.hub.on('payment.refunded', (event) => {
    refunded.push(event);
  });
  return { ...mounted, refunded };
}
const captured = { settlement_time: undefined, capture_time: jakarta(-3 * MINUTE) };

describe('nusa: voids and chargebacks', () => {
  it('a capture, then a cancel: the cancel is a void on payment.refunded, never superseded', async () => {
    const { rec, post, refunded } = merchant();
    api.record('V-1', { ...captured, transaction_status: 'capture' });
    expect((await post(notice('V-1', { transaction_status: 'capture' }, KEY))).outcome).toBe(
      'processed',
    );
    const cancelledAt = jakarta(-MINUTE);
    api.record('V-1', { ...captured, transaction_status: 'cancel', cancel_time: cancelledAt });
    expect((await post(notice('V-1', { transaction_status: 'cancel' }, KEY))).outcome).toBe(
      'processed',
    );
    expect(rec.events.map((e) => [e.type, e.id])).toEqual([
      ['payment.completed', 'nusa:tx-V-1:paid'],
      ['payment.refunded', 'nusa:tx-V-1:void'],
    ]);
    expect(refunded.map((e) => [e.refund, e.occurredAt])).toEqual([
      [{ refundId: 'void:tx-V-1', amount: '150000.00', kind: 'void' }, iso(cancelledAt)],
    ]);
    expect(rec.superseded).toEqual([]);
    // The capture notice again, after the void: the same completion, a duplicate.
    expect((await post(notice('V-1', { transaction_status: 'capture' }, KEY))).outcome).toBe(
      'duplicate',
    );
  });

  it('a capture notice that arrives after the void still reports the completion the record shows', async () => {
    const { rec, post } = merchant();
    api.record('V-2', { ...captured, transaction_status: 'cancel', cancel_time: jakarta(-MINUTE) });
    await post(notice('V-2', { transaction_status: 'capture' }, KEY));
    await post(notice('V-2', { transaction_status: 'cancel' }, KEY));
    expect(rec.events.map((e) => [e.type, e.refund?.kind])).toEqual([
      ['payment.completed', undefined],
      ['payment.refunded', 'void'],
    ]);
  });

  it('a cancel of a payment never captured is a failure: no money came, none goes back', async () => {
    const { rec, post, refunded } = merchant();
    const cancelledAt = jakarta(-MINUTE);
    api.record('V-3', {
      transaction_status: 'cancel',
      settlement_time: undefined,
      cancel_time: cancelledAt,
    });
    const result = await post(
      notice('V-3', { status_code: '202', transaction_status: 'cancel' }, KEY),
    );
    expect(result.outcome).toBe('processed');
    expect(rec.events.map((e) => [e.type, e.id, e.failure, e.occurredAt])).toEqual([
      ['payment.failed', 'nusa:tx-V-3:failed', { code: 'cancel' }, iso(cancelledAt)],
    ]);
    expect(refunded).toEqual([]);
  });

  it('a chargeback of a settled payment reaches payment.refunded with kind chargeback', async () => {
    const { rec, post, refunded } = merchant();
    const chargedBackAt = jakarta(-MINUTE);
    api.record('C-1', {
      transaction_status: 'chargeback',
      settlement_time: jakarta(-3 * DAY), // older than maxAgeMs: the chargeback has its own time
      chargeback_time: chargedBackAt,
    });
    const result = await post(notice('C-1', { transaction_status: 'chargeback' }, KEY));
    expect(result.outcome).toBe('processed');
    expect(refunded.map((e) => [e.id, e.refund, e.occurredAt])).toEqual([
      [
        'nusa:tx-C-1:chargeback',
        { refundId: 'chargeback:tx-C-1', amount: '150000.00', kind: 'chargeback' },
        iso(chargedBackAt),
      ],
    ]);
    expect([rec.superseded, rec.events.length]).toEqual([[], 1]);
  });

  it('a partial chargeback carries the part the record says; without it, the retry body', async () => {
    const { rec, post, refunded } = merchant();
    const partly = { transaction_status: 'partial_chargeback', chargeback_time: jakarta(-MINUTE) };
    api.record('C-2', partly);
    const unknown = await post(notice('C-2', { transaction_status: 'partial_chargeback' }, KEY));
    // Never a guess: the gateway delivers again, and by then its record says how much.
    expect([unknown.outcome, unknown.reply.status, rec.events]).toEqual(['failed', 503, []]);
    api.record('C-2', { ...partly, chargeback_amount: '40000.00' });
    await post(notice('C-2', { transaction_status: 'partial_chargeback' }, KEY));
    expect(refunded.map((e) => [e.id, e.refund])).toEqual([
      [
        'nusa:tx-C-2:partial_chargeback',
        { refundId: 'partial_chargeback:tx-C-2', amount: '40000.00', kind: 'chargeback' },
      ],
    ]);
  });
});
