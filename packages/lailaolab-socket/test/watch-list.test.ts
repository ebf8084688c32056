/**
 * The source's watches are the hub's awaited payments: `watch()` is `hub.expectPayment` by
 * reference, `unwatch()` ends the entry, `watching()` reads the list, `sweep()` is the hub's
 * sweeper; the removed watch-list options throw, the deprecated ones warn. The restart and
 * two-instance figures, with the Redis awaited list, are in watch-list-restart.test.ts.
 */
import {
  createMemoryAwaitedList,
  ProviderConfigError,
  type AwaitedList,
  type PaymentHubOptions,
} from '@payhook/core';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { createLailaolabSource, type LailaolabSource, type LailaolabSourceOptions } from '../src';
import { SECRET, settle, startTestSource, testHub } from './helpers';

const HOUR = 3_600_000;
const key = (id: string): string => `lailaolab:ref:${id}`;

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

async function connected(
  extra: Partial<LailaolabSourceOptions> = {},
  hubOptions: PaymentHubOptions = {},
) {
  const t = startTestSource(sim, sources, extra, hubOptions);
  await t.rec.until((r) => r.up.length === 1, 'source.up');
  // The sweep every connect starts is over once this one (run after it) is.
  await t.source.sweep();
  return t;
}

function configError(fn: () => unknown): ProviderConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
}

describe('the options of the former watch list', () => {
  it('watchList and maxWatched: a ProviderConfigError naming the replacement, before any socket opens', async () => {
    const { hub } = testHub();
    const base = { secretKey: SECRET, url: sim.socketBase, statusQuery: { baseUrl: sim.apiBase } };
    const list = configError(() => createLailaolabSource(hub, { ...base, watchList: {} }));
    expect(list.option).toBe('watchList');
    expect(list.message).toContain(
      'createPaymentHub({ awaited: { list: createRedisAwaitedList(...) | createPostgresAwaitedList(...) | createMemoryAwaitedList({ maxEntries }) } })',
    );
    const max = configError(() => createLailaolabSource(hub, { ...base, maxWatched: 5 }));
    expect(max.option).toBe('maxWatched');
    expect(max.message).toContain(
      'createPaymentHub({ awaited: { list: createMemoryAwaitedList({ maxEntries }) } })',
    );
    await settle();
    expect(sim.connectedClients()).toBe(0);
  });

  it('sweepIntervalMs and statusConcurrency: checked as before, then ignored with one warning each on the hub logger; the source runs no sweep timer of its own', async () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_obj: unknown, msg?: string) => void warnings.push(String(msg)),
      error: () => undefined,
    };
    const base = { secretKey: SECRET, url: sim.socketBase, statusQuery: { baseUrl: sim.apiBase } };
    const { hub: checked } = testHub();
    expect(
      configError(() => createLailaolabSource(checked, { ...base, statusConcurrency: 0 })).option,
    ).toBe('statusConcurrency');
    const { source, rec } = await connected(
      { sweepIntervalMs: 10, statusConcurrency: 2 },
      { logger },
    );
    expect(warnings.filter((w) => /deprecated/.test(w))).toEqual([
      expect.stringMatching(/sweepIntervalMs is deprecated and ignored: .*awaited\.sweepEveryMs/),
      expect.stringMatching(/statusConcurrency is deprecated and ignored: .*awaited\.concurrency/),
    ]);
    sim.createTransaction({ transactionId: 'DEP-1', amount: 100 });
    expect(await source.watch('DEP-1')).toBe(true);
    sim.pay('DEP-1', { emit: false });
    await new Promise((r) => setTimeout(r, 100));
    // The hub's sweeper has no timer here (awaited.sweepEveryMs: 0), and the source has none.
    expect(sim.statusRequests).toHaveLength(0);
    expect(rec.events).toHaveLength(0);
  });
});

