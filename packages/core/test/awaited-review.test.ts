/**
 * Hostile review of awaited payments (core): the notice when the sweeper's own settle is the one
 * that settles, hub.close() with a sweep queued behind the running one, and an entry whose
 * provider is mounted nowhere.
 */
import {
  createMemoryAwaitedList,
  createPaymentHub,
  type AwaitedList,
  type AwaitedPayment,
  type PaymentProvider,
} from '@payhook/core';
import { defineProvider } from '@payhook/core/plugin';
import { createTestProvider, signedDelivery, type TestPayload } from '@payhook/core/testing';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const soon = (ms = 60_000) => Date.now() + ms;

/** A gateway whose status API knows the payments `paid` names (by order number or reference). */
function gateway(options: { id?: string; delayMs?: number; orders?: (o: string) => boolean } = {}) {
  const paid = new Map<string, string>();
  const asked: string[] = [];
  const inFlight = { now: 0, max: 0 };
  const base = createTestProvider();
  const provider: PaymentProvider<TestPayload> = defineProvider<TestPayload>({
    id: options.id ?? 'test-gateway',
    schema: base.schema,
    verify: base.verify,
    normalize: base.normalize,
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
    statusLookups: ['reference', 'orderId'],
    sweep: { firstCheckMs: 1, maxIntervalMs: 4, queriesPerMinute: 1_000 },
    async fetchStatus(key, lookup) {
      if (lookup?.by === 'orderId' && options.orders && !options.orders(key))
        throw new TypeError(`this mount does not ask about order ${key}`);
      asked.push(key);
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      try {
        if (options.delayMs) await wait(options.delayMs);
      } finally {
        inFlight.now--;
      }
      const txn = paid.get(key);
      if (txn === undefined) return null;
      return [
        {
          id: `${txn}:paid`,
          type: 'payment.completed' as const,
          orderId: key,
          transactionId: txn,
          amount: '500.10',
          currency: 'LAK',
          occurredAt: new Date().toISOString(),
        },
      ];
    },
  });
  return { provider, paid, asked, inFlight };
}

/** The memory list, its calls counted, and `settle` failing its first `failures` calls. */
function spiedList(failures = 0) {
  const list = createMemoryAwaitedList();
  const calls: string[] = [];
  let failed = 0;
  const spied: AwaitedList = {
    ...list,
    add: (e) => (calls.push('add'), list.add(e)),
    settle: async (m, s) => {
      calls.push('settle');
      if (failed < failures) {
        failed++;
        throw new Error('connection reset');
      }
      return list.settle(m, s);
    },
    lease: (l) => (calls.push('lease'), list.lease(l)),
    reschedule: (k, o, n) => (calls.push('reschedule'), list.reschedule(k, o, n)),
    expire: (k, a, r) => (calls.push('expire'), list.expire(k, a, r)),
    purge: (b) => (calls.push('purge'), list.purge(b)),
  };
  return { list: spied, calls };
}

