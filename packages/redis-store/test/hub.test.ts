import { Redis } from 'ioredis';
import { createPaymentHub, type PaymentEvent, type PaymentErrorLike } from '@payhook/core';
import { postDelivery, startTestServer, type TestServer } from '@payhook/core/testing';
import { createRedisStore, DONE, type RedisStore } from '@payhook/redis-store';
import { deletePrefix, REDIS_URL, testPrefix } from './support/redis';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';

// The hub + Redis store behind a real listening HTTP server, on the real Redis at 6379.
const prefix = testPrefix('hub');
const provider = createTestProvider();
const OK = provider.ack.ok;
const RETRY = provider.ack.retry;
let admin: Redis;

interface Instance {
  server: TestServer;
  store: RedisStore;
  events: PaymentEvent[];
  errors: PaymentErrorLike[];
}
const instances: Instance[] = [];

async function startInstance(): Promise<Instance> {
  const store = createRedisStore({ url: REDIS_URL, prefix });
  await store.ready();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 3_000, leaseMs: 5_000 });
  const instance: Instance = {
    server: await startTestServer(provider, { hub }),
    store,
    events: [],
    errors: [],
  };
  hub.onAny((event) => {
    instance.events.push(event);
  });
  hub.on('error', (error) => {
    instance.errors.push(error);
  });
  instances.push(instance);
  return instance;
}

async function untilExpired(key: string, boundMs = 5_000): Promise<void> {
  const start = Date.now();
  while ((await admin.exists(prefix + key)) === 1) {
    if (Date.now() - start > boundMs) throw new Error(`${key} did not expire within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  for (const instance of instances.splice(0)) {
    await instance.server.close();
    await instance.store.close();
  }
});

afterAll(async () => {
  await deletePrefix(admin, prefix);
  await admin.quit();
});

it('a payment is dispatched once, committed with the hub retention, and its redelivery acknowledged', async () => {
  const a = await startInstance();
  const delivery = signedDelivery({ txn: 'H1' });
  const first = await postDelivery(a.server.url, delivery);
  const second = await postDelivery(a.server.url, delivery);
  expect([first.status, first.body]).toEqual([OK.status, OK.body]);
  expect([second.status, second.body]).toEqual([OK.status, OK.body]);
  expect(a.events.map((e) => e.id)).toEqual(['test-gateway:H1:paid']);
  expect(await admin.get(prefix + 'test-gateway:H1:paid')).toBe(DONE);
  expect(await admin.pttl(prefix + 'test-gateway:H1:paid')).toBeGreaterThan(71 * 3_600_000);
});

it('two instances on the same Redis: concurrent deliveries of one payment dispatch it once', async () => {
  const a = await startInstance();
  const b = await startInstance();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  a.server.hub.onAny(() => gate);
  b.server.hub.onAny(() => gate);
  const delivery = signedDelivery({ txn: 'H2' });
  const settled: Array<{ status: number; body: string }> = [];
  const replies = Array.from({ length: 10 }, (_, i) =>
    postDelivery((i % 2 ? a : b).server.url, delivery).then((reply) => {
      settled.push(reply);
      return reply;
    }),
  );
  // The holder's listener is parked on the gate, so the nine others all answer while it is busy.
  while (settled.length < 9) await new Promise((r) => setTimeout(r, 10));
  expect(a.events.length + b.events.length).toBe(1);
  expect(settled.every((r) => r.status === RETRY.status && r.body === RETRY.body)).toBe(true);
  release();
  const answers = await Promise.all(replies);
  const ok = answers.filter((r) => r.status === OK.status && r.body === OK.body);
  expect(ok).toHaveLength(1);
  expect(a.events.length + b.events.length).toBe(1);
  // The gateway retries: now every redelivery is a duplicate, acknowledged, not dispatched.
  for (const instance of [a, b]) {
    const again = await postDelivery(instance.server.url, delivery);
    expect([again.status, again.body]).toEqual([OK.status, OK.body]);
  }
  expect(a.events.length + b.events.length).toBe(1);
});

it('a failing listener releases the Redis claim and the redelivery is processed', async () => {
  const a = await startInstance();
  let calls = 0;
  a.server.hub.onAny(() => {
    calls++;
    if (calls === 1) throw new Error('database down');
  });
  const delivery = signedDelivery({ txn: 'H3' });
  const first = await postDelivery(a.server.url, delivery);
  expect([first.status, first.body]).toEqual([RETRY.status, RETRY.body]);
  expect(await admin.exists(prefix + 'test-gateway:H3:paid')).toBe(0);
  expect(a.errors.map((e) => e.code)).toEqual(['ERR_LISTENER_FAILED']);
  const second = await postDelivery(a.server.url, delivery);
  expect([second.status, second.body]).toEqual([OK.status, OK.body]);
  expect(calls).toBe(2);
  expect(await admin.get(prefix + 'test-gateway:H3:paid')).toBe(DONE);
});

it('a claim whose holder died expires after its lease, and the next redelivery processes the payment', async () => {
  // Another instance claimed the payment, then crashed before commit or release: its connection
  // is gone, its claim stays until the lease runs out.
  const dying = createRedisStore({ url: REDIS_URL, prefix });
  await dying.ready();
  const held = await dying.claim('test-gateway:H4:paid', 400);
  expect(held.state).toBe('claimed');
  await dying.close();

  const a = await startInstance();
  const delivery = signedDelivery({ txn: 'H4' });
  const whileHeld = await postDelivery(a.server.url, delivery);
  expect([whileHeld.status, whileHeld.body]).toEqual([RETRY.status, RETRY.body]);
  expect(a.events).toHaveLength(0);

  await untilExpired('test-gateway:H4:paid');
  const redelivery = await postDelivery(a.server.url, delivery);
  expect([redelivery.status, redelivery.body]).toEqual([OK.status, OK.body]);
  expect(a.events.map((e) => e.id)).toEqual(['test-gateway:H4:paid']);
  expect(a.errors).toEqual([]);
});

it('a failure notice after the completion is superseded through the shared store', async () => {
  const a = await startInstance();
  const b = await startInstance();
  const paid = await postDelivery(a.server.url, signedDelivery({ txn: 'H5' }));
  expect(paid.body).toBe(OK.body);
  const failed = await postDelivery(b.server.url, signedDelivery({ txn: 'H5', status: 'FAILED' }));
  expect([failed.status, failed.body]).toEqual([OK.status, OK.body]);
  expect(a.events.map((e) => e.type)).toEqual(['payment.completed']);
  expect(b.events).toHaveLength(0);
});

it('a forged delivery gets 401 and touches neither Redis nor the listeners', async () => {
  const a = await startInstance();
  const genuine = signedDelivery({ txn: 'H6' });
  const forged = { body: genuine.body.replace('500.10', '900.10'), headers: genuine.headers };
  const reply = await postDelivery(a.server.url, forged);
  expect(reply.status).toBe(401);
  expect(reply.body).not.toBe(OK.body);
  expect(a.events).toHaveLength(0);
  expect(await admin.exists(prefix + 'test-gateway:H6:paid')).toBe(0);
});