describe("watch(), unwatch(), watching() on the hub's awaited list", () => {
  it('watch() is hub.expectPayment by reference, until now + watchTtlMs (or ttlMs); watching() lists them soonest until first; unwatch() ends one without a notice', async () => {
    const { hub, rec, source } = await connected({ watchTtlMs: 2 * HOUR });
    const before = Date.now();
    expect(await source.watch('W-LATE')).toBe(true);
    expect(await source.watch('W-EARLY', { ttlMs: HOUR })).toBe(true);
    const after = Date.now();
    const late = await hub.awaited.get(key('W-LATE'));
    expect(late).toMatchObject({
      provider: 'lailaolab',
      orderId: null,
      reference: 'W-LATE',
      state: 'awaiting',
      checks: 0,
    });
    expect(late!.until).toBeGreaterThanOrEqual(before + 2 * HOUR);
    expect(late!.until).toBeLessThanOrEqual(after + 2 * HOUR + 1);
    expect(await source.watching()).toEqual(['W-EARLY', 'W-LATE']);
    expect(source.status().watched).toBe(2);

    // Watched again: the later until is kept, nothing added.
    expect(await source.watch('W-EARLY', { ttlMs: 3 * HOUR })).toBe(true);
    expect(await source.watching()).toEqual(['W-LATE', 'W-EARLY']);
    expect(source.status().watched).toBe(2);

    expect(await source.unwatch('W-LATE')).toBe(true);
    expect(await hub.awaited.get(key('W-LATE'))).toMatchObject({
      state: 'overdue',
      lastResult: 'unwatched',
    });
    expect(rec.overdue).toEqual([]);
    expect(await source.unwatch('W-LATE')).toBe(false);
    expect(await source.unwatch('not an id!')).toBe(false);
    expect(await source.watching()).toEqual(['W-EARLY']);
    expect(source.status().watched).toBe(1);

    // An ended entry stays until it is purged: the same id is not awaited again.
    expect(await source.watch('W-LATE')).toBe(false);
    expect(rec.sourceErrors.at(-1)!.detail).toBe(
      'transaction W-LATE was awaited before and that ended (unwatched): it is not awaited again',
    );
    // Beyond the hub's awaited.maxAwaitMs (30 days): refused by expectPayment, reported.
    expect(await source.watch('W-FAR', { ttlMs: 40 * 24 * HOUR })).toBe(false);
    expect(rec.sourceErrors.at(-1)!.detail).toBe('could not await transaction W-FAR');
    expect(rec.sourceErrors.at(-1)!.error!.message).toMatch(/maxAwaitMs/);
    expect(() => source.watch('not an id!')).toThrow(TypeError);
    expect(() => source.watch('W-X', { ttlMs: 0 })).toThrow(TypeError);
    expect(await source.watching()).toEqual(['W-EARLY']);
  });

  it('a socket payment settles its watch (settledBy socket) and the count goes back to 0', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'RW-1', amount: 7000 });
    expect(await source.watch('RW-1')).toBe(true);
    expect(source.status().watched).toBe(1);
    sim.pay('RW-1');
    await rec.until((r) => r.settled.length === 1, 'the awaited payment settled');
    expect(rec.settled[0]).toMatchObject({
      reference: 'RW-1',
      state: 'settled',
      settledBy: 'socket',
      eventId: 'lailaolab:RW-1:completed',
    });
    expect(source.status().watched).toBe(0);
    expect(await source.watching()).toEqual([]);
    expect(sim.statusRequests.map((r) => r.transactionId)).toEqual(['RW-1']);
  });

  it('a watched payment paid longer ago than maxAgeMs: no event, overdue with the awaited.overdue notice, not asked again', async () => {
    const { rec, source } = await connected();
    sim.createTransaction({ transactionId: 'OLD-1', amount: 900 });
    sim.pay('OLD-1', { at: new Date(Date.now() - 30 * HOUR), emit: false });
    expect(await source.watch('OLD-1')).toBe(true);
    expect(await source.sweep()).toMatchObject({ checked: 1, overdue: 1, expired: 1, emitted: 0 });
    expect(rec.overdue).toEqual([
      expect.objectContaining({
        reference: 'OLD-1',
        lastResult: expect.stringMatching(/^stale: /),
      }),
    ]);
    expect(rec.events).toHaveLength(0);
    expect(await source.watching()).toEqual([]);
    const asked = sim.statusRequests.length;
    expect(await source.sweep()).toMatchObject({ checked: 0 });
    expect(sim.statusRequests.length).toBe(asked);
  });

  it('a full awaited list: watch() resolves false and says so on source.error (ERR_AWAITED_FULL); no watch is dropped', async () => {
    const list = createMemoryAwaitedList({ maxEntries: 2 });
    const { rec, source } = await connected({}, { awaited: { list } });
    expect(await source.watch('M-1', { ttlMs: HOUR })).toBe(true);
    expect(await source.watch('M-2', { ttlMs: 2 * HOUR })).toBe(true);
    expect(await source.watch('M-3', { ttlMs: 3 * HOUR })).toBe(false);
    expect(rec.sourceErrors.at(-1)!.detail).toBe(
      'could not await transaction M-3 (ERR_AWAITED_FULL)',
    );
    expect(await source.watching()).toEqual(['M-1', 'M-2']);
    expect(source.status().watched).toBe(2);
  });

  it('an awaited list that fails: watch() and unwatch() resolve false and say so on source.error, watching() rejects, sweep() counts it; nothing throws into the app', async () => {
    const memory = createMemoryAwaitedList();
    let down = false;
    const failing =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        down ? Promise.reject(new Error('awaited list backend down')) : fn(...args);
    const list: AwaitedList = {
      ...memory,
      add: failing(memory.add),
      expire: failing(memory.expire),
      lease: failing(memory.lease),
      list: failing(memory.list),
      purge: failing(memory.purge),
    };
    const { rec, source } = await connected({}, { awaited: { list } });
    sim.createTransaction({ transactionId: 'DOWN-1', amount: 1000 });
    down = true;
    expect(await source.watch('DOWN-1')).toBe(false);
    expect(rec.sourceErrors.at(-1)!.detail).toBe('could not await transaction DOWN-1');
    expect(rec.sourceErrors.at(-1)!.error!.message).toMatch(/awaited list backend down/);
    expect(await source.unwatch('DOWN-1')).toBe(false);
    expect(rec.sourceErrors.at(-1)!.detail).toBe(
      'could not end the awaited payment of transaction DOWN-1',
    );
    await expect(source.watching()).rejects.toThrow(/awaited list backend down/);
    const swept = await source.sweep();
    expect(swept).toMatchObject({ checked: 0, emitted: 0 });
    expect(swept.errors).toBeGreaterThanOrEqual(1);
    // The hub's sweeper reports a list it cannot use on the hub's error channel.
    expect(rec.errors.some((e) => /awaited list backend down/.test(e.message))).toBe(true);

    down = false;
    expect(await source.watch('DOWN-1')).toBe(true);
    sim.pay('DOWN-1', { emit: false });
    expect(await source.sweep()).toMatchObject({ checked: 1, emitted: 1 });
    expect(rec.events.map((e) => e.transactionId)).toEqual(['DOWN-1']);
  });
});
