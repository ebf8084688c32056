import express from 'express';
import request from 'supertest';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import {
  assertRefused,
  createCountingStore,
  recordHub,
  runProviderConformance,
  type HubRecording,
} from '@payhook/core/testing';
import { createNewpayMiddleware, createNewpayProvider } from '@payhook/newpay-callback';
import { createPayinMiddleware, createPayinProvider } from '@payhook/payin';
import { createSignedParamMiddleware, createSignedParamProvider } from '@payhook/signed-param';
import { createLailaolabMiddleware, createLailaolabSource } from '@payhook/lailaolab-socket';
import {
  createCashyFixtures,
  createLailaolabFixtures,
  createNewpayFixtures,
  createSignedParamFixtures,
  forgeDelivery,
  generateTestKeyPair,
  isAcknowledged,
  sendFixture,
  type GatewayDelivery,
} from '../src';

// Each builder is checked against the plugin that verifies it: real middleware, real HTTP.
const newpay = createNewpayFixtures();
const signedParam = createSignedParamFixtures();
const cashy = createCashyFixtures();
const stranger = generateTestKeyPair();

interface Harness {
  hub: PaymentHub;
  rec: HubRecording;
  store: ReturnType<typeof createCountingStore>;
  /** What assertRefused looks at besides the reply. */
  seen: { recording: HubRecording; store: ReturnType<typeof createCountingStore> };
  post(delivery: GatewayDelivery): Promise<request.Response>;
  /** The reply as assertRefused reads it (supertest keeps the raw body in `text`). */
  reply(delivery: GatewayDelivery): Promise<{ status: number; body: string }>;
}

function harness(mount: (hub: PaymentHub) => express.RequestHandler): Harness {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const rec = recordHub(hub);
  const app = express();
  app.use('/hook', mount(hub));
  const post = (d: GatewayDelivery) => sendFixture(request(app).post('/hook'), d);
  return {
    hub,
    rec,
    store,
    seen: { recording: rec, store },
    post,
    reply: async (d) => {
      const r = await post(d);
      return { status: r.status, body: r.text };
    },
  };
}

/** A refusal of `delivery`: `status`, `code`, and never its success body. */
const refusal = (delivery: GatewayDelivery, status: number, code: string) => ({
  status,
  code,
  ackBody: delivery.successAck.body,
});

