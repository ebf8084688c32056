/**
 * Issue 13, Lailaolab: the attacks on an unsigned gateway, each played against the real
 * middleware (real HTTP) or the real socket source, with the simulator as the gateway. The
 * webhook carries no signature (none is published: the barlus-developer/phajay-payment-gateway
 * README on https://payment-doc.lailaolab.com/v1/verify-webhook-signature), so the status API
 * (https://payment-doc.lailaolab.com/v1/check-transaction-status) is the only authority: the body
 * may select a transaction, never say what it was.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { awaitedKey, createPaymentHub, type PaymentHubOptions } from '@payhook/core';
import { instantToIso } from '@payhook/core/plugin';
import { createCountingStore, reportCounts } from '@payhook/core/testing';
import {
  buildLailaolabMessage,
  startLailaolabSimulator,
  type LailaolabSimulator,
} from '@payhook/testing';
import {
  createLailaolabMiddleware,
  createLailaolabProvider,
  createLailaolabSource,
  type LailaolabMiddlewareOptions,
  type LailaolabSource,
  type LailaolabSourceOptions,
} from '../src';
import { record, SECRET, settle, startTestSource } from './helpers';

const HOUR = 3_600_000;
let sim: LailaolabSimulator;
let sources: LailaolabSource[] = [];
let seq = 0;
/** A fresh transaction id per test: every app below has its own cache, the simulator is shared. */
const txn = (name: string): string => `${name}-${++seq}`;

beforeAll(async () => {
  sim = await startLailaolabSimulator({ secretKey: SECRET });
});
afterEach(async () => {
  for (const s of sources) await s.close();
  sources = [];
  sim.statusApiMode = 'up';
});
afterAll(() => sim.close());

