import { flipLastDigit, runProviderConformance } from '@payhook/core/testing';
import { createNusaProvider, type NusaNotice } from '../src';
import {
  DAY,
  MINUTE,
  NusaStatusApi,
  iso,
  jakarta,
  notice as signed,
  nusaHub,
} from './nusa-gateway';

/** Nusa's status API, with the one server key of these tests. */
const SERVER_KEY = 'SB-server-key';
const api = new NusaStatusApi(SERVER_KEY);
beforeAll(() => api.listen());
afterEach(() => {
  api.down = false;
});
afterAll(() => api.close());

const notice = (orderId: string, over: Partial<NusaNotice> = {}, key = SERVER_KEY) =>
  signed(orderId, over, key);
const provider = () =>
  createNusaProvider({ serverKeys: [SERVER_KEY], statusQuery: { baseUrl: api.baseUrl } });

const paid = api.record('N-1');
api.record('N-old', { settlement_time: jakarta(-2 * DAY) });

runProviderConformance({
  name: 'nusa (signs three fields, confirmed by its status API)',
  provider,
  valid: notice('N-1'),
  expected: [
    {
      type: 'payment.completed',
      id: 'nusa:tx-N-1:paid',
      orderId: 'N-1',
      amount: '150000.00',
      currency: 'IDR',
      occurredAt: iso(paid.settlement_time!),
      verification: 'signature',
    },
  ],
  wrongKey: notice('N-1', {}, 'not-the-server-key'),
  // The default tamper would change the unsigned transaction_time: edit a signed field instead.
  tamper: (valid) => {
    const body = JSON.parse(String(valid.body)) as NusaNotice;
    return { ...valid, body: JSON.stringify({ ...body, gross_amount: '1.00' }) };
  },
  contradicted: [
    { fixture: notice('N-404'), status: 409 },
    { fixture: notice('N-1', { gross_amount: '1.00' }), status: 409 },
  ],
  unconfirmable: {
    fixture: notice('N-1'),
    before: () => {
      api.down = true;
    },
  },
  stale: notice('N-old'),
  malformed: notice('../v1/refunds'),
});

describe('nusa: what the status API says, and which time is checked', () => {
  it('accepts the default tamper: the digit it changes is not signed', async () => {
    const { post } = nusaHub(provider());
    expect((await post(flipLastDigit(notice('N-1')))).outcome).toBe('processed');
  });

  it('dates a refund by its own time, so a refund of an old payment is accepted', async () => {
    const refundedAt = jakarta(-MINUTE);
    api.record('N-2', {
      transaction_status: 'partial_refund',
      transaction_time: jakarta(-10 * DAY),
      settlement_time: jakarta(-10 * DAY),
      refunds: [{ refund_key: 'RF-1', refund_amount: '50000.00', refunded_at: refundedAt }],
    });
    const { rec, post } = nusaHub(provider());
    const result = await post(
      notice('N-2', { transaction_status: 'partial_refund', refund_key: 'RF-1' }),
    );
    expect(result.outcome).toBe('processed');
    expect(rec.events.map((e) => [e.type, e.id, e.refund, e.occurredAt])).toEqual([
      [
        'payment.refunded',
        'nusa:tx-N-2:refund:RF-1',
        { refundId: 'RF-1', amount: '50000.00', kind: 'refund' },
        iso(refundedAt),
      ],
    ]);
  });

  it('refuses a refund the record does not hold', async () => {
    const { post } = nusaHub(provider());
    const result = await post(notice('N-2', { transaction_status: 'refund', refund_key: 'RF-9' }));
    expect(result.outcome).toBe('rejected');
  });

  it('checks no time while pending: the expiry, in the future, dates nothing', async () => {
    api.record('N-3', {
      transaction_status: 'pending',
      settlement_time: undefined,
      expiry_time: jakarta(DAY),
    });
    const { rec, post } = nusaHub(provider());
    const result = await post(notice('N-3', { status_code: '201', transaction_status: 'pending' }));
    expect(result.outcome).toBe('pending');
    expect(rec.errors).toEqual([]);
  });

  it('dates an expired payment by its expiry, now passed', async () => {
    const expired = jakarta(-2 * MINUTE);
    api.record('N-4', {
      transaction_status: 'expire',
      settlement_time: undefined,
      expiry_time: expired,
    });
    const { rec, post } = nusaHub(provider());
    const result = await post(notice('N-4', { status_code: '202', transaction_status: 'expire' }));
    expect(result.outcome).toBe('processed');
    expect(rec.events.map((e) => [e.type, e.occurredAt])).toEqual([
      ['payment.failed', iso(expired)],
    ]);
  });

  it('asks the status API with the server key that verified the notice', async () => {
    const rotated = createNusaProvider({
      serverKeys: ['new-key', SERVER_KEY],
      statusQuery: { baseUrl: api.baseUrl },
    });
    const { rec, post } = nusaHub(rotated);
    expect((await post(notice('N-1'))).outcome).toBe('processed');
    expect(rec.events.map((e) => e.keyIndex)).toEqual([1]);
  });
});
