import { randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';
import {
  AWAITED_STATES,
  ConfigError,
  StoreError,
  awaitedKey,
  type NewAwaitedPayment,
} from '@payhook/core';
import { reportCounts, runAwaitedListConformance } from '@payhook/core/testing';
import { createPostgresAwaitedList } from '../src';
import { testPool, useTestSchema } from './support/db';

const db = useTestSchema('awaited');
const listName = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

function entry(provider: string, orderId: string, over: Partial<NewAwaitedPayment> = {}) {
  const now = Date.now();
  return {
    key: awaitedKey(provider, { orderId }),
    provider,
    orderId,
    reference: null,
    until: now + 60_000,
    createdAt: now,
    nextCheckAt: now,
    allowOlderThanMaxAge: false,
    ...over,
  };
}

// A list of its own per test (a random name on the file's schema): the full-list test's 3 are its own.
runAwaitedListConformance(
  { describe, it },
  {
    name: 'postgres',
    create: ({ maxEntries }) =>
      createPostgresAwaitedList({
        pool: db.pool,
        schema: db.schema,
        name: listName('conformance'),
        maxEntries,
      }),
  },
);

describe('the PostgreSQL awaited list', () => {
  it('checks its options at construction (ConfigError)', () => {
    const pool = db.pool;
    expect(() => createPostgresAwaitedList({} as never)).toThrow(/option "pool"/);
    expect(() => createPostgresAwaitedList({ pool: {} as never })).toThrow(/option "pool"/);
    expect(() => createPostgresAwaitedList({ pool, schema: 'Robert"; DROP' })).toThrow(
      /option "schema"/,
    );
    expect(() => createPostgresAwaitedList({ pool, name: '' })).toThrow(/option "name"/);
    expect(() => createPostgresAwaitedList({ pool, name: 7 as never })).toThrow(/option "name"/);
    expect(() => createPostgresAwaitedList({ pool, maxEntries: 0 })).toThrow(/option "maxEntries"/);
    expect(() => createPostgresAwaitedList({ pool, maxEntries: 1.5 })).toThrow(
      /option "maxEntries"/,
    );
    expect(() => createPostgresAwaitedList({ pool, statementTimeoutMs: 0 })).toThrow(
      /option "statementTimeoutMs"/,
    );
    expect(() => createPostgresAwaitedList({ pool, connectTimeoutMs: -1 })).toThrow(
      /option "connectTimeoutMs"/,
    );
    expect(() => createPostgresAwaitedList({ pool, name: '' })).toThrow(ConfigError);
    const list = createPostgresAwaitedList({ pool, schema: db.schema });
    expect([list.schema, list.name]).toEqual([db.schema, 'awaited']);
  });

  it("migration 007's state CHECK is core's AWAITED_STATES", async () => {
    const insert = (state: string) =>
      db.pool.query(
        `INSERT INTO "${db.schema}".awaited_payments
           (name, key, provider, until, created_at, state, next_check_at)
         VALUES ($1, $2, 'p', 0, 0, $2, 0)`,
        [listName('check'), state],
      );
    for (const state of AWAITED_STATES) await insert(state);
    await expect(insert('cancelled')).rejects.toThrow(/check constraint/);
  });

  it('two instances (two pools), 200 due entries, 20 concurrent leases: each entry leased exactly once', async () => {
    const pools = [testPool({ max: 5 }), testPool({ max: 5 })];
    const name = listName('race');
    const lists = pools.map((pool) => createPostgresAwaitedList({ pool, schema: db.schema, name }));
    try {
      const now = Date.now();
      const keys: string[] = [];
      for (let i = 0; i < 200; i++)
        keys.push(
          (await lists[i % 2]!.add(entry('race', `R-${i}`, { nextCheckAt: now - 200 + i }))).key,
        );
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          lists[i % 2]!.lease({ owner: `sweeper-${i}`, now, leaseMs: 60_000, limit: 15 }),
        ),
      );
      const times = new Map<string, number>();
      for (const leased of results)
        for (const e of leased) times.set(e.key, (times.get(e.key) ?? 0) + 1);
      const twice = [...times.values()].filter((n) => n > 1).length;
      const perInstance = [0, 1].map((k) =>
        results.filter((_, i) => i % 2 === k).reduce((n, r) => n + r.length, 0),
      );
      reportCounts(
        'awaited lease race',
        `entries 200, lease calls 20 (limit 15) on 2 pools: leased ${times.size} distinct,`,
        `${twice} twice, per instance ${perInstance.join('/')},`,
        `entries per call ${results.map((r) => r.length).join(' ')}`,
      );
      expect(twice).toBe(0);
      expect([...times.keys()].sort()).toEqual([...keys].sort());
      // Each call's entries come soonest first.
      for (const leased of results) {
        const due = leased.map((e) => e.nextCheckAt);
        expect(due).toEqual([...due].sort((a, b) => a - b));
      }
      // Nothing is left to lease until the leases lapse.
      expect(await lists[0]!.lease({ owner: 'late', now, leaseMs: 1, limit: 500 })).toEqual([]);
      const lapsed = await lists[1]!.lease({
        owner: 'late',
        now: now + 60_000,
        leaseMs: 1,
        limit: 500,
      });
      expect(lapsed).toHaveLength(200);
    } finally {
      await Promise.all(lists.map((l) => l.close()));
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses adds beyond maxEntries from two instances at once, never holding more', async () => {
    const pools = [testPool({ max: 5 }), testPool({ max: 5 })];
    const name = listName('full');
    const lists = pools.map((pool) =>
      createPostgresAwaitedList({ pool, schema: db.schema, name, maxEntries: 5 }),
    );
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => lists[i % 2]!.add(entry('full', `F-${i}`))),
      );
      const added = outcomes.filter((o) => o.status === 'fulfilled').length;
      const refused = outcomes.filter(
        (o) =>
          o.status === 'rejected' && (o.reason as { code?: string }).code === 'ERR_AWAITED_FULL',
      ).length;
      reportCounts(
        'awaited full race',
        `20 adds, maxEntries 5: ${added} added, ${refused} refused`,
      );
      expect([added, refused]).toEqual([5, 15]);
      expect((await lists[0]!.counts(Date.now())).awaiting).toBe(5);
      // An add of a key already there is no new entry: it passes even when the list is full.
      const known = outcomes.find((o) => o.status === 'fulfilled')!;
      const again = await lists[1]!.add(
        entry('full', (known as PromiseFulfilledResult<{ orderId: string }>).value.orderId),
      );
      expect(again.state).toBe('awaiting');
    } finally {
      await Promise.all(lists.map((l) => l.close()));
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('keeps an entry across a restart: a new pool finds it as it was', async () => {
    const name = listName('restart');
    const first = testPool({ max: 2 });
    const before = createPostgresAwaitedList({ pool: first, schema: db.schema, name });
    const added = await before.add(entry('restart', 'S-1', { reference: 'T-1' }));
    await before.close();
    await first.end();
    const second = testPool({ max: 2 });
    try {
      const after = createPostgresAwaitedList({ pool: second, schema: db.schema, name });
      expect(await after.get(added.key)).toEqual(added);
      const settled = await after.settle(
        { provider: 'restart', orderId: null, reference: 'T-1' },
        { by: 'webhook', at: Date.now(), eventId: 'restart:T-1' },
      );
      expect(settled?.key).toBe(added.key);
      await after.close();
    } finally {
      await second.end();
    }
  });

  it('a statement past statementTimeoutMs rejects within the bound, and its connection is not reused', async () => {
    const pool = testPool({ max: 2 });
    const acquired: number[] = [];
    const removed: number[] = [];
    const pidOf = (c: PoolClient) => (c as PoolClient & { processID: number }).processID;
    pool.on('acquire', (c) => acquired.push(pidOf(c)));
    pool.on('remove', (c) => removed.push(pidOf(c)));
    const list = createPostgresAwaitedList({
      pool,
      schema: db.schema,
      name: listName('deadline'),
      statementTimeoutMs: 300,
    });
    const holder = await db.pool.connect();
    try {
      const { key } = await list.add(entry('deadline', 'D-1'));
      // Another connection holds the row lock, so the settle's UPDATE waits on it.
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM "${db.schema}".awaited_payments WHERE key = $1 FOR UPDATE`,
        [key],
      );
      const started = Date.now();
      const settling = list.settle(
        { provider: 'deadline', orderId: 'D-1', reference: null },
        { by: 'webhook', at: Date.now(), eventId: 'e' },
      );
      await expect(settling).rejects.toMatchObject({ code: 'ERR_STORE_TIMEOUT' });
      await expect(settling).rejects.toBeInstanceOf(StoreError);
      const elapsed = Date.now() - started;
      reportCounts('awaited statement deadline', `300 ms deadline, rejected after ${elapsed} ms`);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_000);
      const timedOut = acquired[acquired.length - 1]!;
      // The pool drops the connection (not given back as idle), and its backend is terminated
      // too, so the waiting UPDATE never runs once the lock is freed.
      const gone = async () =>
        removed.includes(timedOut) &&
        (await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [timedOut]))
          .rowCount === 0;
      for (let i = 0; i < 50 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(removed).toContain(timedOut);
      expect(await gone()).toBe(true);
      await holder.query('ROLLBACK');
      const after = await list.get(key);
      expect(after?.state).toBe('awaiting');
      expect(acquired[acquired.length - 1]).not.toBe(timedOut);
    } finally {
      holder.release();
      await list.close();
      await pool.end();
    }
  });
});
