/**
 * createRedisWatchList on a real Redis: the shared one (127.0.0.1:6379, a prefix of this run's
 * own) and, for the outage, a redis-server of this test's own that it stops and starts.
 */
import { ConfigError, StoreError } from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { Redis } from 'ioredis';
import {
  createRedisStore,
  createRedisWatchList,
  FAIL_FAST_REDIS_OPTIONS,
  type RedisWatchList,
} from '@payhook/redis-store';
import { deletePrefix, freePort, REDIS_URL, ScratchRedis, testPrefix } from './support/redis';

const prefix = testPrefix('watch-list');
let admin: Redis;
const lists: RedisWatchList[] = [];

async function list(extra: Partial<Parameters<typeof createRedisWatchList>[0]> = {}) {
  const created = createRedisWatchList({ url: REDIS_URL, prefix, name: 'test', ...extra });
  lists.push(created);
  await created.ready();
  return created;
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  await Promise.all(lists.splice(0).map((l) => l.close()));
  await deletePrefix(admin, prefix);
});

afterAll(async () => {
  await admin.quit();
});

const HOUR = 3_600_000;

describe('createRedisWatchList', () => {
  it('one sorted set scored by expiry under <prefix>watch-list:<name>; ids only, soonest expiry first', async () => {
    const watches = await list();
    expect(watches.key).toBe(`${prefix}watch-list:test`);
    const now = Date.now();
    expect(await watches.add('late', now + 2 * HOUR)).toEqual({ size: 1, dropped: [] });
    expect(await watches.add('early', now + HOUR)).toEqual({ size: 2, dropped: [] });
    expect(await watches.list()).toEqual({ ids: ['early', 'late'], expired: 0 });
    expect(await admin.type(watches.key)).toBe('zset');
    expect(await admin.zrange(watches.key, 0, -1, 'WITHSCORES')).toEqual([
      'early',
      String(now + HOUR),
      'late',
      String(now + 2 * HOUR),
    ]);
    // The key expires a minute after its latest entry: an abandoned list goes away by itself.
    const pttl = await admin.pttl(watches.key);
    expect(pttl).toBeGreaterThan(2 * HOUR + 50_000);
    expect(pttl).toBeLessThanOrEqual(2 * HOUR + 60_000);
    // Watching again moves the expiry.
    expect(await watches.add('early', now + 3 * HOUR)).toEqual({ size: 2, dropped: [] });
    expect((await watches.list()).ids).toEqual(['late', 'early']);
    expect(await watches.remove('late')).toEqual({ removed: true, size: 1 });
    expect(await watches.remove('late')).toEqual({ removed: false, size: 1 });
    expect(await watches.remove('early')).toEqual({ removed: true, size: 0 });
    expect(await admin.exists(watches.key)).toBe(0);
  });

  it('has(id): listed and not expired, one entry read', async () => {
    const watches = await list();
    const now = Date.now();
    await watches.add('soon-gone', now + 20);
    await watches.add('stays', now + HOUR);
    expect(await watches.has('stays')).toBe(true);
    expect(await watches.has('never-added')).toBe(false);
    await new Promise((r) => setTimeout(r, 40));
    expect(await watches.has('soon-gone')).toBe(false);
    await watches.remove('stays');
    expect(await watches.has('stays')).toBe(false);
  });

  it('expired entries are dropped on read and counted, never returned', async () => {
    const watches = await list();
    const now = Date.now();
    await watches.add('gone-1', now + 20);
    await watches.add('gone-2', now + 20);
    await watches.add('stays', now + HOUR);
    await new Promise((r) => setTimeout(r, 40));
    expect(await watches.list()).toEqual({ ids: ['stays'], expired: 2 });
    expect(await watches.list()).toEqual({ ids: ['stays'], expired: 0 });
    expect(await admin.zcard(watches.key)).toBe(1);
  });

  it('beyond maxEntries the entries closest to their expiry are dropped and named', async () => {
    const watches = await list({ maxEntries: 3 });
    const now = Date.now();
    for (const [i, id] of ['a', 'b', 'c'].entries()) await watches.add(id, now + HOUR + i);
    expect(await watches.add('d', now + 2 * HOUR)).toEqual({ size: 3, dropped: ['a'] });
    expect((await watches.list()).ids).toEqual(['b', 'c', 'd']);
  });

  it('two lists with the same prefix and name (two processes) are one list; another name is another', async () => {
    const one = await list();
    const two = await list();
    const other = await list({ name: 'other' });
    const now = Date.now();
    await one.add('from-one', now + HOUR);
    await two.add('from-two', now + HOUR + 1);
    expect((await one.list()).ids).toEqual(['from-one', 'from-two']);
    expect((await two.list()).ids).toEqual(['from-one', 'from-two']);
    expect((await other.list()).ids).toEqual([]);
    await two.remove('from-one');
    expect((await one.list()).ids).toEqual(['from-two']);
  });

  it("with store: the store's client and prefix, and close() leaves them open", async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await store.ready();
      const watches = createRedisWatchList({ store, name: 'lailaolab' });
      expect(watches.client).toBe(store.client);
      expect(watches.key).toBe(`${prefix}watch-list:lailaolab`);
      await watches.add('T-1', Date.now() + HOUR);
      await watches.close();
      expect(store.client.status).toBe('ready');
      expect(await admin.zrange(`${prefix}watch-list:lailaolab`, 0, -1)).toEqual(['T-1']);
      await expect(watches.list()).rejects.toThrow(StoreError);
    } finally {
      await store.close();
    }
  });

  it('refuses bad options and bad entries', async () => {
    const bad = (options: unknown) => () =>
      createRedisWatchList(options as Parameters<typeof createRedisWatchList>[0]);
    expect(bad(undefined)).toThrow(ConfigError);
    expect(bad({ prefix, name: 'x' })).toThrow(/store" \(or client, or url\)|is required/);
    expect(bad({ url: REDIS_URL, name: 'x' })).toThrow(/option "prefix"/);
    expect(bad({ url: REDIS_URL, prefix })).toThrow(/option "name"/);
    expect(bad({ url: REDIS_URL, prefix, name: 'has space' })).toThrow(/option "name"/);
    expect(bad({ url: REDIS_URL, prefix, name: 'x', maxEntries: 0 })).toThrow(/maxEntries/);
    expect(bad({ url: REDIS_URL, client: admin, prefix, name: 'x' })).toThrow(/only one/);
    expect(bad({ client: {}, prefix, name: 'x' })).toThrow(/ioredis/);
    const watches = await list();
    await expect(watches.add('', Date.now())).rejects.toThrow(StoreError);
    await expect(watches.add('x', Number.NaN)).rejects.toThrow(/expiresAt/);
    await expect(watches.add('x', 1.5)).rejects.toThrow(/expiresAt/);
    await expect(watches.remove(42 as unknown as string)).rejects.toThrow(StoreError);
  });
});

