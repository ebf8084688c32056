import express from 'express';
import request from 'supertest';
import { createCountingStore, runProviderConformance } from '@payhook/core/testing';
import { createPaymentHub } from '@payhook/core';
import { instantToIso } from '@payhook/core/plugin';
import {
  buildLailaolabMessage,
  startLailaolabSimulator,
  type LailaolabSimulator,
} from '@payhook/testing';
import { createLailaolabMiddleware, createLailaolabProvider, createLailaolabSource } from '../src';
import { record, SECRET, settle, testHub } from './helpers';

// The QR webhook body observed in barlus-developer/phajay-payment-gateway
// (payment_qr_webhook_test.go): refNo as a JSON number, DD/MM/YYYY time, Lao-script sourceName,
// empty tags.
const OBSERVED_TXN = '2b0e4f0c-6f1d-4c57-9a53-2f6f1b9d7a10';
const observedBody = (overrides: Record<string, unknown> = {}): string => {
  const fields: Record<string, unknown> = {
    billNumber: OBSERVED_TXN,
    description: 'PAYMENT',
    exReferenceNo: 'BONEN5JL999C3ZLN',
    merchantName: 'LAILAOLAB ICT SOLUTIONS CO.,LTD',
    message: 'SUCCESS',
    paymentMethod: 'BCEL',
    refNo: '@REFNO@',
    sourceAccount: '1600120000000004810001',
    sourceCurrency: 'LAK',
    sourceName: 'ສົມຊາຍ',
    status: 'PAYMENT_COMPLETED',
    tag1: '',
    tag2: '',
    tag3: '',
    tag4: '',
    tag5: '',
    tag6: '',
    transactionId: OBSERVED_TXN,
    txnAmount: 1,
    txnDateTime: '23/09/2025 11:37:55',
    userId: '656fd8886b411beab18eca79',
    ...overrides,
  };
  const refNo = (overrides.refNo as string | undefined) ?? '580960503';
  return JSON.stringify(fields).replace('"@REFNO@"', refNo);
};

// The status API's record is what the event says: paid a minute ago (whole seconds, as the
// gateway writes it), and, for the stale case, a day and an hour ago: past the 24 h maximum age.
const PAID_AT = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
const STALE_TXN = '7c1d2a9e-0b3f-4e6a-8d5c-1f2e3d4c5b6a';

let sim: LailaolabSimulator;
beforeAll(async () => {
  sim = await startLailaolabSimulator({ secretKey: SECRET });
  sim.createTransaction({ transactionId: OBSERVED_TXN, amount: 1 });
  sim.pay(OBSERVED_TXN, { emit: false, at: PAID_AT });
  sim.createTransaction({ transactionId: STALE_TXN, amount: 1 });
  sim.pay(STALE_TXN, { emit: false, at: new Date(Date.now() - 25 * 3_600_000) });
});
// The `unconfirmable` case takes the status API down; every other test needs it up.
afterEach(() => {
  sim.statusApiMode = 'up';
});
afterAll(() => sim.close());

// The webhook carries no signature and no key: its authenticity is the status query, so instead
// of the wrong-key and tampered cases the suite checks a webhook the status API contradicts.
runProviderConformance({
  name: 'Lailaolab portal webhook (confirmed by status query)',
  // Also called while the tests are collected (for maxAgeMs), before beforeAll starts `sim`.
  provider: () =>
    createLailaolabProvider({ secretKey: SECRET, statusQuery: { baseUrl: sim?.apiBase } }),
  valid: { body: observedBody() },
  expected: [
    {
      type: 'payment.completed',
      id: `lailaolab:${OBSERVED_TXN}:completed`,
      transactionId: OBSERVED_TXN,
      orderId: null,
      amount: '1',
      currency: 'LAK',
      // The record's paymentTime, not the body's txnDateTime (23/09/2025 11:37:55).
      occurredAt: instantToIso(PAID_AT.getTime(), 'Asia/Vientiane'),
      verification: 'status-query',
    },
  ],
  contradicted: [
    { fixture: { body: observedBody({ txnAmount: 1000000 }) }, status: 409 },
    { fixture: { body: observedBody({ sourceCurrency: 'USD' }) }, status: 409 },
    { fixture: { body: observedBody({ message: 'FAILED' }) }, status: 409 },
  ],
  unconfirmable: {
    fixture: { body: observedBody() },
    before: () => {
      sim.statusApiMode = 'down';
    },
  },
  stale: { body: observedBody({ transactionId: STALE_TXN, billNumber: STALE_TXN }) },
  malformed: { body: '{"message":"SUCCESS","status":"PAYMENT_COMPLETED","transactionId":"x"}' },
  notPaymentEvent: {
    // Subscription webhooks
    // (https://payment-doc.lailaolab.com/v1/connect-subscription/setup-subscription).
    body: '{"status":"SUBSCRIPTION_CONNECTED","message":"SUBSCRIPTION_CONNECTED_SUCCESSFULLY"}',
  },
});

