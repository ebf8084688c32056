/**
 * Watched transactions across a merchant restart and across instances, with real processes:
 * merchant apps (support/merchant-app.ts, each its own Node process) run createLailaolabSource
 * against the Lailaolab simulator of this test process, their hub's awaited list the Redis one of
 * @payhook/redis-store on the shared Redis (`createRedisAwaitedList`) or the default memory one
 * (the control).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { reportCounts } from '@payhook/core/testing';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { deletePrefix, REDIS_URL, testPrefix } from '../../redis-store/test/support/redis';
import { startApp, type AppProcess, type AppStats } from './support/app-process';
import { SECRET } from './helpers';

jest.setTimeout(90_000);

const PAYMENTS = 20;
let sim: LailaolabSimulator;
let admin: Redis;
let apps: AppProcess[];
const prefixes: string[] = [];

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  sim = await startLailaolabSimulator({ secretKey: SECRET });
});

beforeEach(() => {
  apps = [];
});

afterEach(async () => {
  await Promise.all(apps.map((app) => app.stop()));
});

afterAll(async () => {
  // The store's keys start with the prefix, the awaited list's with `{<prefix>awaited:`.
  for (const prefix of prefixes)
    for (const start of [prefix, `{${prefix}`]) await deletePrefix(admin, start);
  await admin.quit();
  await sim.close();
});

async function app(name: string, awaited: 'redis' | 'memory', prefix: string) {
  const started = await startApp({
    name,
    awaited,
    socketUrl: sim.socketBase,
    apiBase: sim.apiBase,
    secret: SECRET,
    redisUrl: REDIS_URL,
    prefix,
  });
  apps.push(started);
  return started;
}

function newPrefix(name: string): string {
  const prefix = testPrefix(`lailaolab-watch-${name}`);
  prefixes.push(prefix);
  return prefix;
}

const tag = () => randomBytes(3).toString('hex');

/** Per transaction id: how many of `ids` were emitted once, more than once, never. */
function tally(ids: string[], ...stats: AppStats[]) {
  const runs = (id: string) => stats.reduce((n, s) => n + (s.dispatched[id] ?? 0), 0);
  return {
    once: ids.filter((id) => runs(id) === 1).length,
    twice: ids.filter((id) => runs(id) > 1).length,
    lost: ids.filter((id) => runs(id) === 0).length,
  };
}

/**
 * The app watches PAYMENTS transactions and is SIGKILLed; every one is paid at the gateway (its
 * socket message goes to nobody); a new process with the same configuration starts and watches
 * nothing at boot. What its connect sweep recovers is the figure.
 */
async function restartScenario(awaited: 'redis' | 'memory') {
  const prefix = newPrefix(awaited);
  const ids = Array.from({ length: PAYMENTS }, (_, i) => `RST-${awaited}-${tag()}-${i}`);
  for (const [i, id] of ids.entries())
    sim.createTransaction({ transactionId: id, amount: 1000 + i });

  const first = await app(`${awaited}-1`, awaited, prefix);
  const stored = await first.watch(ids);
  const beforeKill = await first.watching();
  // Its connect sweep done (stats waits for it, then sweeps once more: all still WAITING), so the
  // kill finds no status query in flight. One killed mid-query would hold those entries for the
  // list's leaseMs: packages/core/test/awaited.test.ts ("dies mid-sweep") shows that case.
  await first.stats();
  const clients = sim.connectedClients();
  await first.kill();
  await sim.waitForClients(clients - 1);

  // Paid while no merchant process runs: the channel has no replay.
  for (const id of ids) sim.pay(id);
  const queriedBefore = sim.statusRequests.length;

  const second = await app(`${awaited}-2`, awaited, prefix);
  // The connect sweep is the one that can find them; each stats() runs one more sweep after it.
  await second.stats();
  const stats = await second.stats();
  const left = await second.watching();
  const counts = {
    stored,
    watchedBeforeKill: beforeKill.ids.length,
    ...tally(ids, stats),
    emittedByLaterSweeps: stats.sweep.emitted,
    statusQueriesAfterRestart: sim.statusRequests.length - queriedBefore,
    watchedAfter: left.ids.length,
    sourceErrors: stats.sourceErrors.length,
  };
  await second.stop();
  return counts;
}