describe('NewPay fixtures against @payhook/newpay-callback', () => {
  const h = () =>
    harness((hub) => createNewpayMiddleware(hub, newpay.providerOptions) as express.RequestHandler);

  it.each([1, 2] as const)(
    'v%i payment: acknowledged, completed, exact amount',
    async (version) => {
      const t = h();
      const d = newpay.paymentCallback({ orderNo: 'A-1', amount: '15000.5', version });
      const reply = await t.post(d);
      expect(reply.text).toBe('{"transResult":"SUCCESS"}');
      expect(isAcknowledged(d, reply)).toBe(true);
      expect(t.rec.events).toHaveLength(1);
      expect(t.rec.events[0]).toMatchObject({
        type: 'payment.completed',
        orderId: 'A-1',
        amount: '15000.50',
        currency: 'LAK',
        verification: 'signature',
      });
    },
  );

  it.each([1, 2] as const)('v%i failure and refund map to failed and refunded', async (version) => {
    const t = h();
    await t.post(newpay.paymentCallback({ orderNo: 'A-2', status: 'failed', version }));
    await t.post(newpay.refundCallback({ orderNo: 'A-3', amount: '5000', version }));
    expect(t.rec.events.map((e) => e.type)).toEqual(['payment.failed', 'payment.refunded']);
    expect(t.rec.events[1]).toMatchObject({ orderId: 'A-3', refund: { amount: '5000.00' } });
  });

  it('a rebuilt delivery of the same order is a redelivery: dispatched once', async () => {
    const t = h();
    // Recent times: the plugins refuse deliveries older than their maximum age.
    const first = Date.now() - 120_000;
    await t.post(newpay.paymentCallback({ orderNo: 'A-4', at: new Date(first) }));
    const again = await t.post(
      newpay.paymentCallback({ orderNo: 'A-4', at: new Date(first + 60_000) }),
    );
    expect(again.text).toBe('{"transResult":"SUCCESS"}');
    expect(t.rec.events).toHaveLength(1);
    expect(t.rec.duplicates).toHaveLength(1);
  });

  it('v2 expired is a failure; v1 has no expired status', () => {
    expect(() => newpay.paymentCallback({ orderNo: 'x', status: 'expired', version: 1 })).toThrow(
      /v1/,
    );
    const d = newpay.paymentCallback({ orderNo: 'x', status: 'expired', version: 2 });
    expect(JSON.parse(d.body).data.payStatus).toBe('EXPIRED');
  });

  it('forged and wrong-key deliveries are refused with 401 and emit nothing', async () => {
    const other = createNewpayFixtures({ keys: stranger });
    for (const d of [
      forgeDelivery(newpay.paymentCallback({ orderNo: 'A-5' })),
      other.paymentCallback({ orderNo: 'A-5' }),
    ]) {
      const t = h();
      assertRefused(await t.reply(d), t.seen, refusal(d, 401, 'ERR_SIGNATURE_INVALID'));
    }
  });

  it('a supplied private key (PEM text) is used as is', async () => {
    const supplied = createNewpayFixtures({ keys: stranger.privateKeyPem, appId: 77 });
    expect(supplied.keys.publicKeyPem).toBe(stranger.publicKeyPem);
    const t = harness(
      (hub) => createNewpayMiddleware(hub, supplied.providerOptions) as express.RequestHandler,
    );
    const reply = await t.post(supplied.paymentCallback({ orderNo: 'A-6' }));
    expect(reply.status).toBe(200);
    expect(t.rec.events).toHaveLength(1);
  });
});

describe('Cashy fixtures against @payhook/payin', () => {
  const h = () =>
    harness((hub) => createPayinMiddleware(hub, cashy.providerOptions) as express.RequestHandler);

  it('payin success: SUCCESS text ack, exact amount, Cashy headers', async () => {
    const t = h();
    const d = cashy.payin({ mchOrderNo: 'C-1', amount: '100.1', fee: '1.5' });
    expect(d.headers).toMatchObject({ MerchantId: '100001' });
    expect(d.headers.Sign).toMatch(/^[0-9A-F]{32}$/);
    expect(d.body).toContain('"amount":100.1,');
    const reply = await t.post(d);
    expect(reply.text).toBe('SUCCESS');
    expect(t.rec.events[0]).toMatchObject({
      type: 'payment.completed',
      orderId: 'C-1',
      amount: '100.10',
      currency: 'IDR',
    });
  });

  it('FAIL, CANCEL and a PATCH order', async () => {
    const t = h();
    await t.post(cashy.payin({ mchOrderNo: 'C-2', status: 'failed' }));
    await t.post(cashy.payin({ mchOrderNo: 'C-3', status: 'cancelled' }));
    await t.post(cashy.payin({ mchOrderNo: 'C-4', patchSerial: 1, amount: '20' }));
    expect(t.rec.events.map((e) => [e.type, e.orderId, e.failure?.code])).toEqual([
      ['payment.failed', 'C-2', 'FAIL'],
      ['payment.failed', 'C-3', 'CANCEL'],
      ['payment.completed', 'C-4', undefined],
    ]);
    expect(t.rec.events[2]!.details).toMatchObject({ isPatch: true, serial: '00001' });
  });

  it('a rebuild is byte-identical (a Cashy retry) and dispatched once', async () => {
    const t = h();
    const at = new Date(Date.now() - 60_000);
    const a = cashy.payin({ mchOrderNo: 'C-5', at });
    const b = cashy.payin({ mchOrderNo: 'C-5', at });
    expect(b).toEqual(a);
    await t.post(a);
    await t.post(b);
    expect(t.rec.events).toHaveLength(1);
  });

  it('forged and wrong-apiKey deliveries are refused with 401 and emit nothing', async () => {
    const other = createCashyFixtures({ apiKey: 'not-the-key' });
    for (const d of [
      forgeDelivery(cashy.payin({ mchOrderNo: 'C-6' })),
      other.payin({ mchOrderNo: 'C-6' }),
    ]) {
      const t = h();
      assertRefused(await t.reply(d), t.seen, refusal(d, 401, 'ERR_SIGNATURE_INVALID'));
    }
  });
});