function webhookApp(extra: Parameters<typeof createLailaolabMiddleware>[1] = {}) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 5_000 });
  const rec = record(hub);
  const app = express();
  app.use(
    '/lailaolab',
    createLailaolabMiddleware(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      ...extra,
    }),
  );
  return { app, hub, rec, store };
}

describe('webhook POST', () => {
  it('confirms by status query (Basic auth with the raw key) and keeps a large numeric refNo exact', async () => {
    const { app, rec } = webhookApp();
    const before = sim.statusRequests.length;
    const res = await request(app)
      .post('/lailaolab')
      .set('content-type', 'application/json')
      .send(observedBody({ refNo: '12345678901234567890123' }));
    expect(res.status).toBe(200);
    expect(res.text).toBe('OK');
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]!.details).toMatchObject({
      channel: 'webhook',
      refNo: '12345678901234567890123',
      sourceName: 'ສົມຊາຍ',
      statusQuery: { status: 'PAYMENT_COMPLETED', isPaid: true },
    });
    expect(rec.events[0]!.details).not.toHaveProperty('refNoExact');
    expect(rec.events[0]!.details).not.toHaveProperty('tags');
    expect(sim.statusRequests.slice(before)).toEqual([
      { transactionId: OBSERVED_TXN, authorized: true },
    ]);
  });

  it.each([
    [
      'a transaction the status API does not know',
      { transactionId: 'FORGED-1', billNumber: 'FORGED-1' },
      /does not know transaction FORGED-1/,
    ],
    [
      'an amount the status API disagrees with',
      { txnAmount: 1000000 },
      /carries 1000000 in the message but 1 at the status API/,
    ],
    [
      'FAILED for a payment the status API says completed',
      { message: 'FAILED' },
      /FAILED in the message but PAYMENT_COMPLETED/,
    ],
  ])(
    'a forged webhook (%s) gets 409, emits nothing and leaves the store alone',
    async (_name, overrides, pattern) => {
      const { app, rec, store } = webhookApp();
      const res = await request(app)
        .post('/lailaolab')
        .set('content-type', 'application/json')
        .send(observedBody(overrides));
      expect(res.status).toBe(409);
      expect(JSON.parse(res.text).error.code).toBe('ERR_STATUS_MISMATCH');
      expect(rec.errors).toHaveLength(1);
      expect(rec.errors[0]!.message).toMatch(pattern);
      expect(rec.events).toHaveLength(0);
      expect(store.calls.claim).toBe(0);
    },
  );

  it('a genuine FAILED webhook becomes payment.failed once the status API says the payment failed', async () => {
    const { app, rec } = webhookApp();
    sim.createTransaction({ transactionId: 'W-FAIL', amount: 4000 });
    const body = JSON.stringify(sim.fail('W-FAIL', { emit: false, recordStatus: 'FAILED' }));
    const res = await request(app)
      .post('/lailaolab')
      .set('content-type', 'application/json')
      .send(body);
    expect(res.status).toBe(200);
    expect(rec.events[0]).toMatchObject({
      type: 'payment.failed',
      id: 'lailaolab:W-FAIL:failed',
      verification: 'status-query',
    });
  });

  it('a malformed webhook is refused with 400 before any status query', async () => {
    const { app, rec } = webhookApp();
    const before = sim.statusRequests.length;
    const res = await request(app)
      .post('/lailaolab')
      .set('content-type', 'application/json')
      .send('{"status":');
    expect(res.status).toBe(400);
    expect(rec.events).toHaveLength(0);
    expect(sim.statusRequests.length).toBe(before);
  });

  it('an unreachable status API gets the retry answer, emits nothing and reports ERR_GATEWAY_API', async () => {
    const { app, rec, store } = webhookApp();
    sim.statusApiMode = 'down';
    try {
      const res = await request(app)
        .post('/lailaolab')
        .set('content-type', 'application/json')
        .send(observedBody());
      expect([res.status, res.text]).toEqual([500, 'RETRY']);
    } finally {
      sim.statusApiMode = 'up';
    }
    expect(rec.errors.map((e) => e.code)).toEqual(['ERR_GATEWAY_API']);
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });

  it('the simulator posts webhooks the way the portal would', async () => {
    const { app, rec } = webhookApp();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const reply = await sim.postWebhook(`http://127.0.0.1:${port}/lailaolab`, observedBody());
      expect(reply).toEqual({ status: 200, body: 'OK' });
      expect(rec.events).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('health route and the shared source', () => {
  it('without a source: 200, socket "none"', async () => {
    const { app } = webhookApp();
    const res = await request(app).get('/lailaolab/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      provider: 'lailaolab',
      socket: 'none',
      connected: null,
      lastMessageAt: null,
      lastConnectedAt: null,
      watched: 0,
    });
  });

  it('with a source: reports it, never opens a second socket, and a webhook payment ends its watch', async () => {
    const { hub, rec } = testHub();
    const source = createLailaolabSource(hub, {
      secretKey: SECRET,
      url: sim.socketBase,
      statusQuery: { baseUrl: sim.apiBase },
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    try {
      await rec.until((r) => r.up.length === 1, 'source.up');
      const app = express();
      app.use('/lailaolab', createLailaolabMiddleware(hub, { source }));
      sim.createTransaction({ transactionId: 'H-1', amount: 100 });
      sim.pay('H-1');
      await rec.until((r) => r.events.length === 1, 'socket payment');
      sim.createTransaction({ transactionId: 'H-2', amount: 200 });
      await source.watch('H-2');

      const up = await request(app).get('/lailaolab/health');
      expect(up.status).toBe(200);
      expect(up.body).toMatchObject({ socket: 'connected', connected: true, watched: 1 });
      expect(Date.parse(up.body.lastMessageAt)).not.toBeNaN();
      expect(sim.connectedClients()).toBe(1);

      sim.pay('H-2', { emit: false });
      const res = await request(app)
        .post('/lailaolab')
        .set('content-type', 'application/json')
        .send(JSON.stringify(buildLailaolabMessage({ transactionId: 'H-2', amount: 200 })));
      expect(res.status).toBe(200);
      expect(rec.events.at(-1)).toMatchObject({
        transactionId: 'H-2',
        verification: 'status-query',
      });
      // The webhook's payment settled the awaited payment, in hub.receive.
      expect(await source.watching()).toEqual([]);
      expect(rec.settled).toEqual([
        expect.objectContaining({ reference: 'H-2', settledBy: 'webhook' }),
      ]);
      expect(source.status().watched).toBe(0);
      expect(sim.connectedClients()).toBe(1);

      await sim.stopSocket();
      await rec.until((r) => r.down.length === 1, 'source.down');
      const down = await request(app).get('/lailaolab/health');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ socket: 'disconnected', connected: false });
      await sim.startSocket();
      await rec.until((r) => r.up.length === 2, 'reconnected');
      await source.close();
      const closed = await request(app).head('/lailaolab/health');
      expect(closed.status).toBe(503);
      await settle();
    } finally {
      await source.close();
    }
  });
});