function webhookApp(
  extra: Partial<LailaolabMiddlewareOptions> = {},
  hubOptions: PaymentHubOptions = {},
) {
  const store = createCountingStore();
  const hub = createPaymentHub({ handlerTimeoutMs: 2_000, leaseMs: 5_000, ...hubOptions, store });
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

const post = (app: express.Express, body: unknown) =>
  request(app)
    .post('/lailaolab')
    .set('content-type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));

/** The record's paid time as the event shows it: Vientiane wall time. */
const vientiane = (at: Date): string => instantToIso(at.getTime(), 'Asia/Vientiane');

function startSource(extra: Partial<LailaolabSourceOptions> = {}) {
  return startTestSource(sim, sources, extra);
}

async function connectedSource(extra: Partial<LailaolabSourceOptions> = {}) {
  const t = startSource(extra);
  await t.rec.until((r) => r.up.length === 1, 'source.up');
  await sim.waitForClients(sources.length);
  // The sweep every connect starts is over once this one (run after it) is.
  await t.source.sweep();
  return t;
}

describe('item 1: every field of the event comes from the status record', () => {
  it('an order number the record contradicts is refused; the genuine delivery then credits the record order', async () => {
    const { app, rec, store } = webhookApp();
    const id = txn('ORDER-SWAP');
    sim.createTransaction({ transactionId: id, amount: 50000, orderNo: 'A-1' });
    const genuine = sim.pay(id, { emit: false });
    // The attacker paid A-1 and posts the webhook first, naming someone else's order.
    const forged = await post(app, { ...genuine, orderNo: 'B-2' });
    expect(forged.status).toBe(409);
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
    const real = await post(app, genuine);
    expect([real.status, real.text]).toEqual([200, 'OK']);
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ orderId: 'A-1', amount: '50000', currency: 'LAK' });
    expect(rec.duplicates).toHaveLength(0);
  });

  it('an order number the record does not have is not taken from the body', async () => {
    const { app, rec } = webhookApp();
    const id = txn('QR-NO-ORDER');
    sim.createTransaction({ transactionId: id, amount: 7000 });
    const genuine = sim.pay(id, { emit: false });
    const res = await post(app, { ...genuine, orderNo: 'B-2' });
    expect(res.status).toBe(200);
    expect(rec.events[0]).toMatchObject({ transactionId: id, orderId: null });
  });

  it('a currency the record lacks comes from the configuration (default LAK), never from the body', async () => {
    const { app, rec, store } = webhookApp();
    const id = txn('NO-CURRENCY');
    sim.createTransaction({ transactionId: id, amount: 50000, currency: null });
    const genuine = sim.pay(id, { emit: false });
    const usd = await post(app, { ...genuine, sourceCurrency: 'USD' });
    expect(usd.status).toBe(409);
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
    const lak = await post(app, genuine);
    expect(lak.status).toBe(200);
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ amount: '50000', currency: 'LAK' });
  });

  it('the `currency` option names the currency of records that state none', async () => {
    const { app, rec } = webhookApp({ currency: 'THB' });
    const id = txn('THB');
    sim.createTransaction({ transactionId: id, amount: 300, currency: null });
    const genuine = sim.pay(id, { emit: false, omit: ['sourceCurrency'] });
    expect(await post(app, genuine)).toMatchObject({ status: 200 });
    expect(rec.events[0]).toMatchObject({ currency: 'THB' });
  });

  it('a currency the record states wins over the configuration; a body that contradicts it is refused', async () => {
    const { app, rec } = webhookApp({ currency: 'THB' });
    const id = txn('RECORD-CURRENCY');
    sim.createTransaction({ transactionId: id, amount: 300 });
    const genuine = sim.pay(id, { emit: false });
    expect(await post(app, { ...genuine, sourceCurrency: 'USD' })).toMatchObject({
      status: 409,
    });
    expect(await post(app, genuine)).toMatchObject({ status: 200 });
    expect(rec.events[0]).toMatchObject({ currency: 'LAK' });
  });

  it('the paid time is the record paymentTime, whatever txnDateTime the body says', async () => {
    const { app, rec } = webhookApp();
    const id = txn('PAID-TIME');
    const paidAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);
    sim.createTransaction({ transactionId: id, amount: 1200 });
    const genuine = sim.pay(id, { emit: false, at: paidAt });
    const res = await post(app, { ...genuine, txnDateTime: '2020-01-01 00:00:00' });
    expect(res.status).toBe(200);
    expect(rec.events[0]).toMatchObject({
      occurredAt: vientiane(paidAt),
      verification: 'status-query',
      details: { statusQuery: { status: 'PAYMENT_COMPLETED', isPaid: true, amount: '1200' } },
    });
  });

  it('on the socket too: an order number the record contradicts emits nothing', async () => {
    const { rec, store } = await connectedSource();
    const id = txn('SOCKET-SWAP');
    sim.createTransaction({ transactionId: id, amount: 900, orderNo: 'A-9' });
    sim.pay(id, { extra: { orderNo: 'B-9' } });
    await rec.until((r) => r.errors.length === 1, 'the refusal');
    expect(rec.errors[0]!.code).toBe('ERR_STATUS_MISMATCH');
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });
});