describe('signed-param fixtures against @payhook/signed-param', () => {
  const h = (fixtures = signedParam) =>
    harness(
      (hub) => createSignedParamMiddleware(hub, fixtures.providerOptions) as express.RequestHandler,
    );

  it('payment, failure and a partial refund of the payment', async () => {
    const t = h();
    const paid = signedParam.payment({ orderId: 'B-1', amount: '500.10' });
    expect(JSON.parse(JSON.parse(paid.body).param).amount).toBe(50010);
    const reply = await t.post(paid);
    expect(reply.text).toBe('{"code":10000,"message":"Success"}');
    await t.post(signedParam.payment({ orderId: 'B-2', status: 'failed' }));
    await t.post(
      signedParam.refund({ transactionId: signedParam.transactionIdOf('B-1'), amount: '100' }),
    );
    expect(t.rec.events.map((e) => [e.type, e.amount, e.currency])).toEqual([
      ['payment.completed', '500.10', 'PHP'],
      ['payment.failed', '500.10', 'PHP'],
      ['payment.refunded', '100.00', 'PHP'],
    ]);
    expect(t.rec.events[2]!.transactionId).toBe(t.rec.events[0]!.transactionId);
  });

  it('Indonesia sends whole rupiah; other countries name their currency', async () => {
    const id = createSignedParamFixtures({ keys: signedParam.keys, country: 'ID' });
    const t = h(id);
    await t.post(id.payment({ orderId: 'B-3', amount: '50000' }));
    await t.post(id.payment({ orderId: 'B-4', amount: '12.34', country: 'TH' }));
    expect(t.rec.events.map((e) => [e.amount, e.currency])).toEqual([
      ['50000', 'IDR'],
      ['12.34', 'THB'],
    ]);
  });

  it('a pending payment and a payout are acknowledged and emit no payment event', async () => {
    const t = h();
    const pending = await t.post(signedParam.payment({ orderId: 'B-5', status: 'pending' }));
    const payout = await t.post(signedParam.payout({ orderId: 'P-1' }));
    expect([pending.status, payout.status]).toEqual([200, 200]);
    expect(t.rec.events).toHaveLength(0);
    expect(t.rec.unhandled).toHaveLength(1);
  });

  it('forged and wrong-key deliveries are refused with 401 and emit nothing', async () => {
    const other = createSignedParamFixtures({ keys: stranger });
    for (const d of [
      forgeDelivery(signedParam.payment({ orderId: 'B-6' })),
      other.payment({ orderId: 'B-6' }),
    ]) {
      const t = h();
      assertRefused(await t.reply(d), t.seen, refusal(d, 401, 'ERR_SIGNATURE_INVALID'));
    }
  });
});

