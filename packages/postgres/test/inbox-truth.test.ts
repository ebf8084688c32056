import {
  createMemoryInbox,
  createPaymentHub,
  type IdempotencyStore,
  type Inbox,
  type InboxEntry,
  type PaymentHub,
  type PaymentProvider,
  type ReceiveResult,
} from '@payhook/core';
import type { TestPayload } from '@payhook/core/testing';
import { createPostgresInbox, createPostgresStore, type PostgresStore } from '../src';
import { useTestSchema } from './support/db';
import { deliver, provider, sleep } from './support/deliver';
import { twoEventGateway } from './support/gateways';

// Hostile review of issue 24 / the round-trip cuts: is the inbox entry the truth of a delivery on
// PostgreSQL (multi-event deliveries, a commit that fails after the in-transaction write, late
// listeners), and do attempt counts agree between the PostgreSQL and the memory inbox?

// A constraint checked only at COMMIT: a listener inserting the same id twice makes the event's
// COMMIT fail after everything else (the in-transaction inbox write included) ran.
const db = useTestSchema('review_truth', (pool, schema) =>
  pool.query(
    `CREATE TABLE "${schema}".deferred (id int, CONSTRAINT deferred_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`,
  ),
);

const base = provider;
const twoEvents = twoEventGateway;
const send = <C>(
  hub: PaymentHub<C>,
  payload: Partial<TestPayload>,
  via: PaymentProvider<TestPayload> = twoEvents,
): Promise<ReceiveResult> => deliver(hub, payload, via);

const pgHub = (inbox: Inbox, extra: Record<string, unknown> = {}, store?: PostgresStore) =>
  createPaymentHub({
    store: store ?? createPostgresStore(db),
    inbox,
    handlerTimeoutMs: 3_000,
    leaseMs: 10_000,
    ...extra,
  }) as unknown as PaymentHub;

const attempts = (entry: InboxEntry | undefined) =>
  entry?.events.map((e) => `${e.id.split(':').slice(2).join(':')}#${e.attempt}`);

describe('multi-event deliveries on PostgreSQL', () => {
  it('one event processed, one failing: the final entry is failed, has both events and the retry body', async () => {
    const inbox = createPostgresInbox(db);
    const hub = pgHub(inbox);
    hub.on('payment.completed', () => undefined);
    hub.on('payment.refunded', () => {
      throw new Error('refund ledger down');
    });
    const result = await send(hub, { txn: 'T-M1', order: 'O-M1', refundId: 'R1' });
    expect(result.outcome).toBe('failed');
    const entry = await inbox.get(result.inboxId!);
    expect(entry?.outcome).toBe('failed');
    expect(entry?.reply).toEqual(base.ack.retry);
    expect(entry?.events.map((e) => e.type)).toEqual(['payment.completed', 'payment.refunded']);
    expect(entry?.error?.code).toBe(result.error?.code);
  });

  it('both events processed: one entry, two events, processed, attempts 1', async () => {
    const inbox = createPostgresInbox(db);
    const hub = pgHub(inbox);
    hub.on('payment.completed', () => undefined);
    hub.on('payment.refunded', () => undefined);
    const result = await send(hub, { txn: 'T-M2', order: 'O-M2', refundId: 'R2' });
    expect(result.outcome).toBe('processed');
    const entry = await inbox.get(result.inboxId!);
    expect(entry?.outcome).toBe('processed');
    expect(entry?.events).toHaveLength(2);
    expect(attempts(entry)).toEqual(['paid#1', 'refund:R2#1']);
  });
});

describe('a COMMIT that fails after the in-transaction inbox write', () => {
  it('the entry says failed (not processed), the retry body, ERR_COMMIT_FAILED', async () => {
    const inbox = createPostgresInbox(db);
    const store = createPostgresStore(db);
    const hub = pgHub(inbox, {}, store);
    hub.on('payment.completed', async (_e, ctx) => {
      const { tx } = ctx as unknown as { tx: { query(t: string): Promise<unknown> } };
      await tx.query(`INSERT INTO "${db.schema}".deferred (id) VALUES (1)`);
      await tx.query(`INSERT INTO "${db.schema}".deferred (id) VALUES (1)`);
    });
    const result = await send(hub, { txn: 'T-CF', order: 'O-CF' }, base);
    expect(result.outcome).toBe('failed');
    expect(result.error?.code).toBe('ERR_COMMIT_FAILED');
    const entry = await inbox.get(result.inboxId!);
    expect(entry?.outcome).toBe('failed');
    expect(entry?.reply).toEqual(base.ack.retry);
    expect(entry?.error?.code).toBe('ERR_COMMIT_FAILED');
    expect(store.openClaims).toBe(0);
  });
});