describe('item 2: a confirmation older than the maximum age is refused', () => {
  it('a record paid more than 24 h ago (the default) is 401 ERR_DELIVERY_STALE: nothing emitted or stored', async () => {
    const { app, rec, store } = webhookApp();
    const id = txn('OLD');
    sim.createTransaction({ transactionId: id, amount: 100 });
    const genuine = sim.pay(id, { emit: false, at: new Date(Date.now() - 25 * HOUR) });
    const res = await post(app, genuine);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).error.code).toBe('ERR_DELIVERY_STALE');
    expect(rec.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
    expect(rec.errors.map((e) => e.code)).toEqual(['ERR_DELIVERY_STALE']);
  });

  it('maxAgeMs and clockSkewMs are options', async () => {
    const { app, rec } = webhookApp({ maxAgeMs: HOUR, clockSkewMs: 60_000 });
    const old = txn('TWO-HOURS');
    const recent = txn('HALF-HOUR');
    const ahead = txn('AHEAD');
    for (const id of [old, recent, ahead]) sim.createTransaction({ transactionId: id, amount: 5 });
    const m1 = sim.pay(old, { emit: false, at: new Date(Date.now() - 2 * HOUR) });
    const m2 = sim.pay(recent, { emit: false, at: new Date(Date.now() - HOUR / 2) });
    const m3 = sim.pay(ahead, { emit: false, at: new Date(Date.now() + 5 * 60_000) });
    expect((await post(app, m1)).status).toBe(401);
    expect((await post(app, m2)).status).toBe(200);
    expect((await post(app, m3)).status).toBe(401);
    expect(rec.events.map((e) => e.transactionId)).toEqual([recent]);
  });

  it('the provider declares maxAgeMs, and both mounts check the hub retention covers it', async () => {
    expect(createLailaolabProvider({ secretKey: SECRET }).maxAgeMs).toBe(24 * HOUR);
    expect(createLailaolabProvider({ secretKey: SECRET, maxAgeMs: HOUR }).maxAgeMs).toBe(HOUR);
    const hub = createPaymentHub({ retentionMs: 12 * HOUR });
    expect(() => createLailaolabMiddleware(hub, { secretKey: SECRET })).toThrow(/retentionMs/);
    expect(() =>
      createLailaolabSource(hub, {
        secretKey: SECRET,
        url: sim.socketBase,
        statusQuery: { baseUrl: sim.apiBase },
      }),
    ).toThrow(/retentionMs/);
    const fits = createLailaolabSource(hub, {
      secretKey: SECRET,
      url: sim.socketBase,
      statusQuery: { baseUrl: sim.apiBase },
      maxAgeMs: 6 * HOUR,
    });
    sources.push(fits);
    expect(fits.provider.maxAgeMs).toBe(6 * HOUR);
  });

  it('a genuine webhook replayed after the store forgot it credits nothing', async () => {
    // Scaled down: a 1.5 s retention and a 1 s maximum age instead of 72 h and 24 h.
    const { app, rec } = webhookApp(
      { maxAgeMs: 1_000, clockSkewMs: 200 },
      { retentionMs: 1_500, leaseMs: 1_000, handlerTimeoutMs: 500 },
    );
    const id = txn('REPLAY');
    sim.createTransaction({ transactionId: id, amount: 100000, orderNo: 'R-1' });
    const genuine = sim.pay(id, { emit: false });
    expect((await post(app, genuine)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_700));
    const replay = await post(app, genuine);
    expect(replay.status).toBe(401);
    expect(rec.events).toHaveLength(1);
  });
});

