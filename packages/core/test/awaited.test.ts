import {
  createMemoryAwaitedList,
  createPaymentHub,
  type AwaitedPayment,
  type Delivery,
  type PaymentEvent,
  type PaymentHub,
  type PaymentProvider,
} from '@payhook/core';
import {
  createStatusTestGateway,
  createTestProvider,
  reportCounts,
  type StatusTestGateway,
  runAwaitedListConformance,
  signedDelivery,
  type TestPayload,
} from '@payhook/core/testing';
import { notAPaymentEvent } from '@payhook/core/plugin';

runAwaitedListConformance(
  { describe, it },
  { name: 'memory', create: (o) => createMemoryAwaitedList(o) },
);

type FakeGateway = StatusTestGateway;
const fakeGateway = (extra: Parameters<typeof createStatusTestGateway>[0] = {}): FakeGateway =>
  createStatusTestGateway(extra);

const webhook = (txn: string, order: string): Delivery => {
  const { body, headers } = signedDelivery({ txn, order, at: new Date().toISOString() });
  return { body: Buffer.from(body), headers, transport: 'http', receivedAt: new Date() };
};

/** A hub whose sweeper runs only when told (`sweepEveryMs: 0`), recording what it emits. */
function hubWith(g: FakeGateway, list = createMemoryAwaitedList()) {
  const hub = createPaymentHub({ awaited: { list, sweepEveryMs: 0 } });
  const paid: PaymentEvent[] = [];
  const overdue: AwaitedPayment[] = [];
  const settled: AwaitedPayment[] = [];
  hub.on('payment.completed', (e) => void paid.push(e));
  hub.on('awaited.overdue', (p) => void overdue.push(p));
  hub.on('awaited.settled', (p) => void settled.push(p));
  return { hub, paid, overdue, settled };
}

const soon = (ms = 60_000) => Date.now() + ms;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sweeps until nothing is due or `rounds` pass, waiting past each backoff. */
async function sweepRounds(hub: PaymentHub, rounds: number, gapMs = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await hub.sweep();
    await wait(gapMs);
  }
}