describe('createRedisWatchList on a redis-server of its own: script cache lost, Redis down', () => {
  let redis: ScratchRedis;
  beforeAll(async () => {
    redis = new ScratchRedis(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs again after SCRIPT FLUSH (a restarted or promoted server has no scripts)', async () => {
    // On the test's own server: SCRIPT FLUSH is server-wide.
    const client = new Redis(redis.url, FAIL_FAST_REDIS_OPTIONS);
    try {
      const watches = createRedisWatchList({ client, prefix, name: 'flush' });
      await watches.ready();
      await watches.add('x', Date.now() + HOUR);
      await client.script('FLUSH');
      expect((await watches.list()).ids).toEqual(['x']);
      expect(await watches.add('y', Date.now() + HOUR)).toEqual({ size: 2, dropped: [] });
    } finally {
      client.disconnect();
    }
  });

  it('every call rejects with a StoreError within commandTimeoutMs (Redis frozen, then stopped), and works again when Redis is back', async () => {
    const watches = createRedisWatchList({
      url: redis.url,
      prefix,
      name: 'outage',
      commandTimeoutMs: 300,
    });
    lists.push(watches);
    await watches.ready();
    await watches.add('kept', Date.now() + HOUR);
    // Frozen: the connection stays open and nothing answers.
    redis.freeze();
    const frozenAt = Date.now();
    await expect(watches.list()).rejects.toThrow(/did not answer within 300 ms/);
    const frozenMs = Date.now() - frozenAt;
    redis.thaw();
    expect((await watches.list()).ids).toEqual(['kept']);
    await redis.stop();
    const timings: number[] = [];
    for (const call of [
      () => watches.add('new', Date.now() + HOUR),
      () => watches.list(),
      () => watches.remove('kept'),
    ]) {
      const started = Date.now();
      await expect(call()).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
      timings.push(Date.now() - started);
    }
    await redis.start(); // without persistence: the restarted server is empty
    await watches.ready(10_000);
    expect(await watches.add('after', Date.now() + HOUR)).toEqual({ size: 1, dropped: [] });
    reportCounts('watch list, Redis frozen then down', {
      frozenRejectedAfterMs: frozenMs,
      downRejectedWithinMs: Math.max(...timings),
    });
    expect(frozenMs).toBeGreaterThanOrEqual(290);
    expect(frozenMs).toBeLessThan(300 + 200);
    expect(Math.max(...timings)).toBeLessThan(300 + 200);
  });
});
