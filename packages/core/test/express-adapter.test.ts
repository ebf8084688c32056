import request from 'supertest';
import express5 from 'express';
import express4 from 'express4';
import {
  createPaymentHub,
  createWebhookMiddleware,
  keepRawBody,
  type PaymentEvent,
  type PaymentHub,
  type PaymentHubOptions,
} from '../src';
import { createCountingStore } from '../src/testing';
import { createTestProvider, sign, signedDelivery } from '../src/testing';

type ExpressFactory = typeof express5;

function setup(
  factory: ExpressFactory,
  hubOptions: PaymentHubOptions = {},
  mount?: (app: ReturnType<ExpressFactory>) => void,
) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 300, leaseMs: 2_000, ...hubOptions });
  const provider = createTestProvider();
  const app = factory();
  mount?.(app);
  app.use('/webhooks/test', createWebhookMiddleware(hub, provider, { limit: 1024 }));
  const seen = {
    events: [] as PaymentEvent[],
    errors: [] as Error[],
    unhandled: 0,
    duplicates: 0,
    superseded: 0,
  };
  hub.onAny((e) => {
    seen.events.push(e);
  });
  hub.on('error', (e) => {
    seen.errors.push(e);
  });
  hub.on('unhandled', () => {
    seen.unhandled++;
  });
  hub.on('duplicate', () => {
    seen.duplicates++;
  });
  hub.on('superseded', () => {
    seen.superseded++;
  });
  return { app, hub, store, seen };
}