describe('awaited payments: review', () => {
  it("the sweeper's own settle (the pipeline's list write failed) sends the awaited.settled notice", async () => {
    const g = gateway();
    const { list } = spiedList(1);
    const hub = createPaymentHub({ awaited: { list, sweepEveryMs: 0 } });
    hub.on('error', () => undefined);
    const settled: AwaitedPayment[] = [];
    const paid: string[] = [];
    hub.on('awaited.settled', (p) => void settled.push(p));
    hub.on('payment.completed', (e) => void paid.push(e.id));
    await hub.expectPayment(g.provider, { orderId: 'N-1', until: soon() });
    g.paid.set('N-1', 'TN-1');
    await wait(5);
    const report = await hub.sweep();
    const entry = await hub.awaited.get('test-gateway:order:N-1');
    expect([report.recovered, paid.length, entry?.state]).toEqual([1, 1, 'settled']);
    // The payment is settled, by this sweep: the notice (and the inspector's metrics) must say so.
    expect(settled.map((p) => [p.key, p.settledBy])).toEqual([
      ['test-gateway:order:N-1', 'status-query'],
    ]);
  });

  it('hub.close() during a sweep: a sweep({ all }) queued behind it touches nothing after close() resolved', async () => {
    const g = gateway({ delayMs: 60 });
    const { list, calls } = spiedList();
    const hub = createPaymentHub({ awaited: { list, sweepEveryMs: 0 } });
    for (const id of ['C-1', 'C-2'])
      await hub.expectPayment(g.provider, { orderId: id, until: soon() });
    await wait(5);
    const running = hub.sweep();
    await wait(10); // its status queries are in flight
    const queued = hub.sweep({ all: true });
    await hub.close();
    const atClose = calls.length;
    const asked = g.asked.length;
    await Promise.all([running, queued]);
    await wait(20);
    expect([calls.slice(atClose), g.asked.length]).toEqual([[], asked]);
  });

  it('sweeps asked for with options run one at a time (a call with options runs after the one running)', async () => {
    const g = gateway({ delayMs: 20 });
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0, concurrency: 1 } });
    for (let i = 0; i < 4; i++)
      await hub.expectPayment(g.provider, { orderId: `S-${i}`, until: soon() });
    await wait(5);
    const running = hub.sweep();
    await wait(5);
    await Promise.all([
      running,
      hub.sweep({ all: true }),
      hub.sweep({ provider: 'test-gateway', all: true }),
    ]);
    // concurrency 1: one sweep at a time never has two status queries in flight.
    expect(g.inFlight.max).toBe(1);
    await hub.close();
  });

  it("a webhook's answer never waits on an awaited list that does not answer (the gateway's timeout is around it)", async () => {
    const g = gateway();
    const list = createMemoryAwaitedList();
    let hang = false;
    const hanging: AwaitedList = {
      ...list,
      settle: (m, s) => (hang ? new Promise(() => undefined) : list.settle(m, s)),
    };
    const hub = createPaymentHub({
      handlerTimeoutMs: 200,
      awaited: { list: hanging, sweepEveryMs: 0 },
    });
    const paid: string[] = [];
    hub.on('payment.completed', (e) => void paid.push(e.id));
    await hub.expectPayment(g.provider, { orderId: 'H-1', until: soon() });
    hang = true;
    const { body, headers } = signedDelivery({
      txn: 'TH-1',
      order: 'H-1',
      at: new Date().toISOString(),
    });
    const started = Date.now();
    const answer = await Promise.race([
      hub.receive(g.provider, {
        body: Buffer.from(body),
        headers,
        transport: 'http',
        receivedAt: new Date(),
      }),
      new Promise<string>((r) => setTimeout(() => r('no answer after 2 s'), 2_000).unref()),
    ]);
    expect([typeof answer === 'string' ? answer : answer.outcome, paid.length]).toEqual([
      'processed',
      1,
    ]);
    expect(Date.now() - started).toBeLessThan(1_500);
    await hub.close();
  });

  it('two instances sweeping one list at `until`: one overdue notice per payment, and sweep({ all }) asks each once', async () => {
    const g = gateway({ delayMs: 2 });
    const list = createMemoryAwaitedList();
    const hubs = [0, 1].map(() => createPaymentHub({ awaited: { list, sweepEveryMs: 0 } }));
    const overdue: string[] = [];
    for (const hub of hubs) hub.on('awaited.overdue', (p) => void overdue.push(p.key));
    for (let i = 0; i < 20; i++)
      await hubs[i % 2]!.expectPayment(g.provider, { orderId: `U-${i}`, until: soon(150) });
    // The shortest backoff (1-4 ms): one sweep({ all }) still asks each payment once.
    const all = await hubs[0]!.sweep({ all: true });
    expect([all.checked, new Set(g.asked).size, g.asked.length]).toEqual([20, 20, 20]);
    await wait(170);
    await Promise.all([...hubs.map((h) => h.sweep()), ...hubs.map((h) => h.sweep({ all: true }))]);
    expect([overdue.length, new Set(overdue).size]).toEqual([20, 20]);
    expect(await list.counts(Date.now())).toEqual({ awaiting: 0, overdue: 20, settled: 0 });
    await Promise.all(hubs.map((h) => h.close()));
  });

  it('bad input to expectPayment and reconcile: a clear error, nothing awaited, nothing asked', async () => {
    const g = gateway();
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
    const bad: Array<[unknown, RegExp]> = [
      [{ orderId: 'x'.repeat(129), until: soon() }, /orderId/],
      [{ orderId: 'has space', until: soon() }, /orderId/],
      [{ orderId: 'nul\u0000', until: soon() }, /orderId/],
      [{ orderId: '', until: soon() }, /orderId/],
      [{ orderId: 7, until: soon() }, /orderId/],
      [{ reference: 'ok', orderId: null, until: soon() }, /orderId/],
      [{ orderId: 'ok', until: new Date(Number.NaN) }, /until/],
      [{ orderId: 'ok', until: Number.POSITIVE_INFINITY }, /until/],
      [{ orderId: 'ok', until: Number.MAX_VALUE }, /maxAwaitMs/],
      [{ orderId: 'ok', until: String(soon()) }, /until/],
      [{ orderId: 'ok' }, /until/],
      [null, /orderId and\/or reference/],
    ];
    for (const [expected, message] of bad)
      await expect(hub.expectPayment(g.provider, expected as never)).rejects.toThrow(message);
    expect(await hub.awaited.list()).toEqual([]);
    for (const by of ['orderid', 'constructor', '__proto__', 42])
      await expect(hub.reconcile(g.provider, 'O-1', { by: by as never })).rejects.toMatchObject({
        code: 'ERR_CONFIG',
      });
    expect([g.asked, (await hub.sweep()).leased]).toEqual([[], 0]);
  });

  it('refuses at construction what would break the sweeper later: timers past 2^31-1 ms, a list without get/purge, a null schedule', () => {
    // Node runs a timer longer than 2^31-1 ms after 1 ms: a sweep every millisecond, and every
    // status query abandoned at once by its lease bound (nothing recovered, all overdue).
    expect(() => createPaymentHub({ awaited: { sweepEveryMs: 2 ** 31 } })).toThrow(
      /awaited.sweepEveryMs/,
    );
    expect(() => createPaymentHub({ awaited: { leaseMs: 30 * 86_400_000 } })).toThrow(
      /awaited.leaseMs/,
    );
    expect(() =>
      createPaymentHub({ awaited: { sweepEveryMs: 2 ** 31 - 1, leaseMs: 2 ** 31 - 1 } }),
    ).not.toThrow();
    // The sweeper purges every sweep, and the Lailaolab source reads entries with get().
    const { purge: _purge, ...noPurge } = createMemoryAwaitedList();
    expect(() => createPaymentHub({ awaited: { list: noPurge as AwaitedList } })).toThrow(
      /awaited.list.*purge/,
    );
    const { get: _get, ...noGet } = createMemoryAwaitedList();
    expect(() => createPaymentHub({ awaited: { list: noGet as AwaitedList } })).toThrow(
      /awaited.list.*get/,
    );
    expect(() => createPaymentHub({ awaited: { schedule: { newpay: null as never } } })).toThrow(
      /awaited.schedule.newpay/,
    );
  });

  // The sweeper leaves an entry of a provider it has not mounted for "another instance"; when no
  // instance mounts it (a gateway removed or renamed in a deploy, a Redis/PostgreSQL list
  // outliving it), it stayed `awaiting` past its `until` forever with no awaited.overdue notice.
  // Now it ends overdue 30 minutes after its until (failed before the fix in sweep.ts).
  it('an entry whose provider no instance mounts still ends overdue (once) some time after its until', async () => {
    const list = createMemoryAwaitedList();
    const gone = gateway({ id: 'removed-gateway' });
    const old = createPaymentHub({ awaited: { list, sweepEveryMs: 0 } });
    await old.expectPayment(gone.provider, { orderId: 'G-1', until: soon(50) });
    await old.close(); // the instance that mounted it is gone (a deploy removed the gateway)
    const g = gateway();
    const hub = createPaymentHub({ awaited: { list, sweepEveryMs: 0, leaseMs: 10_000 } });
    const overdue: AwaitedPayment[] = [];
    hub.on('awaited.overdue', (p) => void overdue.push(p));
    await hub.expectPayment(g.provider, { orderId: 'X-1', until: soon() }); // mounts its own
    await wait(80);
    // Far past `until` (the sweeper's clock jumps a day ahead): still nothing ends it.
    const realNow = Date.now;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 86_400_000);
    try {
      for (let i = 0; i < 3; i++) await hub.sweep({ all: true });
    } finally {
      jest.restoreAllMocks();
    }
    const entry = await list.get('removed-gateway:order:G-1');
    // (X-1, this instance's own, is past its until too on that clock: overdue as well.)
    expect([entry?.state, overdue.filter((p) => p.provider === 'removed-gateway').length]).toEqual([
      'overdue',
      1,
    ]);
    expect(entry?.lastResult).toBe('no instance mounts removed-gateway');
  });
});
