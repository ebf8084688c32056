import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { awaitedKey, type AwaitedList, type NewAwaitedPayment } from '../awaited/types';
import type { StoreConformanceHarness } from './store-conformance';

export interface AwaitedListConformanceFixtures<L extends AwaitedList> {
  /** Shown in the test titles. */
  name?: string;
  /**
   * A fresh list, ready to use, once per test; lists may share a backend (the kit's provider ids
   * are random per test). `maxEntries` is the kit's: the full-list test asks for 3.
   */
  create(options: { maxEntries?: number }): L | Promise<L>;
  /** Called after every test with the list `create` made (default: its close()). */
  destroy?(list: L): void | Promise<void>;
}

/**
 * A new awaited entry for a list's own tests: provider, order number and/or reference, due now,
 * until a minute from now; `over` replaces any field.
 */
export function newAwaitedEntry(
  provider: string,
  ids: { orderId?: string | null; reference?: string | null },
  over: Partial<NewAwaitedPayment> = {},
): NewAwaitedPayment {
  const now = Date.now();
  const orderId = ids.orderId ?? null;
  const reference = over.reference ?? ids.reference ?? null;
  return {
    key: awaitedKey(provider, { orderId, reference }),
    provider,
    orderId,
    reference,
    until: now + 60_000,
    createdAt: now,
    nextCheckAt: now,
    allowOlderThanMaxAge: false,
    ...over,
  };
}

/** The kit's entries: provider `p` (random per test), order `orderId`. */
const entry = (provider: string, orderId: string | null, over: Partial<NewAwaitedPayment> = {}) =>
  newAwaitedEntry(provider, { orderId }, over);

const lease = (owner: string, over: { now?: number; leaseMs?: number; limit?: number } = {}) => ({
  owner,
  now: over.now ?? Date.now(),
  leaseMs: over.leaseMs ?? 60_000,
  limit: over.limit ?? 100,
});
const at = Date.now;

/**
 * Holds an AwaitedList (the Redis and PostgreSQL ones, or yours) to the contract the hub's sweeper
 * relies on: an entry kept until settled or overdue, settled once whoever settles it, leased to one
 * sweeper at a time and taken again when its lease lapses, never dropped when the list is full.
 */
export function runAwaitedListConformance<L extends AwaitedList>(
  h: StoreConformanceHarness,
  f: AwaitedListConformanceFixtures<L>,
): void {
  const withList =
    (fn: (list: L, p: string) => Promise<void>, options: { maxEntries?: number } = {}) =>
    async (): Promise<void> => {
      const list = await f.create(options);
      const p = `k${randomBytes(5).toString('hex')}`;
      try {
        await fn(list, p);
      } finally {
        if (f.destroy) await f.destroy(list);
        else await list.close?.();
      }
    };
  h.describe(`awaited list conformance${f.name ? `: ${f.name}` : ''}`, () => {
    entriesRules(h, withList);
    leasesRules(h, withList);
    lifecycleRules(h, withList);
    housekeepingRules(h, withList);
  });
}

type WithList<L> = (
  fn: (list: L, p: string) => Promise<void>,
  options?: { maxEntries?: number },
) => () => Promise<void>;

/** Adding and settling: kept until a final answer, settled once whoever settles it. */
function entriesRules<L extends AwaitedList>(
  h: StoreConformanceHarness,
  withList: WithList<L>,
): void {
  h.it(
    'adds an entry as awaiting, and an add of the same key keeps it (later until, reference filled in)',
    withList(async (list, p) => {
      const first = await list.add(entry(p, 'A-1'));
      assert.equal(first.state, 'awaiting');
      assert.equal(first.checks, 0);
      assert.equal(first.reference, null);
      const later = first.until + 1_000;
      const again = await list.add(entry(p, 'A-1', { until: later, reference: 'T-1' }));
      assert.equal(again.until, later);
      assert.equal(again.reference, 'T-1');
      assert.deepEqual(await list.get(first.key), again);
      assert.equal(await list.get(`${p}:order:none`), null);
    }),
  );
  h.it(
    'settles once, by order number or by reference, whoever settles it',
    withList(async (list, p) => {
      await list.add(entry(p, 'A-1', { reference: 'T-1' }));
      await list.add(entry(p, null, { reference: 'T-2' }));
      const s = (orderId: string | null, reference: string | null, eventId: string) =>
        list.settle({ provider: p, orderId, reference }, { by: 'webhook', at: at(), eventId });
      const byRef = await s(null, 'T-1', 'e1');
      assert.equal(byRef?.state, 'settled');
      assert.equal(byRef?.settledBy, 'webhook');
      assert.equal(byRef?.eventId, 'e1');
      assert.equal(await s('A-1', 'T-1', 'e2'), null, 'settled twice');
      assert.equal((await s('B-9', 'T-2', 'e3'))?.key, awaitedKey(p, { reference: 'T-2' }));
      assert.equal(await s('Z', 'none', 'e4'), null, 'settled an entry nobody awaits');
      assert.equal(await s('A-1', null, 'e5'), null);
      assert.equal((await list.get(awaitedKey(p, { orderId: 'A-1' })))?.eventId, 'e1');
    }),
  );
  h.it(
    'settles each of many racing settlements exactly once',
    withList(async (list, p) => {
      for (let i = 0; i < 10; i++) await list.add(entry(p, `O-${i}`));
      const paths = ['webhook', 'socket', 'status-query'] as const;
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          list.settle(
            { provider: p, orderId: `O-${i % 10}`, reference: null },
            { by: paths[i % 3]!, at: at(), eventId: `e${i}` },
          ),
        ),
      );
      assert.equal(results.filter((r) => r !== null).length, 10);
    }),
  );
}