describe('watched transactions across a merchant restart (SIGKILL), payments made while it was down', () => {
  it(`Redis awaited list: ${PAYMENTS} of ${PAYMENTS} emitted exactly once after the restart; memory awaited list (control): ${PAYMENTS} of ${PAYMENTS} lost`, async () => {
    const redis = await restartScenario('redis');
    const memory = await restartScenario('memory');
    reportCounts('awaited list across a merchant restart, redis', redis);
    reportCounts('awaited list across a merchant restart, memory (control)', memory);

    expect(redis.stored).toBe(PAYMENTS);
    expect(redis.watchedBeforeKill).toBe(PAYMENTS);
    expect(redis).toMatchObject({ once: PAYMENTS, twice: 0, lost: 0 });
    // Found by the sweep the new process ran on connect, without a watch() at boot: one status
    // query each, and the later sweeps had nothing left to ask about.
    expect(redis.statusQueriesAfterRestart).toBe(PAYMENTS);
    expect(redis.emittedByLaterSweeps).toBe(0);
    // Every awaited payment was settled by its status query: none is awaiting any more.
    expect(redis.watchedAfter).toBe(0);
    expect(redis.sourceErrors).toBe(0);

    expect(memory.stored).toBe(PAYMENTS);
    expect(memory.watchedBeforeKill).toBe(PAYMENTS);
    expect(memory).toMatchObject({ once: 0, twice: 0, lost: PAYMENTS });
    expect(memory.statusQueriesAfterRestart).toBe(0);
  });
});

describe('two instances, one awaited list', () => {
  it('with the Redis awaited list each instance sees what the other watched, and a payment found by either sweep is emitted once; with memory lists (control) neither does', async () => {
    const prefix = newPrefix('shared');
    const [a, b] = await Promise.all([app('a', 'redis', prefix), app('b', 'redis', prefix)]);
    const byA = `TWO-A-${tag()}`;
    const byB = `TWO-B-${tag()}`;
    for (const id of [byA, byB]) sim.createTransaction({ transactionId: id, amount: 5000 });
    expect(await a.watch([byA])).toBe(1);
    expect(await b.watch([byB])).toBe(1);
    const seenByA = await a.watching();
    const seenByB = await b.watching();

    // Both connect sweeps over (each asked about both, unpaid yet), so neither finds them early.
    await Promise.all([a.stats(), b.stats()]);
    // Paid without a socket message: only a sweep can find them. B sweeps first, then A.
    sim.pay(byA, { emit: false });
    sim.pay(byB, { emit: false });
    const statsB = await b.stats();
    const statsA = await a.stats();
    const shared = {
      seenByA: seenByA.ids.length,
      seenByB: seenByB.ids.length,
      watchedA: seenByA.watched,
      watchedB: seenByB.watched,
      ...tally([byA, byB], statsA, statsB),
      emittedByB: statsB.sweep.emitted,
      emittedByA: statsA.sweep.emitted,
    };

    const [c, d] = await Promise.all([app('c', 'memory', ''), app('d', 'memory', '')]);
    const byC = `TWO-C-${tag()}`;
    sim.createTransaction({ transactionId: byC, amount: 5000 });
    expect(await c.watch([byC])).toBe(1);
    const control = {
      seenByC: (await c.watching()).ids.length,
      seenByD: (await d.watching()).ids.length,
    };
    reportCounts('two instances, Redis awaited list', shared);
    reportCounts('two instances, memory awaited lists (control)', control);

    expect(seenByA.ids.sort()).toEqual([byA, byB].sort());
    expect(seenByB.ids.sort()).toEqual([byA, byB].sort());
    expect(seenByA.watched).toBe(2);
    expect(seenByB.watched).toBe(2);
    expect(shared).toMatchObject({ once: 2, twice: 0, lost: 0, emittedByB: 2, emittedByA: 0 });
    expect(await a.watching()).toMatchObject({ ids: [] });
    expect(control).toEqual({ seenByC: 1, seenByD: 0 });
  });
});