describe('item 3: a failure is emitted only when the record says the payment failed', () => {
  it('FAILED for a transaction the record says is WAITING is pending: acknowledged, nothing emitted', async () => {
    const { app, rec, store } = webhookApp();
    const id = txn('FORGED-FAIL');
    sim.createTransaction({ transactionId: id, amount: 4000, orderNo: 'F-1' });
    const res = await post(
      app,
      buildLailaolabMessage({ transactionId: id, amount: 4000, outcome: 'FAILED' }),
    );
    expect([res.status, res.text]).toEqual([200, 'OK']);
    expect(rec.events).toHaveLength(0);
    expect(rec.unhandled).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });

  it('FAILED with an amount the failed record contradicts is refused', async () => {
    const { app, rec } = webhookApp();
    const id = txn('FAIL-AMOUNT');
    sim.createTransaction({ transactionId: id, amount: 4000 });
    sim.fail(id, { emit: false, recordStatus: 'FAILED' });
    const res = await post(
      app,
      buildLailaolabMessage({ transactionId: id, amount: 999, outcome: 'FAILED' }),
    );
    expect(res.status).toBe(409);
    expect(rec.events).toHaveLength(0);
  });

  it.each(['FAILED', 'EXPIRED'])(
    'a record that says %s makes payment.failed with the record amount, order and status',
    async (recordStatus) => {
      const { app, rec } = webhookApp();
      const id = txn(`REC-${recordStatus}`);
      sim.createTransaction({ transactionId: id, amount: 4500, orderNo: 'F-2' });
      const message = sim.fail(id, { emit: false, recordStatus });
      const res = await post(app, message);
      expect(res.status).toBe(200);
      expect(rec.events).toHaveLength(1);
      expect(rec.events[0]).toMatchObject({
        id: `lailaolab:${id}:failed`,
        type: 'payment.failed',
        orderId: 'F-2',
        amount: '4500',
        currency: 'LAK',
        verification: 'status-query',
        failure: { code: recordStatus },
      });
    },
  );

  it('on the socket: a FAILED message for a waiting record emits nothing', async () => {
    const { rec, store } = await connectedSource();
    const id = txn('SOCKET-FAIL');
    sim.createTransaction({ transactionId: id, amount: 300 });
    sim.fail(id);
    await new Promise<void>((resolve) => {
      const check = (): void =>
        sim.statusRequests.some((r) => r.transactionId === id)
          ? resolve()
          : void setTimeout(check, 5);
      check();
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.events).toHaveLength(0);
    expect(rec.errors).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });
});

describe('item 5: notices nobody confirmed reach unhandled marked unverified', () => {
  it('a webhook notice that is not a payment outcome: 200, unhandled with verified false, no status query', async () => {
    const { app, rec } = webhookApp();
    const before = sim.statusRequests.length;
    const res = await post(app, {
      status: 'SUBSCRIPTION_CONNECTED',
      message: 'SUBSCRIPTION_CONNECTED_SUCCESSFULLY',
    });
    expect([res.status, res.text]).toEqual([200, 'OK']);
    expect(rec.unhandled).toHaveLength(1);
    expect(rec.unhandled[0]).toMatchObject({ provider: 'lailaolab', verified: false });
    expect(sim.statusRequests.length).toBe(before);
  });

  it('the same notice on the socket, the secret channel, is verified', async () => {
    const { rec } = await connectedSource();
    sim.emit({ status: 'SUBSCRIPTION_CONNECTED', message: 'SUBSCRIPTION_CONNECTED_SUCCESSFULLY' });
    await rec.until((r) => r.unhandled.length === 1, 'unhandled');
    expect(rec.unhandled[0]).toMatchObject({ verified: true });
  });
});

describe('item 7: a PAYMENT_COMPLETED message without `message` is a completion', () => {
  it('webhook: confirmed and emitted', async () => {
    const { app, rec } = webhookApp();
    const id = txn('NO-MESSAGE');
    sim.createTransaction({ transactionId: id, amount: 2500 });
    const genuine = sim.pay(id, { emit: false, omit: ['message'] });
    expect(genuine).not.toHaveProperty('message');
    const res = await post(app, genuine);
    expect(res.status).toBe(200);
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ type: 'payment.completed', amount: '2500' });
    expect(rec.unhandled).toHaveLength(0);
  });

  it('webhook: a forged one is confirmed like any completion, and refused', async () => {
    const { app, rec } = webhookApp();
    const id = txn('NO-MESSAGE-FORGED');
    sim.createTransaction({ transactionId: id, amount: 2500 });
    const res = await post(app, {
      status: 'PAYMENT_COMPLETED',
      transactionId: id,
      txnAmount: 2500,
    });
    expect(res.status).toBe(409);
    expect(rec.events).toHaveLength(0);
  });

  it('a completion that beats its record is emitted once the record says paid (socket: watched, swept)', async () => {
    const { rec, source } = await connectedSource({});
    const id = txn('EARLY');
    sim.createTransaction({ transactionId: id, amount: 1200 });
    // The channel tells of the payment before the status API records it.
    sim.emit(buildLailaolabMessage({ transactionId: id, amount: 1200 }));
    await rec.until((r) => r.errors.length === 1, 'the not-yet answer');
    expect(rec.events).toHaveLength(0);
    // The source watches the transaction (the not-yet answer is a retry), and its sweep asks again.
    for (let i = 0; i < 100 && source.status().watched === 0; i++) await settle();
    expect(source.status().watched).toBe(1);
    sim.pay(id, { emit: false });
    expect(await source.sweep()).toMatchObject({ checked: 1, emitted: 1 });
    await rec.until((r) => r.events.length === 1, 'the swept completion');
    expect(rec.events[0]).toMatchObject({ transactionId: id, amount: '1200' });
  });

  it.each([
    ['confirmed (default)', {}, 'status-query'],
    ['secret-channel', { confirmByStatusQuery: false }, 'secret-channel'],
  ] as const)('socket, %s: emitted', async (_name, extra, verification) => {
    const { rec } = await connectedSource(extra);
    const id = txn('SOCKET-NO-MESSAGE');
    sim.createTransaction({ transactionId: id, amount: 800 });
    sim.pay(id, { omit: ['message'] });
    await rec.until((r) => r.events.length === 1, 'the completion');
    expect(rec.events[0]).toMatchObject({ transactionId: id, amount: '800', verification });
  });
});

