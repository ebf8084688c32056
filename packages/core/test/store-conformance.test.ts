import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createMemoryStore, type IdempotencyStore } from '../src';
import {
  runStoreConformance,
  type StoreConformanceFixtures,
  type StoreConformanceHarness,
} from '../src/testing';

/**
 * The kit checked against stores that break the contract: each broken store must fail the kit
 * (the test that names the broken rule among the failures), and the genuine memory store none.
 */

type Store = IdempotencyStore;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the kit's tests (those whose title matches `only`) on `fixtures` with a harness that
 * collects them; resolves with the titles of those that failed.
 */
async function failuresOf(
  fixtures: StoreConformanceFixtures<Store>,
  only = /./,
): Promise<string[]> {
  const tests: Array<{ name: string; fn: () => Promise<void> }> = [];
  const harness: StoreConformanceHarness = {
    describe: (_name, fn) => fn(),
    it: (name, fn) => void (only.test(name) && tests.push({ name, fn })),
  };
  runStoreConformance(
    { timing: { leaseMs: 80, ttlMs: 150, boundMs: 1_000 }, ...fixtures },
    harness,
  );
  const failed: string[] = [];
  for (const test of tests) await test.fn().catch(() => failed.push(test.name));
  return failed;
}

/** The memory store with one method replaced. */
const broken = (change: (store: Store) => Partial<Store>) => (): Store => {
  const store = createMemoryStore();
  return { ...store, ...change(store) };
};

const mutants: Array<[string, () => Store, RegExp]> = [
  [
    'claim never answers busy',
    broken((s) => ({
      claim: async (key, leaseMs) => {
        const claim = await s.claim(key, leaseMs);
        return claim.state === 'busy' ? { state: 'claimed', token: 'another' } : claim;
      },
    })),
    /another claim meanwhile is busy/,
  ],
  [
    'commit takes any token',
    broken((s) => ({ commit: (key, _token, ttl) => s.markDone!(key, ttl) })),
    /another claim's token neither commits/,
  ],
  [
    'release takes any token',
    broken((s) => ({
      // Whoever holds the key: done for 1 ms, so gone at once.
      release: async (key) => {
        const c = await s.claim(key, 1);
        if (c.state === 'busy') await s.markDone!(key, 1);
      },
    })),
    /another claim's token neither commits, releases/,
  ],
  ['renew takes any token', broken(() => ({ renew: async () => true })), /renew answers true/],
  [
    'renew does not extend',
    broken((s) => ({ renew: (key, token) => s.renew!(key, token, 1) })),
    /renew restarts a timed lease/,
  ],
  [
    'commit keeps done forever',
    broken((s) => ({ commit: (key, token) => s.commit(key, token, 3_600_000) })),
    /^done is kept for ttlMs/,
  ],
  [
    'a lease never lapses',
    broken((s) => ({ claim: (key, _leaseMs, options) => s.claim(key, 3_600_000, options) })),
    /a lease lapses by itself/,
  ],
  [
    'a late commit is dropped',
    broken((s) => ({
      commit: async (key, token, ttl) => {
        if (await s.renew!(key, token, 60_000)) await s.commit(key, token, ttl);
      },
    })),
    /a commit after its lease lapsed/,
  ],
  [
    'markDone does not override a claim',
    broken((s) => ({
      markDone: async (key, ttl) => {
        const c = await s.claim(key, 60_000);
        if (c.state === 'claimed') await s.commit(key, c.token, ttl);
      },
    })),
    /markDone records done at once/,
  ],
  [
    'claim reads and writes in two steps',
    broken((s) => ({
      claim: async (key, leaseMs) => {
        await sleep(Math.random() * 5);
        const claim = await s.claim(key, leaseMs);
        return claim.state === 'busy' && Math.random() < 0.5
          ? { state: 'claimed', token: `racer-${Math.random()}` }
          : claim;
      },
    })),
    /callers claiming one key at once/,
  ],
];

describe('runStoreConformance against broken stores', () => {
  it('the genuine memory store fails none of its tests', async () => {
    expect(await failuresOf({ create: () => createMemoryStore(), without: ['close'] })).toEqual([]);
  });

  // Each broken store is run on the test that names its rule (the genuine store passes them all).
  it.each(mutants)('a store where %s fails the kit', async (_what, create, expected) => {
    const failed = await failuresOf({ create, without: ['close'] }, expected);
    expect(failed).toHaveLength(1);
  });

  it('a store missing an optional method it did not declare fails; one it declared is not tested', async () => {
    const create = broken(() => ({ renew: undefined }));
    expect(await failuresOf({ create, without: ['close'] })).toEqual([
      'declares transactional, deadlineMs and its optional methods as they are',
      'renew answers true while held, false after release, after commit and for a free key',
      'renew restarts a timed lease from now: the claim outlives its first lease',
    ]);
    expect(await failuresOf({ create, without: ['close', 'renew'] })).toEqual([]);
  });

  it('refuses to register without describe/it or without create', () => {
    expect(() => runStoreConformance({ create: () => createMemoryStore() }, {} as never)).toThrow(
      /no describe\/it found/,
    );
    expect(() => runStoreConformance({} as never)).toThrow(/give `create`/);
  });
});

describe('runStoreConformance under node:test', () => {
  const file = path.join(__dirname, 'support', 'store-node-test.ts');
  const run = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--test', file], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });

  it('passes on the memory store, with describe/it from node:test', () => {
    const result = run();
    expect(result.stdout).toMatch(/^# fail 0$/m);
    expect(result.stdout).toMatch(/^# pass 18$/m);
    expect(result.status).toBe(0);
  });

  it('fails, with a non-zero exit, on a store whose claim is never busy', () => {
    const result = run({ STORE_KIT_BROKEN: '1' });
    expect(result.stdout).not.toMatch(/^# fail 0$/m);
    expect(result.status).not.toBe(0);
  });
});