/**
 * The same sequence on three hubs: per delivery, each event's attempt number. Delivery 1 fails
 * both events, delivery 2 processes both (two in-transaction writes of one entry on a
 * transactional store), delivery 3 is a duplicate, then a replay of delivery 1.
 */
async function attemptStory(hub: PaymentHub, inbox: Inbox, txn: string): Promise<unknown[]> {
  let fail = true;
  hub.on('payment.completed', () => {
    if (fail) throw new Error('first time fails');
  });
  hub.on('payment.refunded', () => {
    if (fail) throw new Error('first time fails');
  });
  const out: unknown[] = [];
  const payload = { txn, order: `O-${txn}`, refundId: 'R' };
  const first = await send(hub, payload);
  out.push([first.outcome, attempts(await inbox.get(first.inboxId!))]);
  fail = false;
  for (let i = 0; i < 2; i++) {
    const r = await send(hub, payload);
    out.push([r.outcome, attempts(await inbox.get(r.inboxId!))]);
  }
  const replayed = await hub.replay(twoEvents, first.inboxId!);
  out.push([replayed.outcome, attempts(await inbox.get(replayed.inboxId!))]);
  return out;
}

describe('attempt counting: PostgreSQL inbox vs memory inbox, same sequence', () => {
  const expected = [
    ['failed', ['paid#1', 'refund:R#1']],
    ['processed', ['paid#2', 'refund:R#2']],
    ['duplicate', ['paid#3', 'refund:R#3']],
    ['duplicate', ['paid#4', 'refund:R#4']],
  ];

  it('memory store + memory inbox (the reference)', async () => {
    const hub = createPaymentHub({ handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    expect(await attemptStory(hub, hub.inbox!, 'T-AM')).toEqual(expected);
  });

  it('PostgreSQL store + PostgreSQL inbox', async () => {
    const inbox = createPostgresInbox(db);
    expect(await attemptStory(pgHub(inbox), inbox, 'T-AP')).toEqual(expected);
  });

  it('PostgreSQL store + the default memory inbox', async () => {
    const inbox = createMemoryInbox();
    expect(await attemptStory(pgHub(inbox), inbox, 'T-APM')).toEqual(expected);
  });

  it('the same event id delivered N times (one event): attempts 1..N on both inboxes', async () => {
    const seq = async (hub: PaymentHub, inbox: Inbox, txn: string) => {
      let n = 0;
      hub.on('payment.completed', () => {
        if (++n < 3) throw new Error('not yet');
      });
      const got: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await send(hub, { txn, order: 'O' }, base);
        got.push(`${r.outcome}:${(await inbox.get(r.inboxId!))?.events[0]?.attempt}`);
      }
      return got;
    };
    const mem = createPaymentHub({ handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    const inbox = createPostgresInbox(db);
    const want = ['failed:1', 'failed:2', 'processed:3', 'duplicate:4', 'duplicate:5'];
    expect(await seq(mem, mem.inbox!, 'T-N1')).toEqual(want);
    expect(await seq(pgHub(inbox), inbox, 'T-N2')).toEqual(want);
  });

  it('an entry replaced by the same id keeps its attempts (direct record on both inboxes)', async () => {
    const rec = (id: string, eventIds: string[]) => ({
      id,
      receivedAt: new Date(),
      provider: 'test-gateway',
      transport: 'http' as const,
      headers: {},
      body: Buffer.from('{}'),
      outcome: 'processed' as const,
      reply: { status: 200, headers: {}, body: 'ok' },
      events: eventIds.map((e) => ({
        id: e,
        type: 'payment.completed' as const,
        orderId: null,
        transactionId: 't',
        amount: '1',
        currency: 'LAK',
      })),
      durationMs: 1,
    });
    const run = async (inbox: Inbox, p: string) => {
      const a = `${p}-a`;
      await inbox.record(rec(`${p}-1`, [a]));
      await inbox.record(rec(`${p}-2`, [a]));
      await inbox.record(rec(`${p}-2`, [a])); // replaced: still attempt 2
      await inbox.record(rec(`${p}-3`, [a, a])); // the same id twice in one entry
      const out = [];
      for (const id of [`${p}-1`, `${p}-2`, `${p}-3`])
        out.push((await inbox.get(id))?.events.map((e) => e.attempt));
      return out;
    };
    const memory = await run(createMemoryInbox(), 'mem');
    const pg = await run(createPostgresInbox(db), `pg-${Math.random().toString(36).slice(2)}`);
    expect(pg).toEqual(memory);
  });
});

describe('late listeners on PostgreSQL', () => {
  const timing = { handlerTimeoutMs: 300, leaseMs: 5_000, maxInFlight: 1 };
  const tightStore = () =>
    createPostgresStore({ ...db, statementTimeoutMs: 200, connectTimeoutMs: 200 });

  it.each(['succeeds', 'fails'])(
    'a listener that %s after the handler timeout: one failed entry, claim released, slot freed once',
    async (how) => {
      const inbox = createPostgresInbox(db);
      const store = tightStore();
      const hub = pgHub(inbox, timing, store);
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      hub.on('payment.completed', async () => {
        if (++calls > 1) return;
        await gate;
        if (how === 'fails') throw new Error('late failure');
      });
      const txn = `T-LATE-${how}`;
      const first = await send(hub, { txn, order: 'O' }, base);
      expect(first.outcome).toBe('failed');
      // The slot is still held by the running listener.
      const blocked = await send(hub, { txn: `${txn}-other`, order: 'O' }, base);
      expect(blocked.outcome).toBe('busy');
      release();
      for (let i = 0; i < 50 && store.openClaims > 0; i++) await sleep(20);
      expect(store.openClaims).toBe(0);
      const again = await send(hub, { txn, order: 'O' }, base);
      expect(again.outcome).toBe('processed');
      const other = await send(hub, { txn: `${txn}-other`, order: 'O' }, base);
      expect(other.outcome).toBe('processed');
      const e1 = await inbox.get(first.inboxId!);
      const e2 = await inbox.get(again.inboxId!);
      expect([e1?.outcome, e1?.events[0]?.attempt]).toEqual(['failed', 1]);
      expect([e2?.outcome, e2?.events[0]?.attempt]).toEqual(['processed', 2]);
      // Nothing else was written for this event id by the late finish.
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM "${db.schema}".inbox WHERE events @> $1::jsonb`,
        [JSON.stringify([{ id: `test-gateway:${txn}:paid` }])],
      );
      expect(rows[0].n).toBe(2);
      await store.close();
    },
  );
});

describe('store throws with maxInFlight: 1 (slots freed exactly once)', () => {
  function flaky(store: IdempotencyStore<unknown>, fail: Set<string>): IdempotencyStore<unknown> {
    const wrap =
      <K extends 'claim' | 'commit' | 'release'>(name: K) =>
      async (...args: unknown[]) => {
        if (fail.delete(name)) throw new Error(`${name} exploded`);
        return (store[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    return Object.assign(Object.create(store), {
      claim: wrap('claim'),
      commit: wrap('commit'),
      release: wrap('release'),
    });
  }

  it.each(['memory', 'postgres'])('on %s', async (kind) => {
    const fail = new Set<string>();
    const inner =
      kind === 'postgres'
        ? createPostgresStore(db)
        : createPaymentHub({ handlerTimeoutMs: 3_000, leaseMs: 10_000 }).store;
    const hub = createPaymentHub({
      store: flaky(inner as IdempotencyStore<unknown>, fail),
      handlerTimeoutMs: 3_000,
      leaseMs: 10_000,
      maxInFlight: 1,
      commitRetryMs: 1,
    }) as unknown as PaymentHub;
    let listenerFails = false;
    hub.on('payment.completed', () => {
      if (listenerFails) throw new Error('listener');
    });
    const outcomes: string[] = [];
    const go = async (txn: string) =>
      outcomes.push((await send(hub, { txn: `${kind}-${txn}`, order: 'O' }, base)).outcome);
    fail.add('claim');
    await go('A'); // claim throws
    await go('B'); // must not be busy
    fail.add('commit');
    await go('C'); // commit throws
    await go('D');
    listenerFails = true;
    fail.add('release');
    await go('E'); // listener fails, then release throws
    listenerFails = false;
    await go('F');
    expect(outcomes).toEqual([
      'failed',
      'processed',
      kind === 'postgres' ? 'failed' : 'processed',
      'processed',
      'failed',
      'processed',
    ]);
    if (kind === 'postgres') {
      // The claims whose release or commit threw in the wrapper still hold a connection: the
      // store's own bookkeeping says how many are left open.
      await (inner as PostgresStore).close();
    }
  });
});