describe('item 8: the socket confirms by status query unless told not to', () => {
  it('by default, a socket payment is confirmed before it is emitted', async () => {
    const { rec } = await connectedSource();
    const id = txn('DEFAULT-CONFIRM');
    sim.createTransaction({ transactionId: id, amount: 100000 });
    sim.pay(id);
    await rec.until((r) => r.events.length === 1, 'the payment');
    expect(rec.events[0]).toMatchObject({ verification: 'status-query' });
    expect(sim.statusRequests.filter((r) => r.transactionId === id)).toHaveLength(1);
  });

  it('by default, a forged socket payment is refused', async () => {
    const { rec } = await connectedSource();
    const id = txn('DEFAULT-FORGED');
    sim.createTransaction({ transactionId: id, amount: 100000 });
    sim.emit(buildLailaolabMessage({ transactionId: id, amount: 100000 }));
    await rec.until((r) => r.errors.length === 1, 'the refusal');
    expect(rec.events).toHaveLength(0);
  });

  it('confirmByStatusQuery: false trusts the secret channel: no status query, verification secret-channel', async () => {
    const { rec } = await connectedSource({ confirmByStatusQuery: false });
    const id = txn('OPT-OUT');
    sim.createTransaction({ transactionId: id, amount: 100000 });
    sim.pay(id);
    await rec.until((r) => r.events.length === 1, 'the payment');
    expect(rec.events[0]).toMatchObject({ verification: 'secret-channel' });
    expect(sim.statusRequests.filter((r) => r.transactionId === id)).toHaveLength(0);
  });
});

