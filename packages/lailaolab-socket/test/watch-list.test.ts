/**
 * The source's watch list: the memory default, and the Redis one of @payhook/redis-store in this
 * process (a redis-server of the test's own, stopped mid-test, and the shared one). The restart
 * and two-instance figures are in watch-list-restart.test.ts, with separate processes.
 */
import { Redis } from 'ioredis';
import { createPaymentHub } from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { createRedisStore, createRedisWatchList, type RedisStore } from '@payhook/redis-store';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import {
  deletePrefix,
  freePort,
  REDIS_URL,
  ScratchRedis,
  testPrefix,
} from '../../redis-store/test/support/redis';
import {
  createLailaolabSource,
  createMemoryWatchList,
  type LailaolabSource,
  type LailaolabSourceOptions,
  type WatchList,
} from '../src';
import { SECRET, testHub, startTestSource } from './helpers';

const HOUR = 3_600_000;

describe('createMemoryWatchList', () => {
  it('add, list (soonest expiry first, expired dropped and counted), remove', async () => {
    const list = createMemoryWatchList();
    const now = Date.now();
    expect(await list.add('late', now + 2 * HOUR)).toEqual({ size: 1, dropped: [] });
    expect(await list.add('early', now + HOUR)).toEqual({ size: 2, dropped: [] });
    expect(await list.add('gone', now + 10)).toEqual({ size: 3, dropped: [] });
    await new Promise((r) => setTimeout(r, 20));
    expect(await list.list()).toEqual({ ids: ['early', 'late'], expired: 1 });
    expect(await list.remove('early')).toEqual({ removed: true, size: 1 });
    expect(await list.remove('early')).toEqual({ removed: false, size: 1 });
  });

  it('beyond maxEntries drops the entries closest to their expiry', async () => {
    const list = createMemoryWatchList({ maxEntries: 2 });
    const now = Date.now();
    await list.add('a', now + HOUR + 2);
    await list.add('b', now + HOUR + 1);
    expect(await list.add('c', now + HOUR + 3)).toEqual({ size: 2, dropped: ['b'] });
    expect((await list.list()).ids).toEqual(['a', 'c']);
    expect(() => createMemoryWatchList({ maxEntries: 0 })).toThrow(TypeError);
    await expect(list.add('', now)).rejects.toThrow(TypeError);
    await expect(list.add('x', Number.NaN)).rejects.toThrow(TypeError);
  });

  it("the Redis watch list has the WatchList shape (checked by tsc) and the memory one's behaviour", async () => {
    const prefix = testPrefix('lailaolab-shape');
    const redis = createRedisWatchList({ url: REDIS_URL, prefix, name: 'lailaolab' });
    const admin = new Redis(REDIS_URL);
    try {
      await redis.ready();
      for (const list of [redis, createMemoryWatchList()] satisfies WatchList[]) {
        const now = Date.now();
        await list.add('b', now + HOUR + 1);
        expect(await list.add('a', now + HOUR)).toEqual({ size: 2, dropped: [] });
        expect(await list.list()).toEqual({ ids: ['a', 'b'], expired: 0 });
        expect(await list.remove('a')).toEqual({ removed: true, size: 1 });
      }
    } finally {
      await redis.close();
      await deletePrefix(admin, prefix);
      await admin.quit();
    }
  });
});

