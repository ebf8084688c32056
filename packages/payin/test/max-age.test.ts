/**
 * Issue 23: the maximum age applied where a webhook's signed time does not reach. Over real HTTP:
 * Cashy's status API is a local server, the merchant's "refresh my payment" page calls
 * hub.reconcile with a reference the customer names, and the webhook goes through the middleware.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createMemoryInbox, createPaymentHub } from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { createCountingStore, recordHub } from '@payhook/core/testing';
import { createPayinMiddleware } from '../src';
import { buildCashyMessage } from '../src/signing';
import { API_KEY, MERCHANT_ID, createHarness, payinWebhook, post, wallTime } from './fixtures';

const HOUR = 3_600_000;

/** Cashy's /api/payInQuery: answers the orders it is given, as the query example does. */
async function startStatusApi(orders: Map<string, Record<string, unknown>>) {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const orderNo = String((JSON.parse(body) as { orderNo?: string }).orderNo);
      const order = orders.get(orderNo);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          order
            ? { code: 200, msg: 'SUCCESS', data: order }
            : { code: 500, msg: 'Payin_Order_Error', data: null },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/stage-api/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const paidOrder = (orderNo: string, completionTime: string | null) => ({
  merchantId: MERCHANT_ID,
  mchOrderNo: `M-${orderNo}`,
  orderNo,
  amount: '100.10',
  fee: '1.5000',
  orderType: 'API',
  orderStatus: 'SUCCESS',
  completionTime,
});

describe('hub.reconcile of a paid order older than maxAgeMs, after the store forgot it', () => {
  const orders = new Map<string, Record<string, unknown>>();
  let api: Awaited<ReturnType<typeof startStatusApi>>;
  beforeAll(async () => {
    api = await startStatusApi(orders);
  });
  afterAll(() => api.close());

  /** A fresh process (the store forgot everything) with the customer's "refresh" page. */
  function shop() {
    const store = createCountingStore();
    const hub = createPaymentHub({ store });
    const recording = recordHub(hub);
    const cashy = createPayinMiddleware(hub, {
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      statusQuery: { baseUrl: api.baseUrl },
    });
    const app = express();
    app.use('/webhooks/cashy', cashy);
    app.post('/orders/:orderNo/refresh', async (req, res) => {
      // The merchant's page: the reference comes from the customer.
      const result = await hub.reconcile(cashy.provider, req.params.orderNo);
      res.status(result.reply.status).json({ outcome: result.outcome, code: result.error?.code });
    });
    return { hub, store, recording, app, provider: cashy.provider };
  }

  it('is refused 401 ERR_DELIVERY_STALE like its webhook: nothing emitted, nothing stored', async () => {
    const completionTime = wallTime(25 * HOUR);
    orders.set('PAYIN-OLD-1', paidOrder('PAYIN-OLD-1', completionTime));
    const s = shop();
    const webhook = payinWebhook({ orderNo: 'PAYIN-OLD-1', completionTime });
    const replayed = await request(s.app)
      .post('/webhooks/cashy')
      .set(webhook.headers)
      .send(webhook.body);
    expect(replayed.status).toBe(401);
    const refresh = await request(s.app).post('/orders/PAYIN-OLD-1/refresh');
    expect(refresh.status).toBe(401);
    expect(refresh.body).toEqual({ outcome: 'rejected', code: 'ERR_DELIVERY_STALE' });
    expect(s.recording.events).toHaveLength(0);
    expect(s.store.calls.claim).toBe(0);
    expect((await s.store.claim('cashy:PAYIN-OLD-1:completed', 1_000)).state).toBe('claimed');
  });

  it("is processed once when the merchant's own code passes allowOlderThanMaxAge", async () => {
    orders.set('PAYIN-OLD-2', paidOrder('PAYIN-OLD-2', wallTime(25 * HOUR)));
    const s = shop();
    const opts = { allowOlderThanMaxAge: true };
    expect((await s.hub.reconcile(s.provider, 'PAYIN-OLD-2', opts)).outcome).toBe('processed');
    expect((await s.hub.reconcile(s.provider, 'PAYIN-OLD-2', opts)).outcome).toBe('duplicate');
    expect(s.recording.events.map((e) => e.id)).toEqual(['cashy:PAYIN-OLD-2:completed']);
  });

  it('a young paid order is reconciled as before', async () => {
    orders.set('PAYIN-NEW-1', paidOrder('PAYIN-NEW-1', wallTime(HOUR)));
    const s = shop();
    const refresh = await request(s.app).post('/orders/PAYIN-NEW-1/refresh');
    expect(refresh.body).toEqual({ outcome: 'processed' });
    expect(s.recording.events).toHaveLength(1);
  });

  it('a SUCCESS order the status API answers without completionTime is refused, not dated now', async () => {
    orders.set('PAYIN-NOTIME', paidOrder('PAYIN-NOTIME', null));
    const s = shop();
    const refresh = await request(s.app).post('/orders/PAYIN-NOTIME/refresh');
    expect(refresh.status).toBe(401);
    expect(refresh.body.code).toBe('ERR_DELIVERY_STALE');
    expect(s.recording.events).toHaveLength(0);
  });
});

describe('a SUCCESS webhook without completionTime', () => {
  it('is refused 401 as stale-unknown: no signed time to bound its replays', async () => {
    const h = createHarness();
    for (const completionTime of [null, undefined]) {
      const res = await post(h, payinWebhook({ completionTime, orderNo: 'PAYIN-NT' } as never));
      expect(res.status).toBe(401);
      expect(res.text).toContain('ERR_DELIVERY_STALE');
      expect(res.text).toContain('without completionTime');
    }
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('FAIL and CANCEL without it are still processed (they never have one)', async () => {
    const h = createHarness();
    h.hub.on('payment.failed', () => undefined);
    const res = await post(
      h,
      payinWebhook({ orderStatus: 'FAIL', fee: null, completionTime: null, orderNo: 'PAYIN-F' }),
    );
    expect(res.text).toBe('SUCCESS');
  });
});

describe('hub.replay of an old Cashy FAIL (no signed time)', () => {
  // A scaled window: maxAgeMs 1 s, retention 2.5 s; the entry is replayed 2.7 s after it arrived,
  // when the store has forgotten the event.
  it('is refused past maxAgeMs (by its receivedAt), and processed with allowOlderThanMaxAge', async () => {
    const inbox = createMemoryInbox();
    const hub = createPaymentHub({
      inbox,
      retentionMs: 2_500,
      leaseMs: 1_000,
      handlerTimeoutMs: 500,
      commitRetryMs: 400,
    });
    const failed: string[] = [];
    hub.on('payment.failed', (e) => void failed.push(e.id));
    const cashy = createPayinMiddleware(hub, {
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      maxAgeMs: 1_000,
      clockSkewMs: 500,
    });
    const app = express().use('/webhooks/cashy', cashy);
    const fail = buildCashyMessage(
      {
        orderStatus: 'FAIL',
        amount: jsonNumber('100.10'),
        mchOrderNo: 'M-F1',
        merchantId: MERCHANT_ID,
        orderNo: 'PAYIN-FAIL-1',
        completionTime: null,
      },
      { merchantId: MERCHANT_ID, apiKey: API_KEY },
    );
    const first = await request(app).post('/webhooks/cashy').set(fail.headers).send(fail.body);
    expect(first.text).toBe('SUCCESS');
    const [entry] = (await inbox.list({ provider: 'cashy' })).entries;
    await new Promise((resolve) => setTimeout(resolve, 2_700));
    const refused = await hub.replay(cashy.provider, entry!.id);
    expect(refused.outcome).toBe('rejected');
    expect(refused.error?.code).toBe('ERR_DELIVERY_STALE');
    expect(refused.error?.message).toContain('allowOlderThanMaxAge');
    expect(failed).toEqual(['cashy:PAYIN-FAIL-1:failed']);
    const allowed = await hub.replay(cashy.provider, entry!.id, { allowOlderThanMaxAge: true });
    expect(allowed.outcome).toBe('processed');
    expect(failed).toEqual(['cashy:PAYIN-FAIL-1:failed', 'cashy:PAYIN-FAIL-1:failed']);
    // Both replays are entries of their own, dated now, pointing at the original.
    const replays = (await inbox.list({ replayOf: entry!.id })).entries;
    expect(replays.map((r) => r.outcome).sort()).toEqual(['processed', 'rejected']);
    expect(replays.every((r) => r.receivedAt.getTime() > entry!.receivedAt.getTime() + 2_000)).toBe(
      true,
    );
  });
});
