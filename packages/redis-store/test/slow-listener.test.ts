/**
 * Issue 14, item 1 on Redis: a listener slower than handlerTimeoutMs, and slower than the lease,
 * must still run once per payment. The hub answers the gateway's retry body at the timeout but keeps
 * the claim, renewing it (store.renew, a token-checked PEXPIRE) every leaseMs / 3 until the listener
 * settles. The gateway redelivers every 40 ms until it hears its success body, over real HTTP, to a
 * hub whose store is on the real Redis at 6379. `PAYHOOK_TEST_REPORT=1` prints the counts.
 */
import { Agent } from 'node:http';
import { Redis } from 'ioredis';
import { createPaymentHub, type IdempotencyStore } from '@payhook/core';
import {
  createTestProvider,
  postKeepAlive,
  reportCounts,
  signedDelivery,
  startTestServer,
} from '@payhook/core/testing';
import { createRedisStore, DONE, type RedisStore } from '@payhook/redis-store';
import { deletePrefix, REDIS_URL, testPrefix } from './support/redis';

const provider = createTestProvider();
const OK = provider.ack.ok;
const RETRY = provider.ack.retry;
const PAYMENTS = 200;
const HANDLER_TIMEOUT_MS = 150;
const LEASE_MS = 450;
// Longer than the handler timeout and than two leases: only renewal keeps the claim.
const LISTENER_MS = 1_000;
const REDELIVER_EVERY_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const prefix = testPrefix('slow-listener');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let admin: Redis;
const stores: RedisStore[] = [];

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  await deletePrefix(admin, prefix);
  await admin.quit();
  agent.destroy();
});

interface Run {
  runs: Map<string, number>;
  deliveries: number;
  retryAnswers: number;
  lostClaims: number;
  renewals: number;
  elapsedMs: number;
  acknowledged: number;
}

/**
 * 200 payments through one hub. `withRenew: false` hides store.renew (the store before item 1); the
 * gateway then gives up after `windowMs` instead of failing the test, since every run then ends in a
 * retry answer and a new run (see the control).
 */
async function slowPayments(name: string, withRenew: boolean, windowMs = 20_000): Promise<Run> {
  let lostClaims = 0;
  const redis = createRedisStore({
    url: REDIS_URL,
    prefix: `${prefix}${name}:`,
    onLostClaim: () => void lostClaims++,
  });
  stores.push(redis);
  await redis.ready();
  let renewals = 0;
  const store: IdempotencyStore = {
    claim: (key, leaseMs) => redis.claim(key, leaseMs),
    commit: (key, token, ttlMs) => redis.commit(key, token, ttlMs),
    release: (key, token) => redis.release(key, token),
    markDone: (key, ttlMs) => redis.markDone(key, ttlMs),
    ...(withRenew && {
      renew: (key: string, token: string, leaseMs: number) => {
        renewals++;
        return redis.renew(key, token, leaseMs);
      },
    }),
  };
  const hub = createPaymentHub({
    store,
    handlerTimeoutMs: HANDLER_TIMEOUT_MS,
    leaseMs: LEASE_MS,
  });
  const runs = new Map<string, number>();
  hub.on('payment.completed', async (event) => {
    // markPaid: the merchant's side effect, counted per order.
    runs.set(event.orderId!, (runs.get(event.orderId!) ?? 0) + 1);
    await sleep(LISTENER_MS);
  });
  hub.on('error', () => undefined);
  const server = await startTestServer(provider, { hub });
  let deliveries = 0;
  let retryAnswers = 0;
  let acknowledged = 0;
  const started = Date.now();
  try {
    const deliver = async (i: number): Promise<void> => {
      const fixture = signedDelivery({ txn: `${name}-${i}`, order: `O-${name}-${i}` });
      const deadline = started + windowMs;
      while (Date.now() < deadline) {
        deliveries++;
        const reply = await postKeepAlive(server.url, fixture, agent);
        if (reply.status === OK.status && reply.body === OK.body) return void acknowledged++;
        expect([reply.status, reply.body]).toEqual([RETRY.status, RETRY.body]);
        retryAnswers++;
        await sleep(REDELIVER_EVERY_MS);
      }
      if (withRenew) throw new Error(`${name}-${i} was never acknowledged`);
    };
    await Promise.all(Array.from({ length: PAYMENTS }, (_, i) => deliver(i)));
    // Let listeners still running (the control's second runs) finish before counting.
    await sleep(LISTENER_MS + 100);
  } finally {
    await server.close();
  }
  const elapsedMs = Date.now() - started;
  return { runs, deliveries, retryAnswers, lostClaims, renewals, elapsedMs, acknowledged };
}

function summary(label: string, run: Run): { total: number; twice: number } {
  const total = [...run.runs.values()].reduce((a, b) => a + b, 0);
  const twice = [...run.runs.values()].filter((n) => n > 1).length;
  reportCounts(
    label,
    `payments ${PAYMENTS} (listener ${LISTENER_MS} ms, handlerTimeoutMs ${HANDLER_TIMEOUT_MS}, leaseMs ${LEASE_MS}): ` +
      `markPaid runs ${total}, ran twice ${twice}, acknowledged ${run.acknowledged}, HTTP deliveries ${run.deliveries} ` +
      `(${run.retryAnswers} retry answers), renew calls ${run.renewals}, lost claims ${run.lostClaims}, ` +
      `${run.elapsedMs} ms`,
  );
  return { total, twice };
}

it('a listener slower than handlerTimeoutMs and leaseMs runs markPaid once for each of 200 payments (Redis renew)', async () => {
  const run = await slowPayments('renew', true);
  const { total, twice } = summary('slow listener on Redis, with renew', run);
  expect(run.runs.size).toBe(PAYMENTS);
  expect(total).toBe(PAYMENTS);
  expect(twice).toBe(0);
  expect(run.acknowledged).toBe(PAYMENTS);
  expect(run.lostClaims).toBe(0);
  // The gateway did redeliver while the listeners ran: each payment got retry answers first.
  expect(run.retryAnswers).toBeGreaterThanOrEqual(PAYMENTS);
  // Renewed at once and every leaseMs / 3 while each listener ran.
  expect(run.renewals).toBeGreaterThanOrEqual(PAYMENTS * 3);
  const keys = Array.from(
    { length: PAYMENTS },
    (_, i) => `${prefix}renew:test-gateway:renew-${i}:paid`,
  );
  expect(new Set(await admin.mget(...keys))).toEqual(new Set([DONE]));
}, 40_000);

it('control: on a store without renew the lease lapses and payments run again and again', async () => {
  // Every run outlives the handler timeout (a retry answer) and the lease (the next redelivery
  // claims and runs it again), so the gateway never hears success: 3 s of it are enough.
  const run = await slowPayments('no-renew', false, 3_000);
  const { total, twice } = summary('slow listener on Redis, store without renew (control)', run);
  expect(run.runs.size).toBe(PAYMENTS);
  expect(twice).toBeGreaterThan(0);
  expect(total).toBeGreaterThan(PAYMENTS);
  expect(run.acknowledged).toBeLessThan(PAYMENTS);
}, 40_000);
