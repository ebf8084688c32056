/**
 * Hostile review of createRedisAwaitedList (real Redis, a random prefix): a lease of one
 * provider's entries among many of another's, odd keys, and the lease races.
 */
import { randomBytes } from 'node:crypto';
import type { NewAwaitedPayment } from '@payhook/core';
import { newAwaitedEntry, reportCounts } from '@payhook/core/testing';
import { Redis } from 'ioredis';
import { createRedisAwaitedList, type RedisAwaitedList } from '@payhook/redis-store';
import { REDIS_URL } from './support/redis';

const run = `payhook-review-${randomBytes(4).toString('hex')}-`;
let lists = 0;
let admin: Redis;
const opened: RedisAwaitedList[] = [];

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterAll(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
  const keys: string[] = [];
  for await (const batch of admin.scanStream({ match: `{${run}*`, count: 1000 }))
    keys.push(...(batch as string[]));
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function open(
  commandTimeoutMs = 1_000,
  prefix = `${run}${++lists}:`,
): Promise<RedisAwaitedList> {
  const list = createRedisAwaitedList({ url: REDIS_URL, prefix, commandTimeoutMs });
  opened.push(list);
  await list.ready();
  return list;
}

const entry = (
  provider: string,
  ids: { orderId?: string; reference?: string },
  over: Partial<NewAwaitedPayment> = {},
) => newAwaitedEntry(provider, ids, { until: Date.now() + 3_600_000, ...over });

describe('redis awaited list: review', () => {
  it("a lease of one provider's entries reads every due entry of the others (measured; bounded loosely)", async () => {
    const list = await open(30_000);
    const now = Date.now();
    const others = Number(process.env.REVIEW_OTHERS ?? 20_000);
    // Another gateway's payments, all due (its status API is down: each deferred a minute at a time).
    for (let i = 0; i < others; i += 1_000)
      await Promise.all(
        Array.from({ length: 1_000 }, (_, j) =>
          list.add(
            entry('newpay', { orderId: `N-${i + j}` }, { nextCheckAt: now - 10_000 + i + j }),
          ),
        ),
      );
    // The socket reconnects: the source sweeps its own (lailaolab) entries, 4 at a time.
    for (let i = 0; i < 8; i++)
      await list.add(entry('lailaolab', { reference: `L-${i}` }, { nextCheckAt: now + i }));
    const started = process.hrtime.bigint();
    const taken = await list.lease({
      owner: 'sweeper',
      now: now + 100,
      leaseMs: 60_000,
      limit: 4,
      provider: 'lailaolab',
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    reportCounts('redis awaited lease by provider', { otherDue: others, taken: taken.length, ms });
    expect(taken).toHaveLength(4);
    // Redis runs one script at a time: every webhook's claim waits behind this one. About 5 us per
    // other due entry (105 ms for 20,000, 190 ms for 60,000 here): O(due entries) per lease call,
    // and a sweep leases 4 at a time. A regression bound only.
    expect(ms).toBeLessThan(1_000);
  }, 120_000);

  it("an order number equal to another payment's reference, ':' and NUL in ids, 64 KB ids: each settles its own entry", async () => {
    const list = await open();
    const huge = randomBytes(32_768).toString('hex');
    const order = await list.add(entry('p', { orderId: 'x' }));
    const ref = await list.add(entry('p', { reference: 'x' }));
    const colon = await list.add(entry('p', { orderId: 'ref:x' }));
    const nul = await list.add(entry('p', { orderId: 'x\u0000ref:x' }));
    const big = await list.add(entry('p', { orderId: huge, reference: `${huge}r` }));
    expect(new Set([order.key, ref.key, colon.key, nul.key, big.key]).size).toBe(5);
    const by = (eventId: string) => ({ by: 'webhook' as const, at: Date.now(), eventId });
    const a = await list.settle({ provider: 'p', orderId: null, reference: 'x' }, by('e1'));
    expect(a?.key).toBe(ref.key);
    const b = await list.settle({ provider: 'p', orderId: 'ref:x', reference: null }, by('e2'));
    expect(b?.key).toBe(colon.key);
    const c = await list.settle({ provider: 'p', orderId: null, reference: `${huge}r` }, by('e3'));
    expect(c?.key).toBe(big.key);
    expect((await list.get(order.key))?.state).toBe('awaiting');
    expect((await list.get(nul.key))?.orderId).toBe('x\u0000ref:x');
    expect(await list.counts(Date.now())).toEqual({ awaiting: 2, overdue: 0, settled: 3 });
  });

  it('a settle racing a reschedule and an expire, 30 times: settled once, out of every awaiting index', async () => {
    // Two instances (two clients) on one list.
    const prefix = `${run}${++lists}:`;
    const [one, other] = [await open(1_000, prefix), await open(1_000, prefix)];
    for (let i = 0; i < 30; i++) await one.add(entry('p', { orderId: `R-${i}` }));
    const now = Date.now();
    const leased = await one.lease({ owner: 'a', now, leaseMs: 60_000, limit: 30 });
    expect(leased).toHaveLength(30);
    const by = (eventId: string) => ({ by: 'socket' as const, at: now, eventId });
    const results = await Promise.all(
      leased.map(async (e) => {
        const [settled] = await Promise.all([
          other.settle({ provider: 'p', orderId: e.orderId, reference: null }, by(e.key)),
          one.reschedule(e.key, 'a', { nextCheckAt: now + 1, checks: 1, lastResult: 'x' }),
          one.expire(e.key, now, 'pending'),
        ]);
        return settled !== null && (await one.get(e.key))?.state === 'settled';
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    for (const part of ['due', 'leased', 'until', 'overdue'] as const)
      expect([part, await admin.zcard(one.keys[part])]).toEqual([part, 0]);
    expect(await one.lease({ owner: 'b', now: now + 1e9, leaseMs: 1, limit: 100 })).toEqual([]);
  });
});