/** Leases: one sweeper at a time, taken again only when a lease lapses. */
function leasesRules<L extends AwaitedList>(
  h: StoreConformanceHarness,
  withList: WithList<L>,
): void {
  h.it(
    'leases due entries to one owner at a time, soonest first, within the limit',
    withList(async (list, p) => {
      const now = at();
      await list.add(entry(p, 'late', { nextCheckAt: now + 60_000 }));
      await list.add(entry(p, 'second', { nextCheckAt: now - 1_000 }));
      await list.add(entry(p, 'first', { nextCheckAt: now - 2_000 }));
      await list.add(entry(p, 'third', { nextCheckAt: now }));
      const a = await list.lease(lease('a', { now, limit: 2 }));
      assert.deepEqual(
        a.map((e) => e.orderId),
        ['first', 'second'],
      );
      const [b, c] = await Promise.all([
        list.lease(lease('b', { now })),
        list.lease(lease('c', { now })),
      ]);
      assert.deepEqual(
        [...b!, ...c!].map((e) => e.orderId),
        ['third'],
        'leased twice',
      );
    }),
  );
  h.it(
    "leases one provider's entries only when asked, and entries not yet due with dueBy",
    withList(async (list, p) => {
      const now = at();
      const other = `${p}x`;
      await list.add(entry(p, 'due', { nextCheckAt: now }));
      await list.add(entry(p, 'later', { nextCheckAt: now + 60_000 }));
      await list.add(entry(other, 'due', { nextCheckAt: now }));
      const mine = await list.lease({ ...lease('a', { now }), provider: p });
      assert.deepEqual(
        mine.map((e) => e.key),
        [awaitedKey(p, { orderId: 'due' })],
      );
      const early = await list.lease({
        ...lease('a', { now }),
        provider: p,
        dueBy: now + 60_000,
      });
      assert.deepEqual(
        early.map((e) => e.key),
        [awaitedKey(p, { orderId: 'later' })],
      );
      const rest = await list.lease({ ...lease('b', { now }), provider: other });
      assert.equal(rest.length, 1);
    }),
  );
  h.it(
    'takes an entry again once its lease lapses (its sweeper died), never before',
    withList(async (list, p) => {
      const now = at();
      await list.add(entry(p, 'A-1', { nextCheckAt: now }));
      assert.equal((await list.lease(lease('dead', { now, leaseMs: 1_000 }))).length, 1);
      assert.equal((await list.lease(lease('b', { now: now + 999 }))).length, 0);
      const again = await list.lease(lease('b', { now: now + 1_000 }));
      assert.equal(again.length, 1);
      assert.equal(
        await list.reschedule(again[0]!.key, 'dead', {
          nextCheckAt: now,
          checks: 9,
          lastResult: 'x',
        }),
        false,
        "a lapsed owner's reschedule was taken",
      );
    }),
  );
}