describe("the contract: confirm, then normalize; the sweep is the hub's status query", () => {
  it('the provider confirms in its confirm step', () => {
    expect(typeof createLailaolabProvider({ secretKey: SECRET }).confirm).toBe('function');
  });

  it('one payment seen by the sweep, the webhook and the socket is processed once', async () => {
    const { hub, rec, source } = await connectedSource();
    const app = express();
    app.use('/lailaolab', createLailaolabMiddleware(hub, { source }));
    const id = txn('THREE-WAYS');
    sim.createTransaction({ transactionId: id, amount: 64000, orderNo: 'T-3' });
    await source.watch(id);
    const message = sim.pay(id, { emit: false });
    // The sweep first: once settled, an awaited payment is not asked about again.
    expect(await source.sweep()).toMatchObject({ checked: 1, emitted: 1 });
    expect((await post(app, message)).status).toBe(200);
    sim.emit(message);
    await rec.until((r) => r.duplicates.length === 2, 'the webhook and the socket duplicates');
    expect(await source.sweep()).toMatchObject({ checked: 0 });
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ id: `lailaolab:${id}:completed`, orderId: 'T-3' });
    expect(rec.settled).toEqual([
      expect.objectContaining({ reference: id, settledBy: 'status-query' }),
    ]);
  });

  it('a socket message, a webhook (real HTTP) and a sweep racing for the same transactions: one event each', async () => {
    const { hub, rec, source } = await connectedSource();
    const app = express();
    app.use('/lailaolab', createLailaolabMiddleware(hub, { source }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lailaolab`;
    const runs = new Map<string, number>();
    // Slow listeners and a slow status API: the three paths overlap in the claim.
    hub.on('payment.completed', async (event) => {
      runs.set(event.transactionId, (runs.get(event.transactionId) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 30));
    });
    sim.statusApiLatencyMs = 15;
    try {
      const ids = Array.from({ length: 6 }, () => txn('RACE'));
      const messages = new Map<string, unknown>();
      for (const id of ids) {
        sim.createTransaction({ transactionId: id, amount: 4200 });
        expect(await source.watch(id)).toBe(true);
        messages.set(id, sim.pay(id, { emit: false }));
      }
      const postOnce = async (id: string): Promise<number> =>
        (
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(messages.get(id)),
          })
        ).status;
      // The gateway delivers the webhook again until it gets 200 (a claim held is 500 RETRY).
      const webhook = async (id: string): Promise<number[]> => {
        const statuses = [await postOnce(id)];
        while (statuses.at(-1) === 500 && statuses.length < 20) {
          await new Promise((r) => setTimeout(r, 20));
          statuses.push(await postOnce(id));
        }
        return statuses;
      };
      for (const id of ids) sim.emit(messages.get(id));
      const [replies, swept] = await Promise.all([Promise.all(ids.map(webhook)), source.sweep()]);
      await rec.until((r) => r.settled.length === ids.length, 'every awaited payment settled');
      await settle();
      const counts = {
        events: rec.events.length,
        runsPerId: ids.map((id) => runs.get(id) ?? 0),
        settledBy: rec.settled.map((p) => p.settledBy).sort(),
        sweep: swept,
        webhookReplies: replies.map((r) => r.join('>')),
      };
      reportCounts('socket, webhook and sweep racing', counts);
      expect(counts.runsPerId).toEqual(ids.map(() => 1));
      expect(rec.events).toHaveLength(ids.length);
      expect(new Set(rec.events.map((e) => e.id)).size).toBe(ids.length);
      for (const r of replies) expect(r.at(-1)).toBe(200);
      for (const id of ids)
        expect(await hub.awaited.get(awaitedKey('lailaolab', { reference: id }))).toMatchObject({
          state: 'settled',
        });
      // Nothing is left to ask about, and asking again emits nothing.
      expect(await source.watching()).toEqual([]);
      expect(await hub.reconcile(source.provider, ids[0]!)).toMatchObject({
        outcome: 'duplicate',
      });
      expect(rec.events).toHaveLength(ids.length);
    } finally {
      sim.statusApiLatencyMs = 0;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("the sweep recovers a payment the socket never told, through the hub's status query", async () => {
    const { rec, source } = await connectedSource();
    const id = txn('SWEPT');
    sim.createTransaction({ transactionId: id, amount: 3100, orderNo: 'S-1' });
    await source.watch(id);
    sim.pay(id, { emit: false });
    expect(await source.sweep()).toMatchObject({ checked: 1, emitted: 1 });
    expect(sim.statusRequests.filter((r) => r.transactionId === id)).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({
      transactionId: id,
      orderId: 'S-1',
      amount: '3100',
      verification: 'status-query',
    });
    expect(await source.watching()).toEqual([]);
  });
});
