import { Redis } from 'ioredis';
import { createPaymentHub, type PaymentErrorLike } from '@payhook/core';
import { postDelivery, startTestServer, type TestServer } from '@payhook/core/testing';
import { createRedisStore, type RedisStore } from '@payhook/redis-store';
import { freePort, ScratchRedis, testPrefix } from './support/redis';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';

// A second redis-server, started, stopped and restarted by this test, on a port of its own.
const provider = createTestProvider();
const OK = provider.ack.ok;
const RETRY = provider.ack.retry;
const COMMAND_TIMEOUT_MS = 500;
const prefix = testPrefix('outage');
let redis: ScratchRedis;
let store: RedisStore;
let server: TestServer;
const dispatched = new Map<string, number>();
const errors: PaymentErrorLike[] = [];
let gate: Promise<void> | undefined;

beforeAll(async () => {
  redis = new ScratchRedis(await freePort());
  await redis.start();
  store = createRedisStore({ url: redis.url, prefix, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  await store.ready();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 3_000, leaseMs: 5_000 });
  hub.onAny(async (event) => {
    dispatched.set(event.id, (dispatched.get(event.id) ?? 0) + 1);
    await gate;
  });
  hub.on('error', (error) => {
    errors.push(error);
  });
  server = await startTestServer(provider, { hub });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  // The scratch server runs without persistence: stopping it is the clean-up.
  await redis?.stop();
});

async function untilReady(): Promise<void> {
  await store.ready(15_000);
}

it('Redis stops mid-run: deliveries get the retry answer fast, nothing is dispatched, and it recovers', async () => {
  const before = await postDelivery(server.url, signedDelivery({ txn: 'R1' }));
  expect([before.status, before.body]).toEqual([OK.status, OK.body]);
  expect(dispatched.get('test-gateway:R1:paid')).toBe(1);

  await redis.stop();

  const during = [];
  for (const txn of ['R2', 'R3', 'R2']) {
    const start = Date.now();
    const reply = await postDelivery(server.url, signedDelivery({ txn }));
    during.push({ reply, elapsed: Date.now() - start });
  }
  for (const { reply, elapsed } of during) {
    expect([reply.status, reply.body]).toEqual([RETRY.status, RETRY.body]);
    // Answered within the command timeout (plus HTTP), never left hanging on an offline queue.
    expect(elapsed).toBeLessThan(COMMAND_TIMEOUT_MS + 1_000);
  }
  expect(dispatched.has('test-gateway:R2:paid')).toBe(false);
  expect(dispatched.has('test-gateway:R3:paid')).toBe(false);
  expect(errors).toHaveLength(3);
  for (const error of errors) {
    expect(error.code).toBe('ERR_STORE_UNAVAILABLE');
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(/idempotency store failed/);
  }

  await redis.start();
  await untilReady();

  // The restarted server has an empty script cache: the store reloads its scripts (NOSCRIPT).
  const after = await postDelivery(server.url, signedDelivery({ txn: 'R2' }));
  expect([after.status, after.body]).toEqual([OK.status, OK.body]);
  const again = await postDelivery(server.url, signedDelivery({ txn: 'R2' }));
  expect([again.status, again.body]).toEqual([OK.status, OK.body]);
  expect(dispatched.get('test-gateway:R2:paid')).toBe(1);
  expect(errors).toHaveLength(3);
});

it('Redis lost while a listener runs and back within commitRetryMs: the commit is retried, the gateway hears success, the listener ran once', async () => {
  errors.length = 0;
  let open!: () => void;
  gate = new Promise<void>((resolve) => (open = resolve));
  const pending = postDelivery(server.url, signedDelivery({ txn: 'R4' }));
  while (!dispatched.has('test-gateway:R4:paid')) await new Promise((r) => setTimeout(r, 10));

  await redis.stop();
  open();
  try {
    // Down for about 0.5 s of the hub's commitRetryMs (2.5 s: half the 5 s lease).
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await redis.start();
  }
  const reply = await pending;
  gate = undefined;
  expect([reply.status, reply.body]).toEqual([OK.status, OK.body]);
  // Failed commits are retried quietly; nothing was reported, nothing released.
  expect(errors).toEqual([]);
  await untilReady();
  const redelivery = await postDelivery(server.url, signedDelivery({ txn: 'R4' }));
  expect([redelivery.status, redelivery.body]).toEqual([OK.status, OK.body]);
  expect(dispatched.get('test-gateway:R4:paid')).toBe(1);
});

it('Redis away for longer than commitRetryMs after the listener succeeded: ERR_COMMIT_FAILED, the gateway hears success, nothing is released', async () => {
  errors.length = 0;
  let open!: () => void;
  gate = new Promise<void>((resolve) => (open = resolve));
  const release = jest.spyOn(store, 'release');
  const pending = postDelivery(server.url, signedDelivery({ txn: 'R5' }));
  while (!dispatched.has('test-gateway:R5:paid')) await new Promise((r) => setTimeout(r, 10));

  await redis.stop();
  let reply;
  try {
    open();
    reply = await pending;
  } finally {
    gate = undefined;
    await redis.start();
  }
  // The listener did succeed: a retry answer would only make the gateway run it again.
  expect([reply.status, reply.body]).toEqual([OK.status, OK.body]);
  expect(errors.map((e) => e.code)).toEqual(['ERR_COMMIT_FAILED']);
  expect(errors[0]!.message).toMatch(/could not record it within 2500 ms/);
  expect(dispatched.get('test-gateway:R5:paid')).toBe(1);
  expect(release).not.toHaveBeenCalled();
  release.mockRestore();
  await untilReady();
});

it('a Redis restarted without persistence has forgotten what it knew (the failover limit)', async () => {
  const admin = new Redis(redis.url);
  try {
    // R1 was done before the first restart, and R5 never got recorded; this server started empty.
    expect(await admin.exists(prefix + 'test-gateway:R1:paid')).toBe(0);
    const replay = await postDelivery(server.url, signedDelivery({ txn: 'R1' }));
    expect(replay.body).toBe(OK.body);
    expect(dispatched.get('test-gateway:R1:paid')).toBe(2);
  } finally {
    await admin.quit();
  }
});