function post(
  app: Parameters<typeof request>[0],
  delivery: { body: string; headers: Record<string, string> },
  contentType = 'application/json',
) {
  return request(app)
    .post('/webhooks/test')
    .set('content-type', contentType)
    .set(delivery.headers)
    .send(delivery.body);
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as ExpressFactory],
])('Express adapter on %s', (_name, factory) => {
  it('acknowledges a genuine delivery with the gateway body only after the listener resolved', async () => {
    const { app, hub, seen } = setup(factory);
    const order: string[] = [];
    hub.on('payment.completed', async (event) => {
      await new Promise((r) => setTimeout(r, 20));
      order.push(`listener:${event.amount}`);
    });
    const res = await post(app, signedDelivery());
    order.push('response');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"ok":true}');
    expect(order).toEqual(['listener:500.10', 'response']);
    expect(seen.events).toHaveLength(1);
    expect(seen.events[0]).toMatchObject({
      id: 'test-gateway:T1:paid',
      type: 'payment.completed',
      provider: 'test-gateway',
      amount: '500.10',
      verification: 'signature',
      raw: { txn: 'T1', amount: '500.10' },
    });
  });

  it('a duplicate gets the success body and no second dispatch', async () => {
    const { app, seen } = setup(factory);
    const delivery = signedDelivery();
    expect((await post(app, delivery)).status).toBe(200);
    const again = await post(app, delivery);
    expect(again.status).toBe(200);
    expect(again.text).toBe('{"ok":true}');
    expect(seen.events).toHaveLength(1);
    expect(seen.duplicates).toBe(1);
  });

  it('a delivery whose event is in flight elsewhere gets the retry body', async () => {
    const { app, hub, seen } = setup(factory);
    let release!: () => void;
    hub.on('payment.completed', () => new Promise<void>((r) => (release = r)));
    const delivery = signedDelivery();
    const first = post(app, delivery).then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    const second = await post(app, delivery);
    expect(second.status).toBe(503);
    expect(second.text).toBe('{"ok":false}');
    release();
    expect((await first).status).toBe(200);
    expect(seen.events).toHaveLength(1);
  });

  it('a failing listener releases the claim: retry body, then the redelivery is processed once', async () => {
    const { app, hub, seen } = setup(factory);
    let calls = 0;
    hub.on('payment.completed', () => {
      calls++;
      if (calls === 1) throw new Error('db down');
    });
    const delivery = signedDelivery();
    const first = await post(app, delivery);
    expect(first.status).toBe(503);
    expect(seen.errors[0]).toMatchObject({ code: 'ERR_LISTENER_FAILED' });
    expect((seen.errors[0] as AggregateError).errors[0]).toHaveProperty('message', 'db down');
    expect((await post(app, delivery)).status).toBe(200);
    expect((await post(app, delivery)).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('a listener that outlives the handler timeout counts as failed and is aborted', async () => {
    const { app, hub, seen } = setup(factory);
    let aborted = false;
    hub.on('payment.completed', (_e, { signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise(() => undefined);
    });
    const res = await post(app, signedDelivery());
    expect(res.status).toBe(503);
    expect(aborted).toBe(true);
    expect(seen.errors[0]).toMatchObject({ code: 'ERR_LISTENER_FAILED' });
    expect((seen.errors[0] as AggregateError).errors[0]).toMatchObject({
      code: 'ERR_LISTENER_TIMEOUT',
    });
  });

  it('a verified delivery that is not a payment event is acknowledged and emitted on unhandled', async () => {
    const { app, store, seen } = setup(factory);
    const res = await post(app, signedDelivery({ event: 'payout' }));
    expect(res.status).toBe(200);
    expect(seen.unhandled).toBe(1);
    expect(seen.events).toHaveLength(0);
    expect(store.calls.claim).toBe(0);
  });

  it('a payment that is not final yet is acknowledged and emits nothing', async () => {
    const { app, store, seen } = setup(factory);
    const res = await post(app, signedDelivery({ status: 'PENDING' }));
    expect(res.status).toBe(200);
    expect(seen.events).toHaveLength(0);
    expect(seen.unhandled).toBe(0);
    expect(store.calls.claim).toBe(0);
  });

  it('a failure notice that arrives after the completion is superseded, not dispatched', async () => {
    const { app, seen } = setup(factory);
    expect((await post(app, signedDelivery({ status: 'PAID' }))).status).toBe(200);
    const late = await post(app, signedDelivery({ status: 'FAILED' }));
    expect(late.status).toBe(200);
    expect(seen.events.map((e) => e.type)).toEqual(['payment.completed']);
    expect(seen.superseded).toBe(1);
  });

  it('a refund that arrives before its payment is still dispatched (both are facts)', async () => {
    const { app, seen } = setup(factory);
    expect(
      (await post(app, signedDelivery({ status: 'REFUNDED', refundId: 'R1', amount: '100.00' })))
        .status,
    ).toBe(200);
    expect((await post(app, signedDelivery({ status: 'PAID' }))).status).toBe(200);
    expect(seen.events.map((e) => [e.type, e.refund?.amount])).toEqual([
      ['payment.refunded', '100.00'],
      ['payment.completed', undefined],
    ]);
  });

  describe('refuses bad input with a clear error, emitting nothing and leaving the store alone', () => {
    const cases: Array<
      [string, (app: Parameters<typeof request>[0]) => request.Test, number, string]
    > = [
      [
        'a forged signature',
        (app) => post(app, { ...signedDelivery(), headers: { 'x-test-signature': sign('other') } }),
        401,
        'ERR_SIGNATURE_INVALID',
      ],
      [
        'a missing signature',
        (app) => post(app, { ...signedDelivery(), headers: {} }),
        401,
        'ERR_SIGNATURE_MISSING',
      ],
      [
        'a tampered body',
        (app) =>
          post(app, {
            ...signedDelivery(),
            body: signedDelivery().body.replace('500.10', '900.10'),
          }),
        401,
        'ERR_SIGNATURE_INVALID',
      ],
      [
        'malformed JSON',
        (app) =>
          post(app, { body: '{"event":', headers: { 'x-test-signature': sign('{"event":') } }),
        400,
        'ERR_PAYLOAD_MALFORMED',
      ],
      [
        'a prototype-pollution key',
        (app) => {
          const body = '{"__proto__":{"admin":true},"event":"payment"}';
          return post(app, { body, headers: { 'x-test-signature': sign(body) } });
        },
        400,
        'ERR_PAYLOAD_MALFORMED',
      ],
      [
        'an oversized body',
        (app) => {
          const d = signedDelivery({ order: 'x'.repeat(2000) });
          return post(app, d);
        },
        413,
        'ERR_PAYLOAD_TOO_LARGE',
      ],
      [
        'a wrong content type',
        (app) => post(app, signedDelivery(), 'text/plain'),
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a compressed body',
        (app) => post(app, signedDelivery()).set('content-encoding', 'gzip'),
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['a GET', (app) => request(app).get('/webhooks/test'), 405, 'ERR_METHOD_NOT_ALLOWED'],
    ];
    it.each(cases)('%s', async (_label, send, status, code) => {
      const { app, store, seen } = setup(factory);
      const res = await send(app);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(/^@payhook\//);
      expect(seen.events).toHaveLength(0);
      expect(store.calls.claim).toBe(0);
      expect(seen.errors).toHaveLength(1);
      if (status === 405) expect(res.headers.allow).toBe('POST');
    });

    it('a schema-invalid payload names the failing fields', async () => {
      const { app, seen } = setup(factory);
      const body = JSON.stringify({ event: 'payment', txn: '', amount: 12.5, status: 'PAID' });
      const res = await post(app, { body, headers: { 'x-test-signature': sign(body) } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('ERR_PAYLOAD_INVALID');
      expect(res.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual([
        '/amount',
        '/at',
        '/txn',
      ]);
      expect(seen.events).toHaveLength(0);
    });
  });

  it('answers 500 at once, naming the fix, when express.json() consumed the body first', async () => {
    const { app, seen } = setup(factory, {}, (a) => a.use(factory.json()));
    const started = Date.now();
    const res = await post(app, signedDelivery());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('ERR_BODY_CONSUMED');
    expect(res.body.error.message).toMatch(/before express\.json\(\)/);
    expect(res.body.error.message).toMatch(/verify: keepRawBody/);
    expect(seen.events).toHaveLength(0);
  });

  it('verifies the bytes kept in req.rawBody by keepRawBody, a parser verify hook', async () => {
    const { app, seen } = setup(factory, {}, (a) => a.use(factory.json({ verify: keepRawBody })));
    const res = await post(app, signedDelivery());
    expect(res.status).toBe(200);
    expect(seen.events).toHaveLength(1);
  });

  it('verifies a Buffer left by express.raw()', async () => {
    const { app, seen } = setup(factory, {}, (a) => a.use(factory.raw({ type: '*/*' })));
    const res = await post(app, signedDelivery());
    expect(res.status).toBe(200);
    expect(seen.events).toHaveLength(1);
  });

  it('never verifies a re-serialized object: the same JSON with other spacing fails', async () => {
    const { app, seen } = setup(factory);
    const d = signedDelivery();
    const respaced = JSON.stringify(JSON.parse(d.body), null, 1);
    const res = await post(app, { body: respaced, headers: d.headers });
    expect(res.status).toBe(401);
    expect(seen.events).toHaveLength(0);
  });
});

describe('store failures', () => {
  it('a store that throws gets the retry body and an error event, and nothing is dispatched unclaimed', async () => {
    const hub: PaymentHub = createPaymentHub({
      store: {
        claim: async () => {
          throw new Error('ECONNREFUSED');
        },
        commit: async () => undefined,
        release: async () => undefined,
      },
    });
    const errors: Error[] = [];
    const events: PaymentEvent[] = [];
    hub.on('error', (e) => {
      errors.push(e);
    });
    hub.onAny((e) => {
      events.push(e);
    });
    const app = express5();
    app.use('/webhooks/test', createWebhookMiddleware(hub, createTestProvider()));
    const res = await post(app, signedDelivery());
    expect(res.status).toBe(503);
    expect(events).toHaveLength(0);
    expect(errors[0]).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect(errors[0]!.message).toMatch(/ECONNREFUSED/);
  });
});