describe('the source and its watchList', () => {
  let sim: LailaolabSimulator;
  let sources: LailaolabSource[];
  beforeEach(async () => {
    sim = await startLailaolabSimulator({ secretKey: SECRET });
    sources = [];
  });
  afterEach(async () => {
    for (const s of sources) await s.close();
    await sim.close();
  });

  async function connected(extra: Partial<LailaolabSourceOptions> = {}) {
    const t = startTestSource(sim, sources, extra);
    const source = t.source;
    await t.rec.until((r) => r.up.length === 1, 'source.up');
    // The sweep every connect starts is over once this one (queued behind it) is.
    await source.sweep();
    return { ...t, source };
  }

  it('refuses a watchList without add/remove/list, and maxWatched beside a watchList', () => {
    const { hub } = testHub();
    const base = { secretKey: SECRET, url: sim.socketBase, apiBase: sim.apiBase };
    expect(() =>
      createLailaolabSource(hub, { ...base, watchList: {} as unknown as WatchList }),
    ).toThrow(/option "watchList" must have add, remove and list/);
    expect(() =>
      createLailaolabSource(hub, {
        ...base,
        watchList: createMemoryWatchList(),
        maxWatched: 5,
      }),
    ).toThrow(/option "maxWatched" applies to the default watch list only/);
  });

  it('a watched payment paid longer ago than maxAgeMs: refused (stale), no event, and no longer watched', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'OLD-1', amount: 900 });
    sim.pay('OLD-1', { at: new Date(Date.now() - 30 * HOUR), emit: false });
    expect(await source.watch('OLD-1')).toBe(true);
    expect(await source.sweep()).toMatchObject({ checked: 1, errors: 1, emitted: 0 });
    expect(rec.sourceErrors.at(-1)!.detail).toMatch(/ERR_DELIVERY_STALE|maxAgeMs|older/);
    expect(rec.events).toHaveLength(0);
    expect(await source.watching()).toEqual([]);
    // Forgotten: the next sweep asks nothing more about it.
    const asked = sim.statusRequests.length;
    expect(await source.sweep()).toMatchObject({ checked: 0 });
    expect(sim.statusRequests.length).toBe(asked);
  });

  it('the default list keeps maxWatched entries and logs the one dropped', async () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_obj: unknown, msg?: string) => void warnings.push(String(msg)),
      error: () => undefined,
    };
    const hub = createPaymentHub({ logger });
    const up = new Promise((resolve) => hub.once('source.up', resolve));
    const source = createLailaolabSource(hub, {
      secretKey: SECRET,
      url: sim.socketBase,
      apiBase: sim.apiBase,
      sweepIntervalMs: 0,
      maxWatched: 2,
    });
    sources.push(source);
    await up;
    await source.sweep();
    warnings.length = 0;
    await source.watch('M-1', { ttlMs: HOUR });
    await source.watch('M-2', { ttlMs: 2 * HOUR });
    await source.watch('M-3', { ttlMs: 3 * HOUR });
    expect(await source.watching()).toEqual(['M-2', 'M-3']);
    expect(source.status().watched).toBe(2);
    expect(warnings).toEqual([expect.stringMatching(/transaction M-1, closest to its expiry/)]);
  });

  describe('with the Redis watch list', () => {
    let admin: Redis;
    let prefix: string;
    beforeEach(() => {
      admin = new Redis(REDIS_URL);
      prefix = testPrefix('lailaolab-source');
    });
    afterEach(async () => {
      await deletePrefix(admin, prefix);
      await admin.quit();
    });

    it('watch() writes the transaction to Redis; a socket payment removes it; an entry that is not a transaction id is dropped by the sweep', async () => {
      const watchList = createRedisWatchList({ url: REDIS_URL, prefix, name: 'lailaolab' });
      try {
        await watchList.ready();
        const { rec, source } = await connected({ watchList });
        sim.createTransaction({ transactionId: 'RW-1', amount: 7000 });
        expect(await source.watch('RW-1')).toBe(true);
        const score = Number(await admin.zscore(watchList.key, 'RW-1'));
        expect(score).toBeGreaterThan(Date.now() + HOUR - 5_000);
        expect(score).toBeLessThanOrEqual(Date.now() + HOUR);
        expect(source.status().watched).toBe(1);
        sim.pay('RW-1');
        await rec.until((r) => r.events.length === 1, 'the socket payment');
        // The watch ends after the listeners ran, in the same process: wait for its write.
        for (let i = 0; i < 100 && (await admin.zcard(watchList.key)) > 0; i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(await admin.zcard(watchList.key)).toBe(0);
        expect(source.status().watched).toBe(0);

        await admin.zadd(watchList.key, Date.now() + HOUR, 'not a transaction id!');
        expect(await source.sweep()).toMatchObject({ checked: 0, errors: 1 });
        expect(rec.sourceErrors.at(-1)!.detail).toMatch(/not a transaction id/);
        expect(await admin.zcard(watchList.key)).toBe(0);
        expect(sim.statusRequests.map((r) => r.transactionId)).toEqual(['RW-1']);
      } finally {
        await watchList.close();
      }
    });

    describe('its Redis down', () => {
      let redis: ScratchRedis;
      let store: RedisStore;
      beforeEach(async () => {
        redis = new ScratchRedis(await freePort());
        await redis.start();
        store = createRedisStore({ url: redis.url, prefix, commandTimeoutMs: 300 });
        await store.ready();
      });
      afterEach(async () => {
        await store.close();
        await redis.stop();
      });

      it('a watch that cannot be written is kept in the process: swept (and its payment emitted) while Redis is down, written once it is back', async () => {
        const watchList = createRedisWatchList({ store, name: 'lailaolab' });
        // The hub's store is the memory one here: only the watch list is without its Redis.
        const { rec, source } = await connected({ watchList });
        await redis.stop();
        sim.createTransaction({ transactionId: 'DOWN-PAID', amount: 1000 });
        sim.createTransaction({ transactionId: 'DOWN-WAIT', amount: 2000 });
        const stored = [await source.watch('DOWN-PAID'), await source.watch('DOWN-WAIT')];
        const errorsWhileDown = rec.sourceErrors.map((s) => s.detail);
        const watchedWhileDown = source.status().watched;
        sim.pay('DOWN-PAID', { emit: false });
        const sweepDown = await source.sweep();

        await redis.start();
        await store.ready(10_000);
        const sweepBack = await source.sweep();
        const inRedis = await store.client.zrange(watchList.key, 0, -1);
        const counts = {
          stored,
          watchedWhileDown,
          sweepDown,
          emitted: rec.events.map((e) => e.transactionId),
          sweepBack,
          inRedis,
          watchedAfter: source.status().watched,
        };
        reportCounts('source watch list, its Redis down', counts);

        expect(stored).toEqual([false, false]);
        expect(errorsWhileDown).toEqual([
          expect.stringMatching(
            /the watch list could not store the watch of transaction DOWN-PAID/,
          ),
          expect.stringMatching(
            /the watch list could not store the watch of transaction DOWN-WAIT/,
          ),
        ]);
        expect(watchedWhileDown).toBe(2);
        // The list could not be written again nor read: the sweep asked about the kept watches.
        expect(sweepDown).toMatchObject({ checked: 2, emitted: 1, notFound: 0, pending: 1 });
        expect(sweepDown.errors).toBeGreaterThanOrEqual(1);
        expect(counts.emitted).toEqual(['DOWN-PAID']);
        expect(sweepBack).toMatchObject({ checked: 1, pending: 1, errors: 0 });
        expect(inRedis).toEqual(['DOWN-WAIT']);
        expect(counts.watchedAfter).toBe(1);
      });
    });
  });
});