describe('awaited payments', () => {
  it('a payment whose webhook came is settled by it: the sweeper asks nothing', async () => {
    const g = fakeGateway();
    const { hub, paid, settled } = hubWith(g);
    await hub.expectPayment(g.provider, { orderId: 'O-1', until: soon() });
    const r = await hub.receive(g.provider, webhook('T-1', 'O-1'));
    await sweepRounds(hub, 3);
    const entry = await hub.awaited.get('test-gateway:order:O-1');
    expect([r.outcome, paid.length, entry?.state, entry?.settledBy, g.asked.length]).toEqual([
      'processed',
      1,
      'settled',
      'webhook',
      0,
    ]);
    expect(settled.map((p) => p.eventId)).toEqual(['test-gateway:T-1:paid']);
  });

  it('a payment whose webhook was lost is recovered by a status query by order number, once', async () => {
    const g = fakeGateway();
    const { hub, paid, settled } = hubWith(g);
    await hub.expectPayment(g.provider, { orderId: 'O-2', until: soon() });
    g.paid('T-2', 'O-2');
    await sweepRounds(hub, 5);
    const entry = await hub.awaited.get('test-gateway:order:O-2');
    expect([paid.length, entry?.state, entry?.settledBy, g.asked]).toEqual([
      1,
      'settled',
      'status-query',
      ['O-2'],
    ]);
    expect(settled.length).toBe(1);
    // The gateway's webhook arriving late is a duplicate, not a second event.
    const late = await hub.receive(g.provider, webhook('T-2', 'O-2'));
    expect([late.outcome, paid.length]).toEqual(['duplicate', 1]);
  });

  it('asks by the gateway reference when the merchant has it', async () => {
    const g = fakeGateway();
    const { hub, paid } = hubWith(g);
    await hub.expectPayment(g.provider, { orderId: 'O-3', reference: 'T-3', until: soon() });
    g.paid('T-3', 'O-3');
    await sweepRounds(hub, 3);
    expect([paid.length, g.asked]).toEqual([1, ['T-3']]);
  });

  it('a webhook, a replayed webhook and sweeps racing for one payment: one event', async () => {
    const g = fakeGateway();
    const { hub, paid } = hubWith(g);
    const n = 20;
    for (let i = 0; i < n; i++) {
      await hub.expectPayment(g.provider, { orderId: `R-${i}`, until: soon() });
      g.paid(`TR-${i}`, `R-${i}`);
    }
    await Promise.all([
      ...Array.from({ length: n }, (_, i) => hub.receive(g.provider, webhook(`TR-${i}`, `R-${i}`))),
      ...Array.from({ length: n }, (_, i) => hub.receive(g.provider, webhook(`TR-${i}`, `R-${i}`))),
      sweepRounds(hub, 4, 1),
    ]);
    await sweepRounds(hub, 3);
    const counts = new Map<string, number>();
    for (const e of paid) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    reportCounts('awaited race', {
      payments: n,
      events: paid.length,
      doubled: [...counts.values()].filter((c) => c > 1).length,
    });
    expect([paid.length, [...counts.values()].every((c) => c === 1)]).toEqual([n, true]);
    expect((await hub.awaited.list({ state: 'settled' })).length).toBe(n);
  });

  it("a record the gateway knows but that is no payment keeps the plugin's reason as lastResult", async () => {
    const g = fakeGateway();
    // A status answer that is no payment event (Lailaolab's DISPUTED record): not "unknown".
    const provider: PaymentProvider<TestPayload> = {
      ...g.provider,
      fetchStatus: async () =>
        notAPaymentEvent('status DISPUTED: its money effect is undocumented'),
    };
    const { hub } = hubWith(g);
    await hub.expectPayment(provider, { orderId: 'O-D', until: soon() });
    await wait(5); // past its first check (1 ms, jittered)
    await sweepRounds(hub, 2);
    const entry = await hub.awaited.get('test-gateway:order:O-D');
    expect([entry?.state, entry?.lastResult]).toEqual([
      'awaiting',
      'status DISPUTED: its money effect is undocumented',
    ]);
  });

  it('no final answer by `until`: one overdue notice, no payment event, asked once more at `until`', async () => {
    const g = fakeGateway({ sweep: { firstCheckMs: 1, maxIntervalMs: 1_000_000 } });
    const { hub, paid, overdue } = hubWith(g);
    await hub.expectPayment(g.provider, { orderId: 'O-4', until: soon(300) });
    await sweepRounds(hub, 3);
    const before = g.asked.length;
    await wait(320);
    await sweepRounds(hub, 3);
    expect([paid.length, overdue.length, overdue[0]?.state, overdue[0]?.lastResult]).toEqual([
      0,
      1,
      'overdue',
      'unknown to the gateway',
    ]);
    expect(g.asked.length).toBe(before + 1);
    // Paid after all, and its webhook comes: settled then, with its event.
    const late = await hub.receive(g.provider, webhook('T-4', 'O-4'));
    expect([
      late.outcome,
      paid.length,
      (await hub.awaited.get('test-gateway:order:O-4'))?.state,
    ]).toEqual(['processed', 1, 'settled']);
  });

  it('status API down: backoff respected, budget respected, nothing lost once it answers', async () => {
    const g = fakeGateway({
      sweep: { firstCheckMs: 40, maxIntervalMs: 160, queriesPerMinute: 25 },
    });
    const { hub, paid } = hubWith(g);
    const n = 10;
    for (let i = 0; i < n; i++) {
      await hub.expectPayment(g.provider, { orderId: `D-${i}`, until: soon() });
      g.paid(`TD-${i}`, `D-${i}`);
    }
    g.mode = 'down';
    await wait(45);
    const first = await hub.sweep();
    // The first failures stop this sweep's queries to the gateway: the first few (concurrency 4)
    // asked, the rest deferred.
    expect([first.checked <= 4, first.errors, first.checked + first.deferred]).toEqual([
      true,
      first.checked,
      n,
    ]);
    await sweepRounds(hub, 6, 5);
    const failedAt = g.asked.length;
    g.mode = 'up';
    for (let i = 0; i < 40 && paid.length < n; i++) await sweepRounds(hub, 1, 40);
    reportCounts('awaited status API down', {
      asked: g.asked.length,
      askedWhileDown: failedAt,
      recovered: paid.length,
    });
    expect(paid.length).toBe(n);
    expect(g.asked.length).toBeLessThanOrEqual(25);
    // Backoff: no payment is asked twice within half its first interval (20 ms), however the
    // sweeps fall; a load that slows them only widens the gaps.
    const gaps = [...g.askedAt.values()].flatMap((t) => t.slice(1).map((at, i) => at - t[i]!));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
  });

  it('the budget caps status queries per gateway per minute', async () => {
    const g = fakeGateway({ sweep: { firstCheckMs: 1, maxIntervalMs: 2, queriesPerMinute: 5 } });
    const { hub } = hubWith(g);
    for (let i = 0; i < 12; i++)
      await hub.expectPayment(g.provider, { orderId: `B-${i}`, until: soon() });
    await sweepRounds(hub, 10, 5);
    expect(g.asked.length).toBe(5);
  });

  it('a status answer older than maxAgeMs makes the payment overdue, unless allowed for it', async () => {
    const g = fakeGateway({ maxAgeMs: 60_000 });
    const { hub, paid, overdue } = hubWith(g);
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await hub.expectPayment(g.provider, { orderId: 'S-1', until: soon() });
    await hub.expectPayment(g.provider, {
      orderId: 'S-2',
      until: soon(),
      allowOlderThanMaxAge: true,
    });
    g.paid('TS-1', 'S-1', old);
    g.paid('TS-2', 'S-2', old);
    await sweepRounds(hub, 3);
    expect(paid.map((e) => e.orderId)).toEqual(['S-2']);
    expect(overdue.map((p) => [p.orderId, p.lastResult?.startsWith('stale')])).toEqual([
      ['S-1', true],
    ]);
  });

  it('two hubs (two instances) sweeping one list: every payment asked about once, emitted once', async () => {
    const g = fakeGateway({
      sweep: { firstCheckMs: 1, maxIntervalMs: 2, queriesPerMinute: 1_000 },
    });
    const list = createMemoryAwaitedList();
    const a = hubWith(g, list);
    const b = hubWith(g, list);
    const n = 50;
    for (let i = 0; i < n; i++) {
      await a.hub.expectPayment(g.provider, { orderId: `M-${i}`, until: soon() });
      g.paid(`TM-${i}`, `M-${i}`);
    }
    // b must know the gateway: mounted there too.
    await b.hub.expectPayment(g.provider, { orderId: 'M-0', until: soon() });
    await wait(5);
    await Promise.all([a.hub.sweep(), b.hub.sweep(), a.hub.sweep(), b.hub.sweep()]);
    await Promise.all([sweepRounds(a.hub, 3), sweepRounds(b.hub, 3)]);
    const asked = new Map<string, number>();
    for (const k of g.asked) asked.set(k, (asked.get(k) ?? 0) + 1);
    const doubled = [...asked.values()].filter((c) => c > 1).length;
    reportCounts('awaited two sweepers', {
      payments: n,
      asked: g.asked.length,
      doubled,
      events: a.paid.length + b.paid.length,
    });
    expect([a.paid.length + b.paid.length, doubled, g.asked.length]).toEqual([n, 0, n]);
  });

  it("sweep({ provider, all }) asks about each of that gateway's awaited payments once, due or not", async () => {
    const g = fakeGateway({ sweep: { firstCheckMs: 3_600_000, maxIntervalMs: 3_600_000 } });
    const { hub, paid } = hubWith(g);
    for (let i = 0; i < 5; i++)
      await hub.expectPayment(g.provider, { orderId: `ALL-${i}`, until: soon() });
    g.paid('T-ALL-1', 'ALL-1');
    g.paid('T-ALL-3', 'ALL-3');
    expect((await hub.sweep()).checked).toBe(0); // none due for an hour
    const first = await hub.sweep({ provider: 'test-gateway', all: true });
    expect([first.checked, first.recovered, first.waiting, paid.length]).toEqual([5, 2, 3, 2]);
    expect([...g.asked].sort()).toEqual(['ALL-0', 'ALL-1', 'ALL-2', 'ALL-3', 'ALL-4']);
    const second = await hub.sweep({ provider: 'test-gateway', all: true });
    expect([second.checked, g.asked.length]).toEqual([3, 8]);
    expect((await hub.sweep({ provider: 'another-gateway', all: true })).leased).toBe(0);
  });

  it("a listener failing through the gateway's whole retry schedule: the sweeper processes it once it can", async () => {
    const g = fakeGateway();
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
    let locked = true;
    const applied: string[] = [];
    hub.on('payment.completed', (e) => {
      // The merchant's orders table is locked (a long migration): the write fails.
      if (locked) throw new Error('lock timeout on orders');
      applied.push(e.id);
    });
    const n = 10;
    for (let i = 0; i < n; i++) {
      await hub.expectPayment(g.provider, { orderId: `L-${i}`, until: soon() });
      g.paid(`TL-${i}`, `L-${i}`);
    }
    // NewPay's four deliveries (the first and three retries) each fail, then NewPay stops.
    const answers: string[] = [];
    for (let attempt = 0; attempt < 4; attempt++)
      for (let i = 0; i < n; i++)
        answers.push((await hub.receive(g.provider, webhook(`TL-${i}`, `L-${i}`))).outcome);
    expect([new Set(answers), applied.length]).toEqual([new Set(['failed']), 0]);
    locked = false;
    await sweepRounds(hub, 5);
    reportCounts('awaited slow listener', {
      payments: n,
      webhookAnswers: answers.length,
      applied: applied.length,
    });
    expect([applied.length, new Set(applied).size]).toEqual([n, n]);
  });

  it('a sweeper that dies mid-sweep (its status queries never return) holds its entries only until its lease lapses', async () => {
    const g = fakeGateway();
    const list = createMemoryAwaitedList();
    const timing = { handlerTimeoutMs: 100, leaseMs: 400 };
    // The dying instance: its gateway's status API never answers, as a frozen or killed process.
    const hung: PaymentProvider<TestPayload> = {
      ...g.provider,
      fetchStatus: () => new Promise(() => undefined),
    };
    const dying = createPaymentHub({ ...timing, awaited: { list, sweepEveryMs: 0, leaseMs: 300 } });
    for (let i = 0; i < 6; i++) {
      await dying.expectPayment(hung, { orderId: `DIE-${i}`, until: soon() });
      g.paid(`T-DIE-${i}`, `DIE-${i}`);
    }
    await wait(5);
    const hungSweep = dying.sweep(); // leases the first entries (concurrency 4), hangs on their queries
    await wait(20);
    const survivor = createPaymentHub({
      ...timing,
      awaited: { list, sweepEveryMs: 0, leaseMs: 300 },
    });
    const paid: string[] = [];
    survivor.on('payment.completed', (e) => void paid.push(String(e.orderId)));
    await survivor.expectPayment(g.provider, { orderId: 'DIE-0', until: soon() }); // mounts it here
    const before = await survivor.sweep();
    await wait(320);
    const after = await survivor.sweep();
    reportCounts('awaited dies mid-sweep', {
      heldByTheDead: 4,
      before: before.recovered,
      after: after.recovered,
    });
    expect([before.recovered, after.recovered, paid.sort()]).toEqual([
      2,
      4,
      ['DIE-0', 'DIE-1', 'DIE-2', 'DIE-3', 'DIE-4', 'DIE-5'],
    ]);
    // The hung sweep itself ends within its lease (not forever): its queries count as errors.
    const hungReport = await hungSweep;
    expect([hungReport.checked, hungReport.errors, hungReport.recovered]).toEqual([4, 4, 0]);
  });

  it('a list that stops answering stops no sweep for good: each call is bounded by handlerTimeoutMs', async () => {
    const list = createMemoryAwaitedList();
    const hangs = { ...list, lease: () => new Promise<never>(() => undefined) };
    const hub = createPaymentHub({
      handlerTimeoutMs: 100,
      awaited: { list: hangs, sweepEveryMs: 0 },
    });
    const errors: string[] = [];
    hub.on('error', (e) => void errors.push(e.message));
    const started = Date.now();
    const report = await hub.sweep();
    await hub.close();
    expect([report.errors, Date.now() - started < 1_000]).toEqual([1, true]);
    expect(errors[0]).toMatch(/did not answer within 100 ms/);
  });

  it('refuses what cannot be awaited, at the call', async () => {
    const g = fakeGateway();
    const { hub } = hubWith(g);
    const plain = createTestProvider();
    await expect(hub.expectPayment(plain, { orderId: 'X', until: soon() })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
    });
    const byRefOnly: PaymentProvider<TestPayload> = { ...plain, fetchStatus: async () => null };
    await expect(
      hub.expectPayment(byRefOnly, { orderId: 'X', until: soon() }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG',
    });
    await expect(
      hub.expectPayment(g.provider, { orderId: 'X', until: Date.now() - 1 }),
    ).rejects.toThrow(TypeError);
    await expect(hub.expectPayment(g.provider, { until: soon() })).rejects.toThrow(TypeError);
    await expect(
      hub.expectPayment(g.provider, { orderId: 'X', until: soon(40 * 86_400_000) }),
    ).rejects.toThrow(/maxAwaitMs/);
    expect(() => createPaymentHub({ awaited: { sweepEveryMs: -1 } })).toThrow(
      /awaited.sweepEveryMs/,
    );
    expect((await hub.awaited.list()).length).toBe(0);
  });

  it('reconcile by the merchant order number', async () => {
    const g = fakeGateway();
    const { hub, paid } = hubWith(g);
    g.paid('T-9', 'O-9');
    const r = await hub.reconcile(g.provider, 'O-9', { by: 'orderId' });
    expect([r.outcome, paid[0]?.transactionId, g.asked]).toEqual(['processed', 'T-9', ['O-9']]);
    await expect(hub.reconcile(createTestProvider(), 'O-9', { by: 'orderId' })).rejects.toThrow(
      /fetchStatus/,
    );
  });

  it('the timer sweeps on its own, and close() stops it', async () => {
    const g = fakeGateway();
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 20 } });
    const paid: string[] = [];
    hub.on('payment.completed', (e) => void paid.push(e.id));
    await hub.expectPayment(g.provider, { orderId: 'TM-1', until: soon() });
    g.paid('T-TM', 'TM-1');
    for (let i = 0; i < 50 && paid.length === 0; i++) await wait(20);
    await hub.close();
    await hub.expectPayment(g.provider, { orderId: 'TM-2', until: soon() });
    g.paid('T-TM2', 'TM-2');
    const asked = g.asked.length;
    await wait(100);
    expect([paid, g.asked.length]).toEqual([['test-gateway:T-TM:paid'], asked]);
  });
});
