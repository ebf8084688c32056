/**
 * Hostile review of createPostgresAwaitedList (PostgreSQL at 127.0.0.1:5432, a schema of its own):
 * odd keys, an order number equal to another payment's reference, a settle racing a reschedule
 * and an expire, two instances with skewed clocks.
 */
import { randomBytes } from 'node:crypto';
import { StoreError, type NewAwaitedPayment } from '@payhook/core';
import { createPostgresAwaitedList, type PostgresAwaitedList } from '../src';
import { useTestSchema } from './support/db';
import { newAwaitedEntry } from '@payhook/core/testing';

const db = useTestSchema('awaited_review');
const open = (): PostgresAwaitedList =>
  createPostgresAwaitedList({
    pool: db.pool,
    schema: db.schema,
    name: `review-${randomBytes(4).toString('hex')}`,
  });

const entry = (
  provider: string,
  ids: { orderId?: string; reference?: string },
  over: Partial<NewAwaitedPayment> = {},
) => newAwaitedEntry(provider, ids, over);

const by = (eventId: string) => ({ by: 'webhook' as const, at: Date.now(), eventId });

describe('postgres awaited list: review', () => {
  it("an order number equal to another payment's reference, and ids full of ':', settle their own entry only", async () => {
    const list = open();
    const order = await list.add(entry('p', { orderId: 'x' }));
    const ref = await list.add(entry('p', { reference: 'x' }));
    const colon = await list.add(entry('p', { orderId: 'ref:x' }));
    expect(new Set([order.key, ref.key, colon.key]).size).toBe(3);
    // The webhook names the reference only: the entry keyed by it, not the order 'x'.
    const a = await list.settle({ provider: 'p', orderId: null, reference: 'x' }, by('e1'));
    expect(a?.key).toBe(ref.key);
    expect((await list.get(order.key))?.state).toBe('awaiting');
    expect((await list.get(colon.key))?.state).toBe('awaiting');
    const b = await list.settle({ provider: 'p', orderId: 'ref:x', reference: null }, by('e2'));
    expect(b?.key).toBe(colon.key);
    expect((await list.get(order.key))?.state).toBe('awaiting');
  });

  it('a key no index can hold (12 KB, incompressible) or a NUL: a StoreError, and nothing changed', async () => {
    const list = open();
    await list.add(entry('p', { orderId: 'ok' }));
    const before = await list.counts(Date.now());
    const huge = randomBytes(6_000).toString('hex');
    const added = await list.add(entry('p', { orderId: huge })).then(
      () => 'added',
      (error: unknown) => (error instanceof StoreError ? 'StoreError' : String(error)),
    );
    expect(added).toBe('StoreError');
    await expect(list.add(entry('p', { orderId: 'a\u0000b' }))).rejects.toThrow(StoreError);
    // A settle naming such ids (a gateway's long reference) finds nothing and fails nothing.
    expect(
      await list.settle({ provider: 'p', orderId: 'z'.repeat(8_192), reference: null }, by('e')),
    ).toBeNull();
    expect(await list.counts(Date.now())).toEqual(before);
    expect((await list.list()).map((e) => e.orderId)).toEqual(['ok']);
  });

  it('a settle racing a reschedule and an expire, 30 times: settled once, never back to awaiting', async () => {
    const lists = [open()];
    const other = createPostgresAwaitedList({
      pool: db.pool,
      schema: db.schema,
      name: lists[0]!.name,
    });
    for (let i = 0; i < 30; i++) await lists[0]!.add(entry('p', { orderId: `R-${i}` }));
    const now = Date.now();
    const leased = await lists[0]!.lease({ owner: 'a', now, leaseMs: 60_000, limit: 30 });
    expect(leased).toHaveLength(30);
    const results = await Promise.all(
      leased.map(async (e) => {
        const [settled, rescheduled, expired] = await Promise.all([
          other.settle({ provider: 'p', orderId: e.orderId, reference: null }, by(`e-${e.key}`)),
          lists[0]!.reschedule(e.key, 'a', { nextCheckAt: now + 1, checks: 1, lastResult: 'x' }),
          lists[0]!.expire(e.key, now, 'pending'),
        ]);
        const final = await other.get(e.key);
        return { settled: settled !== null, rescheduled, expired: expired !== null, final };
      }),
    );
    for (const r of results) {
      // The settle always wins in the end (overdue → settled is allowed), and only once.
      expect(r.settled).toBe(true);
      expect(r.final?.state).toBe('settled');
    }
    // None is leased again: settled entries are out of the sweep.
    expect(await other.lease({ owner: 'b', now: now + 1e9, leaseMs: 1, limit: 100 })).toEqual([]);
    expect(await other.counts(now)).toEqual({ awaiting: 0, overdue: 0, settled: 30 });
  });

  it('two sweepers with skewed clocks: one 30 s behind never takes a lease the other holds', async () => {
    const list = open();
    const now = Date.now();
    await list.add(entry('p', { orderId: 'S-1' }, { nextCheckAt: now - 60_000 }));
    const ahead = await list.lease({
      owner: 'ahead',
      now: now + 30_000,
      leaseMs: 60_000,
      limit: 5,
    });
    expect(ahead).toHaveLength(1);
    expect(await list.lease({ owner: 'behind', now, leaseMs: 60_000, limit: 5 })).toEqual([]);
    // Its lease lapsed on the slower clock too: taken.
    expect(
      await list.lease({ owner: 'behind', now: now + 90_000, leaseMs: 60_000, limit: 5 }),
    ).toHaveLength(1);
    expect(
      await list.reschedule(ahead[0]!.key, 'ahead', {
        nextCheckAt: now,
        checks: 1,
        lastResult: null,
      }),
    ).toBe(false);
  });

  it('purge and counts: an overdue entry settled later is purged by its settledAt, never early', async () => {
    const list = open();
    const now = Date.now();
    const e = await list.add(entry('p', { orderId: 'P-1' }, { until: now - 10_000 }));
    expect(await list.counts(now)).toEqual({ awaiting: 0, overdue: 1, settled: 0 });
    await list.expire(e.key, now, 'pending');
    await list.settle(
      { provider: 'p', orderId: 'P-1', reference: null },
      { ...by('late'), at: now },
    );
    expect(await list.purge(now - 1)).toBe(0);
    expect(await list.counts(now)).toEqual({ awaiting: 0, overdue: 0, settled: 1 });
    expect(await list.purge(now + 1)).toBe(1);
  });
});