describe('Lailaolab fixtures and simulator against @payhook/lailaolab-socket', () => {
  const lailaolab = createLailaolabFixtures();

  it('webhook: confirmed by the simulated status API; contradicted one is 409', async () => {
    const sim = await lailaolab.startSimulator();
    try {
      const t = harness(
        (hub) =>
          createLailaolabMiddleware(hub, lailaolab.providerOptions(sim)) as express.RequestHandler,
      );
      sim.createTransaction({ transactionId: 'L-1', amount: 100000, orderNo: 'D-1' });
      const message = sim.pay('L-1', { emit: false });
      const reply = await t.post(lailaolab.webhookFor(message));
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('OK');
      expect(t.rec.events[0]).toMatchObject({
        type: 'payment.completed',
        orderId: 'D-1',
        amount: '100000',
        verification: 'status-query',
      });
      sim.createTransaction({ transactionId: 'L-2', amount: 5000 });
      const contradicted = harness(
        (hub) =>
          createLailaolabMiddleware(hub, lailaolab.providerOptions(sim)) as express.RequestHandler,
      );
      const d = lailaolab.webhook({ transactionId: 'L-2', amount: 5000 });
      assertRefused(
        await contradicted.reply(d),
        contradicted.seen,
        refusal(d, 409, 'ERR_STATUS_MISMATCH'),
      );
    } finally {
      await sim.close();
    }
  });

  it('socket: a message emitted by the simulator reaches the source', async () => {
    const sim = await lailaolab.startSimulator();
    const hub = createPaymentHub();
    const rec = recordHub(hub);
    const source = createLailaolabSource(hub, {
      ...lailaolab.sourceOptions(sim),
      // The message alone, trusted on the secret channel: this transaction is unknown to the
      // simulator's status API, which the source asks by default.
      confirmByStatusQuery: false,
      sweepIntervalMs: 0,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    try {
      await sim.waitForClients(1);
      sim.emit(lailaolab.message({ transactionId: 'L-3', amount: '25000' }));
      await rec.until((r) => r.events.length === 1, 'the socket payment');
      expect(rec.events[0]).toMatchObject({
        type: 'payment.completed',
        transactionId: 'L-3',
        amount: '25000',
        verification: 'secret-channel',
      });
    } finally {
      await source.close();
      await sim.close();
    }
  });
});

// The core conformance suite, fed only by these builders. A recent time: the plugins refuse
// deliveries older than their maximum age.
const at = new Date(Date.now() - 60_000);
runProviderConformance({
  name: '@payhook/testing NewPay fixtures',
  provider: () => createNewpayProvider(newpay.providerOptions),
  valid: newpay.paymentCallback({ orderNo: 'K-1', amount: '123.00', at }),
  expected: [{ type: 'payment.completed', orderId: 'K-1', amount: '123.00' }],
  wrongKey: createNewpayFixtures({ keys: stranger }).paymentCallback({ orderNo: 'K-1', at }),
  malformed: newpay.paymentCallback({ orderNo: 'K-1', extra: { orderAmt: 'lots' } }),
});
runProviderConformance({
  name: '@payhook/testing Cashy fixtures',
  provider: () => createPayinProvider(cashy.providerOptions),
  valid: cashy.payin({ mchOrderNo: 'K-2', amount: '100.10', at }),
  expected: [{ type: 'payment.completed', orderId: 'K-2', amount: '100.10' }],
  wrongKey: createCashyFixtures({ apiKey: 'stranger' }).payin({ mchOrderNo: 'K-2', at }),
  malformed: cashy.payin({ mchOrderNo: 'K-2', extra: { amount: 'lots' } }),
  contentType: 'application/json;charset=UTF-8',
});
runProviderConformance({
  name: '@payhook/testing signed-param fixtures',
  provider: () => createSignedParamProvider(signedParam.providerOptions),
  valid: signedParam.payment({ orderId: 'K-3', amount: '500.10', at }),
  expected: [{ type: 'payment.completed', orderId: 'K-3', amount: '500.10', currency: 'PHP' }],
  wrongKey: createSignedParamFixtures({ keys: stranger }).payment({ orderId: 'K-3', at }),
  malformed: signedParam.payment({ orderId: 'K-3', extra: { amount: 'lots' } }),
  notPaymentEvent: signedParam.payout({ orderId: 'P-2', at }),
});