/** Overdue, listing and counting. */
function lifecycleRules<L extends AwaitedList>(
  h: StoreConformanceHarness,
  withList: WithList<L>,
): void {
  h.it(
    "reschedules by the lease's owner only, freeing the lease",
    withList(async (list, p) => {
      const now = at();
      const { key } = await list.add(entry(p, 'A-1', { nextCheckAt: now }));
      await list.lease(lease('a', { now }));
      const next = { nextCheckAt: now + 5_000, checks: 1, lastResult: 'pending' };
      assert.equal(await list.reschedule(key, 'b', next), false);
      assert.equal(await list.reschedule(key, 'a', next), true);
      const got = await list.get(key);
      assert.equal(got?.checks, 1);
      assert.equal(got?.lastResult, 'pending');
      assert.equal(got?.nextCheckAt, now + 5_000);
      assert.equal((await list.lease(lease('b', { now: now + 4_999 }))).length, 0);
      assert.equal((await list.lease(lease('b', { now: now + 5_000 }))).length, 1);
    }),
  );
  h.it(
    'expires an awaiting entry once; a settled one is not expired, an overdue one can still settle',
    withList(async (list, p) => {
      const one = await list.add(entry(p, 'A-1'));
      const two = await list.add(entry(p, 'A-2'));
      await list.settle(
        { provider: p, orderId: 'A-2', reference: null },
        { by: 'socket', at: at(), eventId: 'e' },
      );
      const expired = await Promise.all([
        list.expire(one.key, at(), 'pending'),
        list.expire(one.key, at(), 'pending'),
      ]);
      assert.equal(expired.filter((e) => e !== null).length, 1);
      assert.equal(expired.find((e) => e)?.state, 'overdue');
      assert.equal(await list.expire(two.key, at(), null), null);
      assert.equal((await list.lease(lease('a', { now: at() + 1e9 }))).length, 0);
      const late = await list.settle(
        { provider: p, orderId: 'A-1', reference: null },
        { by: 'webhook', at: at(), eventId: 'late' },
      );
      assert.equal(late?.state, 'settled');
    }),
  );
  h.it(
    'lists by state and provider, newest first, and counts (awaiting past until as overdue)',
    withList(async (list, p) => {
      const now = at();
      await list.add(entry(p, 'old', { createdAt: now - 2, until: now - 1 }));
      await list.add(entry(p, 'mid', { createdAt: now - 1 }));
      await list.add(entry(p, 'new', { createdAt: now }));
      await list.settle(
        { provider: p, orderId: 'mid', reference: null },
        { by: 'status-query', at: now, eventId: 'e' },
      );
      assert.deepEqual(
        (await list.list({ provider: p })).map((e) => e.orderId),
        ['new', 'mid', 'old'],
      );
      assert.deepEqual(
        (await list.list({ provider: p, state: 'awaiting', limit: 1 })).map((e) => e.orderId),
        ['new'],
      );
      const counts = await list.counts(now);
      assert.ok(counts.awaiting >= 1 && counts.overdue >= 1 && counts.settled >= 1);
    }),
  );
}

/** A full list refuses new entries; purge removes only what has ended. */
function housekeepingRules<L extends AwaitedList>(
  h: StoreConformanceHarness,
  withList: WithList<L>,
): void {
  h.it(
    'refuses an entry past maxEntries awaiting (ERR_AWAITED_FULL), dropping none',
    withList(
      async (list, p) => {
        for (const id of ['a', 'b', 'c']) await list.add(entry(p, id));
        await assert.rejects(list.add(entry(p, 'd')), { code: 'ERR_AWAITED_FULL' });
        assert.equal((await list.list({ provider: p, state: 'awaiting' })).length, 3);
        await list.settle(
          { provider: p, orderId: 'a', reference: null },
          { by: 'webhook', at: at(), eventId: 'e' },
        );
        assert.equal((await list.add(entry(p, 'd'))).state, 'awaiting');
      },
      { maxEntries: 3 },
    ),
  );
  h.it(
    'purges settled and overdue entries that ended before the cut-off, never awaiting ones',
    withList(async (list, p) => {
      const now = at();
      await list.add(entry(p, 'settled'));
      await list.add(entry(p, 'overdue', { until: now - 10 }));
      await list.add(entry(p, 'waiting', { until: now - 10 }));
      await list.settle(
        { provider: p, orderId: 'settled', reference: null },
        { by: 'webhook', at: now - 5, eventId: 'e' },
      );
      await list.expire(awaitedKey(p, { orderId: 'overdue' }), now, null);
      await list.purge(now - 20);
      assert.equal((await list.list({ provider: p })).length, 3, 'purged before the cut-off');
      assert.ok((await list.purge(now)) >= 2);
      assert.deepEqual(
        (await list.list({ provider: p })).map((e) => e.orderId),
        ['waiting'],
      );
    }),
  );
}
