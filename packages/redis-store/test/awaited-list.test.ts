/**
 * createRedisAwaitedList on the shared Redis (127.0.0.1:6379): core's conformance kit, then what
 * only Redis adds (its keys, two instances on one list, a restart), and the option checks.
 */
import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  StoreError,
  awaitedKey,
  type AwaitedPayment,
  type NewAwaitedPayment,
} from '@payhook/core';
import { reportCounts, runAwaitedListConformance } from '@payhook/core/testing';
import { Redis } from 'ioredis';
import {
  createRedisAwaitedList,
  createRedisStore,
  type RedisAwaitedList,
  type RedisAwaitedListOptions,
} from '@payhook/redis-store';
import { freePort, REDIS_URL } from './support/redis';

// One prefix per list, under this run's: the full-list test counts every awaiting entry of its
// list, so lists of earlier tests (whose entries stay awaiting) must not be the same list.
const run = `payhook-test-${randomBytes(4).toString('hex')}-`;
let lists = 0;
const nextPrefix = (): string => `${run}${++lists}:`;

let admin: Redis;
const opened: RedisAwaitedList[] = [];

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterAll(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
  // Every key starts with the hash tag: `{<prefix>awaited:<name>}:<part>`.
  const keys: string[] = [];
  const stream = admin.scanStream({ match: `{${run}*`, count: 1000 });
  for await (const batch of stream) keys.push(...(batch as string[]));
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function open(options: Partial<RedisAwaitedListOptions> = {}): Promise<RedisAwaitedList> {
  const list = createRedisAwaitedList({ url: REDIS_URL, prefix: nextPrefix(), ...options });
  opened.push(list);
  await list.ready();
  return list;
}

runAwaitedListConformance(
  { describe, it },
  {
    name: 'redis',
    // "Ready to use": the client made from `url` refuses commands until it has connected.
    create: async ({ maxEntries }) => {
      const list = createRedisAwaitedList({ url: REDIS_URL, prefix: nextPrefix(), maxEntries });
      await list.ready();
      return list;
    },
    destroy: async (list) => {
      await list.close();
      await admin.del(...Object.values(list.keys));
    },
  },
);

function entry(orderId: string, over: Partial<NewAwaitedPayment> = {}): NewAwaitedPayment {
  const now = Date.now();
  return {
    key: awaitedKey('p', { orderId }),
    provider: 'p',
    orderId,
    reference: null,
    until: now + 60_000,
    createdAt: now,
    nextCheckAt: now,
    allowOlderThanMaxAge: false,
    ...over,
  };
}

describe('createRedisAwaitedList', () => {
  it('keeps its entries under one hash tag, numbers as integer strings, no key with a TTL', async () => {
    const prefix = nextPrefix();
    const list = await open({ prefix, name: 'shop' });
    const tag = `{${prefix}awaited:shop}`;
    expect(list.keys.entries).toBe(`${tag}:entries`);
    const added = await list.add(entry('A-1', { reference: 'T-1', createdAt: 1_700_000_000_123 }));
    await list.lease({ owner: 'o', now: Date.now(), leaseMs: 60_000, limit: 1 });
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${tag}*` })) keys.push(...batch);
    expect(keys.sort()).toEqual(
      ['created', 'entries', 'leased', 'refs', 'until'].map((part) => `${tag}:${part}`),
    );
    for (const key of keys) expect(await admin.pttl(key)).toBe(-1);
    const stored = JSON.parse((await admin.hget(list.keys.entries, added.key))!);
    expect(stored).toMatchObject({ createdAt: '1700000000123', checks: '0', leaseOwner: 'o' });
    expect(await list.get(added.key)).toEqual(added);
    expect(await admin.hget(list.keys.refs, 'p\u0000T-1')).toBe(added.key);
  });

  it('two instances on one list never lease the same entry (20 concurrent leases, 200 due)', async () => {
    const prefix = nextPrefix();
    const [one, two] = [await open({ prefix }), await open({ prefix })];
    const now = Date.now();
    for (let i = 0; i < 200; i++) await one.add(entry(`O-${i}`, { nextCheckAt: now - i }));
    const leases = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? two : one).lease({ owner: `sweeper-${i}`, now, leaseMs: 60_000, limit: 15 }),
      ),
    );
    const times = new Map<string, number>();
    for (const e of leases.flat()) times.set(e.key, (times.get(e.key) ?? 0) + 1);
    const twice = [...times.values()].filter((n) => n > 1).length;
    reportCounts('awaited list, two instances leasing', {
      due: 200,
      leaseCalls: 20,
      leased: leases.flat().length,
      distinct: times.size,
      leasedTwice: twice,
    });
    expect(twice).toBe(0);
    expect(times.size).toBe(200);
    expect(leases.flat()).toHaveLength(200);
    expect(await two.lease({ owner: 'late', now, leaseMs: 60_000, limit: 100 })).toEqual([]);
  });

  it('a sweeper whose clock is ahead frees no lease for one whose clock is behind', async () => {
    const list = await open();
    const now = Date.now();
    const held = await list.add(entry('A', { nextCheckAt: now }));
    expect(await list.lease({ owner: 'a', now, leaseMs: 1_000, limit: 1 })).toHaveLength(1);
    await list.add(entry('C', { nextCheckAt: now - 1_000 }));
    // 2 s ahead: A's lease has lapsed on this clock, but C is due sooner and the limit is 1.
    const ahead = await list.lease({ owner: 'b', now: now + 2_000, leaseMs: 60_000, limit: 1 });
    expect(ahead.map((e) => e.orderId)).toEqual(['C']);
    expect(await list.lease({ owner: 'c', now: now + 500, leaseMs: 1_000, limit: 10 })).toEqual([]);
    const lapsed = await list.lease({ owner: 'd', now: now + 1_000, leaseMs: 1_000, limit: 10 });
    expect(lapsed.map((e) => e.key)).toEqual([held.key]);
  });

  it('survives a restart: a new client on the same prefix and name finds the entry and its lease', async () => {
    const prefix = nextPrefix();
    const before = await open({ prefix, name: 'restart' });
    const now = Date.now();
    const added = await before.add(entry('R-1', { nextCheckAt: now }));
    const [held] = await before.lease({ owner: 'old', now, leaseMs: 5_000, limit: 1 });
    await before.close();
    expect(before.client.status).toBe('end');
    const after = await open({ prefix, name: 'restart' });
    const found = (await after.get(added.key)) as AwaitedPayment;
    expect(found).toEqual(held);
    expect(await after.lease({ owner: 'new', now, leaseMs: 5_000, limit: 1 })).toEqual([]);
    expect(await after.lease({ owner: 'new', now: now + 5_000, leaseMs: 5_000, limit: 1 })).toEqual(
      [found],
    );
    expect(await after.counts(now)).toEqual({ awaiting: 1, overdue: 0, settled: 0 });
  });

  it('lists and purges in scripts of 500 entries each: newest first, none twice, none left', async () => {
    const list = await open();
    const now = Date.now();
    const other = new Set([0, 499, 500, 1_099]);
    await Promise.all(
      Array.from({ length: 1_100 }, (_, i) =>
        list.add(
          other.has(i)
            ? {
                ...entry(`Q-${i}`, { reference: `R-${i}` }),
                key: `q:order:Q-${i}`,
                provider: 'q',
                createdAt: now + i,
              }
            : entry(`O-${i}`, { createdAt: now + i }),
        ),
      ),
    );
    await list.settle(
      { provider: 'p', orderId: 'O-1', reference: null },
      { by: 'webhook', at: now, eventId: 'e' },
    );
    const orderIds = async (filter: Parameters<RedisAwaitedList['list']>[0]) =>
      (await list.list(filter)).map((e) => e.orderId);
    expect(await orderIds({ provider: 'q' })).toEqual(['Q-1099', 'Q-500', 'Q-499', 'Q-0']);
    expect(await orderIds({ state: 'settled' })).toEqual(['O-1']);
    const many = await list.list({ limit: 1_050 });
    expect(many).toHaveLength(1_050);
    expect(new Set(many.map((e) => e.key)).size).toBe(1_050);
    expect(many.every((e, i) => i === 0 || e.createdAt < many[i - 1]!.createdAt)).toBe(true);
    expect(await list.list({ limit: 0 })).toEqual([]);
    await Promise.all(
      many.map((e) =>
        list.settle(
          { provider: e.provider, orderId: e.orderId, reference: null },
          { by: 'status-query', at: now, eventId: `e-${e.key}` },
        ),
      ),
    );
    // The 1,050 newest, and O-1 settled above.
    expect(await list.purge(now + 1)).toBe(1_051);
    expect(await list.counts(now)).toEqual({ awaiting: 49, overdue: 0, settled: 0 });
    expect(await admin.zcard(list.keys.settled)).toBe(0);
    expect(await admin.hlen(list.keys.entries)).toBe(49);
    // Q-0's reference only: the others went with their entries.
    expect(await admin.hkeys(list.keys.refs)).toEqual(['q\u0000R-0']);
  });

  it("with store: the store's client and prefix, and close() leaves them open", async () => {
    const prefix = nextPrefix();
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await store.ready();
      const list = createRedisAwaitedList({ store });
      expect(list.client).toBe(store.client);
      expect(list.keys.refs).toBe(`{${prefix}awaited:awaited}:refs`);
      await list.add(entry('S-1'));
      await list.close();
      expect(store.client.status).toBe('ready');
      await expect(list.get(awaitedKey('p', { orderId: 'S-1' }))).rejects.toThrow(StoreError);
      expect(await admin.hlen(`{${prefix}awaited:awaited}:entries`)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('rejects with a StoreError when Redis is unreachable', async () => {
    const list = createRedisAwaitedList({
      url: `redis://127.0.0.1:${await freePort()}`,
      prefix: nextPrefix(),
      redisOptions: { retryStrategy: () => null },
    });
    opened.push(list);
    await expect(list.add(entry('U-1'))).rejects.toMatchObject({
      name: 'StoreError',
      code: 'ERR_STORE_UNAVAILABLE',
    });
    await expect(list.counts(Date.now())).rejects.toThrow(StoreError);
  });

  it('refuses bad options (ConfigError) and bad arguments (StoreError)', async () => {
    const prefix = nextPrefix();
    const bad = (options: unknown) => () =>
      createRedisAwaitedList(options as RedisAwaitedListOptions);
    expect(bad(undefined)).toThrow(ConfigError);
    expect(bad({ prefix })).toThrow(/store" \(or client, or url\)|is required/);
    expect(bad({ url: REDIS_URL })).toThrow(/option "prefix"/);
    expect(bad({ url: REDIS_URL, prefix, name: 'has space' })).toThrow(/option "name"/);
    expect(bad({ url: REDIS_URL, prefix, name: 'a{b}' })).toThrow(/option "name"/);
    expect(bad({ url: REDIS_URL, prefix, maxEntries: 0 })).toThrow(/maxEntries/);
    expect(bad({ url: REDIS_URL, prefix, maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(bad({ url: REDIS_URL, prefix, commandTimeoutMs: -1 })).toThrow(/commandTimeoutMs/);
    expect(bad({ url: REDIS_URL, client: admin, prefix })).toThrow(/only one/);
    expect(bad({ client: {}, prefix })).toThrow(/ioredis/);
    const list = await open();
    await expect(list.add(entry('X', { until: Number.NaN }))).rejects.toThrow(/until/);
    await expect(list.add(entry('X', { createdAt: 1.5 }))).rejects.toThrow(/createdAt/);
    await expect(list.add(entry('X', { key: '' }))).rejects.toThrow(StoreError);
    const lease = { owner: 'o', now: Date.now(), leaseMs: 1_000, limit: -1 };
    await expect(list.lease(lease)).rejects.toThrow(/limit/);
    await expect(
      list.settle(
        { provider: 'p', orderId: 'X', reference: null },
        { by: 'carrier-pigeon' as 'webhook', at: Date.now(), eventId: 'e' },
      ),
    ).rejects.toThrow(/by must be/);
    await expect(list.list({ state: 'lost' as 'settled' })).rejects.toThrow(/state must be/);
    expect(await list.list()).toEqual([]);
  });
});
