/**
 * packages/redis-store/README.md, "What is stored": real NewPay deliveries through a hub on a
 * Redis store with a prefix of its own; a separate client lists the keys with SCAN and reads their
 * values and expiries, which must be exactly what the README says.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import { postDelivery, startTestServer, type TestServer } from '@payhook/core/testing';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { createRedisStore, type RedisStore } from '@payhook/redis-store';
import { createNewpayFixtures } from '@payhook/testing';
import { fencedBlocks, read } from './support';

const README_PREFIX = 'payhook:shop-1:';
const NEWPAY_ORDER_NO = '202209210000006950';
const prefix = `payhook-readme-test:${process.pid}:${randomBytes(4).toString('hex')}:`;

// Hub and store durations chosen so that "the longer of the two" is visible in each PTTL. The hub
// must remember events longer than the NewPay provider accepts them (its maxAgeMs, 24 h).
const HOUR = 3_600_000;
const HUB = { handlerTimeoutMs: 8_000, leaseMs: 30_000, retentionMs: 25 * HOUR };
const STORE = { leaseMs: 45_000, ttlMs: 26 * HOUR };

const fixtures = createNewpayFixtures();
let admin: Redis;
let store: RedisStore;
let hub: PaymentHub;
let server: TestServer;
/** What a listener saw of its own event's key while it ran. */
let duringListener: { value: string | null; pttl: number; markerExists: number } | undefined;
let failListener = false;

async function keysUnderPrefix(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.map((k) => k.slice(prefix.length)).sort();
}

beforeAll(async () => {
  admin = new Redis('redis://127.0.0.1:6379');
  store = createRedisStore({ url: 'redis://127.0.0.1:6379', prefix, ...STORE });
  await store.ready();
  hub = createPaymentHub({ store, ...HUB });
  const provider = createNewpayProvider(fixtures.providerOptions);
  const onEvent = async (event: { id: string; transactionId: string }) => {
    duringListener = {
      value: await admin.get(prefix + event.id),
      pttl: await admin.pttl(prefix + event.id),
      markerExists: await admin.exists(`${prefix}#completed:newpay:${event.transactionId}`),
    };
    if (failListener) throw new Error('listener failed on purpose');
  };
  hub.on('payment.completed', onEvent);
  hub.on('payment.failed', onEvent);
  hub.on('payment.refunded', onEvent);
  server = await startTestServer(provider, { hub });
});

afterAll(async () => {
  await server?.close();
  const left = await keysUnderPrefix();
  if (left.length > 0) await admin.del(...left.map((k) => prefix + k));
  await store?.close();
  await admin?.quit();
});

beforeEach(() => {
  duringListener = undefined;
  failListener = false;
});

const deliver = (delivery: { body: string; headers: Record<string, string> }) =>
  postDelivery(server.url, delivery);

describe('packages/redis-store/README.md: what is stored', () => {
  const readme = read('packages/redis-store/README.md');
  const section = readme.slice(readme.indexOf('### What is stored'));
  const listed = fencedBlocks(section)
    .find((b) => b.lang === 'text')!
    .code.trim()
    .split('\n')
    .map((line) => line.trim());

  it('lists keys under the README prefix', () => {
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((k) => k.startsWith(README_PREFIX))).toBe(true);
  });

  it('one payment: exactly the listed keys, "done", kept for the longer retention', async () => {
    const reply = await deliver(
      fixtures.paymentCallback({ orderNo: 'RK-1', newpayOrderNo: NEWPAY_ORDER_NO }),
    );
    expect(reply.status).toBe(200);
    // While the listener ran: its event key held a claim token with the longer lease, and the
    // completion marker was claimed too (a failure notice arriving meanwhile waits).
    expect(duringListener!.value).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(duringListener!.pttl).toBeGreaterThan(HUB.leaseMs);
    expect(duringListener!.pttl).toBeLessThanOrEqual(STORE.leaseMs);
    expect(duringListener!.markerExists).toBe(1);

    const keys = await keysUnderPrefix();
    expect(keys).toEqual(listed.map((k) => k.slice(README_PREFIX.length)).sort());
    for (const key of keys) {
      expect(await admin.get(prefix + key)).toBe('done');
      const pttl = await admin.pttl(prefix + key);
      expect(pttl).toBeGreaterThan(STORE.ttlMs - 60_000);
      expect(pttl).toBeLessThanOrEqual(STORE.ttlMs);
    }
  });

  it('a redelivery, then a stale failure notice of the same transaction, write nothing', async () => {
    const before = await keysUnderPrefix();
    await deliver(fixtures.paymentCallback({ orderNo: 'RK-1', newpayOrderNo: NEWPAY_ORDER_NO }));
    const stale = fixtures.paymentCallback({
      orderNo: 'RK-1',
      newpayOrderNo: NEWPAY_ORDER_NO,
      status: 'failed',
    });
    expect((await deliver(stale)).status).toBe(200);
    expect(duringListener).toBeUndefined();
    expect(await keysUnderPrefix()).toEqual(before);
  });

  it('a failure notice and a refund leave only their own event id', async () => {
    const before = await keysUnderPrefix();
    const failed = fixtures.paymentCallback({
      orderNo: 'RK-2',
      newpayOrderNo: '202209210000006951',
      status: 'failed',
    });
    expect((await deliver(failed)).status).toBe(200);
    expect(duringListener!.markerExists).toBe(0); // the probe was released before dispatch
    const refund = fixtures.refundCallback({
      orderNo: 'RK-1',
      newpayOrderNo: NEWPAY_ORDER_NO,
      refundNo: '202209220000000711',
      amount: '23.00',
    });
    expect((await deliver(refund)).status).toBe(200);
    const added = (await keysUnderPrefix()).filter((k) => !before.includes(k));
    expect(added.sort()).toEqual([
      'newpay:202209210000006950:refund:202209220000000711:refunded',
      'newpay:202209210000006951:failed',
    ]);
  });

  it('a listener failure leaves nothing', async () => {
    const before = await keysUnderPrefix();
    failListener = true;
    const reply = await deliver(
      fixtures.paymentCallback({ orderNo: 'RK-3', newpayOrderNo: '202209210000006952' }),
    );
    expect(reply.status).toBe(500);
    expect(duringListener!.value).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await keysUnderPrefix()).toEqual(before);
  });
});
