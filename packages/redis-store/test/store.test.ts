import { Redis } from 'ioredis';
import { ConfigError, StoreError, type Claim } from '@payhook/core';
import { runStoreConformance } from '@payhook/core/testing';
import { createRedisStore, DONE, type RedisStore } from '@payhook/redis-store';
import { deletePrefix, freePort, REDIS_URL, testPrefix } from './support/redis';

// The real Redis on 127.0.0.1:6379; every key lives under this run's own prefix.
const prefix = testPrefix('store');
const kitPrefix = testPrefix('conformance');
let admin: Redis;
let store: RedisStore;
const lost: Array<[string, string]> = [];

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  store = createRedisStore({
    url: REDIS_URL,
    prefix,
    onLostClaim: (key, op) => lost.push([key, op]),
  });
  await store.ready();
});

afterAll(async () => {
  await store.close();
  await deletePrefix(admin, prefix);
  await deletePrefix(admin, kitPrefix);
  await admin.quit();
});

beforeEach(() => {
  lost.length = 0;
});

const claimed = (claim: Claim): string => {
  if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
  return claim.token;
};

/** Waits until Redis itself expired the key: the test never guesses how long that takes. */
async function untilExpired(key: string, boundMs = 5_000): Promise<void> {
  const start = Date.now();
  while ((await admin.exists(prefix + key)) === 1) {
    if (Date.now() - start > boundMs) throw new Error(`${key} did not expire within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The contract (claim, commit, release, renew, markDone, leases, retention, races, close): the kit,
// a store (and so a client) per test. What follows is Redis's own: what the keys hold and for how
// long, onLostClaim, the floors, failing fast.
runStoreConformance({
  name: 'redis store',
  create: async () => {
    const kitStore = createRedisStore({ url: REDIS_URL, prefix: kitPrefix });
    await kitStore.ready();
    return kitStore;
  },
});

describe('createRedisStore options', () => {
  it.each([
    [{ prefix: 'p:' }, 'url'],
    [{ url: REDIS_URL, prefix: '' }, 'prefix'],
    [{ url: REDIS_URL, prefix: 'p:', leaseMs: 0 }, 'leaseMs'],
    [{ url: REDIS_URL, prefix: 'p:', ttlMs: 1.5 }, 'ttlMs'],
    [{ url: REDIS_URL, prefix: 'p:', leaseMs: 5_000, ttlMs: 1_000 }, 'ttlMs'],
    [{ url: REDIS_URL, prefix: 'p:', commandTimeoutMs: -1 }, 'commandTimeoutMs'],
    [{ url: REDIS_URL, prefix: 'p:', maxOrphanedClaims: 0 }, 'maxOrphanedClaims'],
    [{ url: REDIS_URL, client: {} as Redis, prefix: 'p:' }, 'client'],
    [{ client: {} as Redis, prefix: 'p:' }, 'client'],
  ])('refuses %j at construction, naming %s', (options, option) => {
    let error: unknown;
    try {
      createRedisStore(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe(option);
    expect((error as Error).message).toMatch(/^@payhook\/redis-store: /);
  });
});

describe('claim / commit / release', () => {
  it('claims once; a second claim is busy; commit makes it done with the retention TTL', async () => {
    const token = claimed(await store.claim('pay:1', 30_000));
    expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await admin.get(prefix + 'pay:1')).toBe(token);
    const leaseLeft = await admin.pttl(prefix + 'pay:1');
    expect(leaseLeft).toBeGreaterThan(0);
    expect(leaseLeft).toBeLessThanOrEqual(30_000);

    expect(await store.claim('pay:1', 30_000)).toEqual({ state: 'busy' });

    await store.commit('pay:1', token, 3_600_000);
    expect(await admin.get(prefix + 'pay:1')).toBe(DONE);
    const ttlLeft = await admin.pttl(prefix + 'pay:1');
    expect(ttlLeft).toBeGreaterThan(30_000);
    expect(ttlLeft).toBeLessThanOrEqual(3_600_000);
    expect(await store.claim('pay:1', 30_000)).toEqual({ state: 'done' });
    expect(lost).toEqual([]);
  });

  it('release with another token leaves the claim alone and reports a lost claim', async () => {
    const token = claimed(await store.claim('pay:3', 30_000));
    const stranger = claimed(await store.claim('pay:3-other', 30_000));
    await store.release('pay:3', stranger);
    await store.release('pay:3', DONE);
    expect(await admin.get(prefix + 'pay:3')).toBe(token);
    expect(await store.claim('pay:3', 30_000)).toEqual({ state: 'busy' });
    expect(lost).toEqual([
      ['pay:3', 'release'],
      ['pay:3', 'release'],
    ]);
  });

  it('a holder whose lease expired can neither commit nor release the next holder claim', async () => {
    const late = claimed(await store.claim('pay:6', 150));
    await untilExpired('pay:6');
    const current = claimed(await store.claim('pay:6', 30_000));

    await store.commit('pay:6', late, 60_000);
    await store.release('pay:6', late);
    expect(await admin.get(prefix + 'pay:6')).toBe(current);
    expect(lost).toEqual([
      ['pay:6', 'commit'],
      ['pay:6', 'release'],
    ]);

    await store.commit('pay:6', current, 60_000);
    expect(await store.claim('pay:6', 30_000)).toEqual({ state: 'done' });
  });

  it('a holder whose lease expired with nobody taking over still records its success as done', async () => {
    const late = claimed(await store.claim('pay:7', 150));
    await untilExpired('pay:7');
    await store.commit('pay:7', late, 60_000);
    expect(await admin.get(prefix + 'pay:7')).toBe(DONE);
    expect(lost).toEqual([]);
  });

  it('a token the store never issued commits nothing', async () => {
    await store.commit('pay:8', DONE, 60_000);
    await store.commit('pay:8', '', 60_000);
    expect(await admin.exists(prefix + 'pay:8')).toBe(0);
    expect(lost.map(([, op]) => op)).toEqual(['commit', 'commit']);
  });

  it('only one of many concurrent claims wins, across two clients', async () => {
    const other = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await other.ready();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).claim('pay:9', 30_000)),
      );
      expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'busy')).toHaveLength(39);
    } finally {
      await other.close();
    }
  });

  it('keys carry the prefix verbatim and values stay small', async () => {
    const token = claimed(await store.claim('newpay:TX-1:paid', 30_000));
    expect(await admin.get(`${prefix}newpay:TX-1:paid`)).toBe(token);
    await store.commit('newpay:TX-1:paid', token, 60_000);
    expect(await admin.strlen(`${prefix}newpay:TX-1:paid`)).toBe(DONE.length);
    let cursor = '0';
    const keys: string[] = [];
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
  });
});

describe('renew', () => {
  it('with another token it answers false and changes nothing', async () => {
    const token = claimed(await store.claim('renew:2', 5_000));
    const before = await admin.pttl(prefix + 'renew:2');
    const stranger = claimed(await store.claim('renew:2-other', 5_000));
    expect(await store.renew('renew:2', stranger, 600_000)).toBe(false);
    expect(await store.renew('renew:2', DONE, 600_000)).toBe(false);
    expect(await store.renew('renew:2', '', 600_000)).toBe(false);
    expect(await admin.get(prefix + 'renew:2')).toBe(token);
    expect(await admin.pttl(prefix + 'renew:2')).toBeLessThanOrEqual(before);
    expect(lost).toEqual([
      ['renew:2', 'renew'],
      ['renew:2', 'renew'],
      ['renew:2', 'renew'],
    ]);
  });

  it('a done key answers false and keeps its retention; a lapsed claim is not revived', async () => {
    const token = claimed(await store.claim('renew:3', 5_000));
    await store.commit('renew:3', token, 3_600_000);
    expect(await store.renew('renew:3', token, 1_000)).toBe(false);
    expect(await admin.get(prefix + 'renew:3')).toBe(DONE);
    expect(await admin.pttl(prefix + 'renew:3')).toBeGreaterThan(3_000_000);

    const late = claimed(await store.claim('renew:4', 150));
    await untilExpired('renew:4');
    expect(await store.renew('renew:4', late, 60_000)).toBe(false);
    expect(await admin.exists(prefix + 'renew:4')).toBe(0);
    expect(lost.map(([key, op]) => `${key} ${op}`)).toEqual(['renew:3 renew', 'renew:4 renew']);
  });

  it('respects the store leaseMs floor, and refuses a call with no usable lease', async () => {
    const floored = createRedisStore({ url: REDIS_URL, prefix, leaseMs: 60_000 });
    try {
      await floored.ready();
      const token = claimed(await floored.claim('renew:5', 100));
      expect(await floored.renew('renew:5', token, 100)).toBe(true);
      expect(await admin.pttl(prefix + 'renew:5')).toBeGreaterThan(30_000);
    } finally {
      await floored.close();
    }
    const token = claimed(await store.claim('renew:6', 5_000));
    await expect(store.renew('renew:6', token, 0)).rejects.toThrow(/leaseMs must be a positive/);
    expect(await admin.get(prefix + 'renew:6')).toBe(token);
  });
});

describe('leaseMs and ttlMs options are floors', () => {
  it('the longer of the caller value and the store option wins', async () => {
    const floored = createRedisStore({ url: REDIS_URL, prefix, leaseMs: 60_000, ttlMs: 7_200_000 });
    try {
      await floored.ready();
      const token = claimed(await floored.claim('floor:1', 100));
      expect(await admin.pttl(prefix + 'floor:1')).toBeGreaterThan(30_000);
      await floored.commit('floor:1', token, 1_000);
      expect(await admin.pttl(prefix + 'floor:1')).toBeGreaterThan(3_600_000);

      const longer = claimed(await floored.claim('floor:2', 120_000));
      expect(await admin.pttl(prefix + 'floor:2')).toBeGreaterThan(60_000);
      await floored.release('floor:2', longer);
    } finally {
      await floored.close();
    }
  });

  it('a call without a usable duration and no floor is refused, not stored forever', async () => {
    await expect(store.claim('floor:3', 0)).rejects.toBeInstanceOf(StoreError);
    await expect(store.claim('floor:3', Number.NaN)).rejects.toThrow(/leaseMs must be a positive/);
    expect(await admin.exists(prefix + 'floor:3')).toBe(0);
  });
});

describe('close and failing fast', () => {
  it('close() closes a client the store created, and later calls reject', async () => {
    const own = createRedisStore({ url: REDIS_URL, prefix });
    await own.ready();
    await own.close();
    expect(own.client.status).toBe('end');
    await expect(own.claim('closed:1', 1_000)).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
    });
  });

  it('close() leaves a client it was given open', async () => {
    const client = new Redis(REDIS_URL);
    try {
      const given = createRedisStore({ client, prefix });
      await given.ready();
      claimed(await given.claim('given:1', 30_000));
      await given.close();
      expect(client.status).toBe('ready');
      expect(await client.get(prefix + 'given:1')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    } finally {
      await client.quit();
    }
  });

  it('with no Redis listening, a store built from url rejects at once with a StoreError', async () => {
    const port = await freePort();
    const dead = createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      prefix,
      commandTimeoutMs: 10_000,
    });
    try {
      const start = Date.now();
      const error = await dead.claim('dead:1', 1_000).catch((e: unknown) => e);
      const elapsed = Date.now() - start;
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('ERR_STORE_UNAVAILABLE');
      expect((error as Error).message).toMatch(/^@payhook\/redis-store: .*claim/);
      // Refused without waiting for the 10 s command timeout: the offline queue is off.
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await dead.close();
    }
  });

  it('a given client with ioredis defaults (offline queue on) is still bounded by commandTimeoutMs', async () => {
    const port = await freePort();
    const client = new Redis(`redis://127.0.0.1:${port}`, {
      retryStrategy: () => 50,
      // ioredis keeps a timer this long after disconnect() when the socket is already closed.
      disconnectTimeout: 50,
    });
    client.on('error', () => undefined);
    const queued = createRedisStore({ client, prefix, commandTimeoutMs: 300 });
    try {
      const error = await queued.claim('dead:2', 1_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(/did not answer within 300 ms/);
    } finally {
      await queued.close();
      client.disconnect();
    }
  });
});
