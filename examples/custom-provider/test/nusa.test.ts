import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPaymentHub } from '@payhook/core';
import { flipLastDigit, recordHub, runProviderConformance } from '@payhook/core/testing';
import { createNusaProvider, signNusa, type NusaNotice, type NusaRecord } from '../src';

/** A stand-in for Nusa's status API: `GET /v2/{order_id}/status`, Basic auth, an outage switch. */
const records = new Map<string, NusaRecord>();
const SERVER_KEY = 'SB-server-key';
let down = false;
let apiBase = 'http://127.0.0.1:1';
let server: Server;
beforeAll(async () => {
  server = createServer((req, res) => {
    const orderId = decodeURIComponent(req.url!.replace(/^\/v2\/([^/]+)\/status$/, '$1'));
    const record = records.get(orderId);
    const basic = `Basic ${Buffer.from(`${SERVER_KEY}:`).toString('base64')}`;
    const authorized = req.headers.authorization === basic;
    res.statusCode = down ? 503 : !authorized ? 401 : record ? 200 : 404;
    res.end(record && !down && authorized ? JSON.stringify(record) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  down = false;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A Jakarta wall time (UTC+7, no daylight saving) `ms` from now, as Nusa writes it. */
const jakarta = (ms: number): string =>
  new Date(Math.floor((Date.now() + ms) / 1000) * 1000 + 7 * 3_600_000)
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ');
const iso = (wall: string): string => `${wall.replace(' ', 'T')}+07:00`;
const MINUTE = 60_000;
const DAY = 86_400_000;

const record = (orderId: string, fields: Partial<NusaRecord> = {}): NusaRecord => {
  const r: NusaRecord = {
    transaction_id: `tx-${orderId}`,
    order_id: orderId,
    gross_amount: '150000.00',
    currency: 'IDR',
    transaction_status: 'settlement',
    transaction_time: jakarta(-5 * MINUTE),
    settlement_time: jakarta(-MINUTE),
    ...fields,
  };
  records.set(orderId, r);
  return r;
};
const notice = (orderId: string, over: Partial<NusaNotice> = {}, key = SERVER_KEY) =>
  signNusa(
    {
      order_id: orderId,
      status_code: '200',
      gross_amount: '150000.00',
      transaction_status: 'settlement',
      transaction_time: jakarta(-5 * MINUTE),
      ...over,
    },
    key,
  );
const provider = () => createNusaProvider({ serverKeys: [SERVER_KEY], apiBase });

const paid = record('N-1');
record('N-old', { settlement_time: jakarta(-2 * DAY) });

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
      down = true;
    },
  },
  stale: notice('N-old'),
  malformed: notice('../v1/refunds'),
});

describe('nusa: what the status API says, and which time is checked', () => {
  const receive = (provider: ReturnType<typeof createNusaProvider>, body: string | Buffer) => {
    const hub = createPaymentHub();
    const rec = recordHub(hub);
    const result = hub.receive(provider, {
      body: Buffer.from(body),
      headers: {},
      transport: 'http',
      receivedAt: new Date(),
    });
    return { rec, result };
  };

  it('accepts the default tamper: the digit it changes is not signed', async () => {
    const { result } = receive(provider(), flipLastDigit(notice('N-1')).body);
    expect((await result).outcome).toBe('processed');
  });

  it('dates a refund by its own time, so a refund of an old payment is accepted', async () => {
    const refundedAt = jakarta(-MINUTE);
    record('N-2', {
      transaction_status: 'partial_refund',
      transaction_time: jakarta(-10 * DAY),
      settlement_time: jakarta(-10 * DAY),
      refunds: [{ refund_key: 'RF-1', refund_amount: '50000.00', refunded_at: refundedAt }],
    });
    const { rec, result } = receive(
      provider(),
      notice('N-2', { transaction_status: 'partial_refund', refund_key: 'RF-1' }).body,
    );
    expect((await result).outcome).toBe('processed');
    expect(rec.events.map((e) => [e.type, e.id, e.refund, e.occurredAt])).toEqual([
      [
        'payment.refunded',
        'nusa:tx-N-2:refund:RF-1',
        { refundId: 'RF-1', amount: '50000.00' },
        iso(refundedAt),
      ],
    ]);
  });

  it('refuses a refund the record does not hold', async () => {
    const { result } = receive(
      provider(),
      notice('N-2', { transaction_status: 'refund', refund_key: 'RF-9' }).body,
    );
    expect((await result).outcome).toBe('rejected');
  });

  it('checks no time while pending: the expiry, in the future, dates nothing', async () => {
    record('N-3', {
      transaction_status: 'pending',
      settlement_time: undefined,
      expiry_time: jakarta(DAY),
    });
    const { rec, result } = receive(
      provider(),
      notice('N-3', { status_code: '201', transaction_status: 'pending' }).body,
    );
    expect((await result).outcome).toBe('pending');
    expect(rec.errors).toEqual([]);
  });

  it('dates an expired payment by its expiry, now passed', async () => {
    const expired = jakarta(-2 * MINUTE);
    record('N-4', {
      transaction_status: 'expire',
      settlement_time: undefined,
      expiry_time: expired,
    });
    const { rec, result } = receive(
      provider(),
      notice('N-4', { status_code: '202', transaction_status: 'expire' }).body,
    );
    expect((await result).outcome).toBe('processed');
    expect(rec.events.map((e) => [e.type, e.occurredAt])).toEqual([
      ['payment.failed', iso(expired)],
    ]);
  });

  it('asks the status API with the server key that verified the notice', async () => {
    const rotated = createNusaProvider({ serverKeys: ['new-key', SERVER_KEY], apiBase });
    const { rec, result } = receive(rotated, notice('N-1').body);
    expect((await result).outcome).toBe('processed');
    expect(rec.events.map((e) => e.keyIndex)).toEqual([1]);
  });
});
