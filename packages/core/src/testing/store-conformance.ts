import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Claim, ClaimOptions, IdempotencyStore } from '../store';

/** What a store's claims hand the listeners: `{ tx }` for PostgreSQL, undefined for most. */
export type StoreClaimContext<S> = S extends IdempotencyStore<infer C> ? C : never;

/** A claim the kit holds: its token, its context, when it was asked for and for how long. */
export interface HeldClaim<C = unknown> {
  token: string;
  context?: C;
  /** Date.now() just before the claim was asked for. */
  at: number;
  leaseMs: number;
}

/**
 * `describe`/`it` of the host framework. Typed loosely enough for jest, vitest, mocha and
 * node:test alike (node:test's return a promise, and its `it` wants a function returning a promise
 * or nothing): the kit hands `describe` a plain function and `it` an async one.
 */
export interface StoreConformanceHarness {
  describe: (name: string, fn: () => void) => unknown;
  it: (name: string, fn: () => Promise<void>) => unknown;
}

/** For a store whose claim's context carries a transaction (`transactional: true`). */
export interface TransactionalFixtures<C> {
  /** Writes a row named `key` through the claim's context (e.g. `context.tx.query(INSERT ...)`). */
  write(context: C, key: string): Promise<void>;
  /** Whether the row `key` is committed, read from outside the claim (another connection). */
  written(key: string): Promise<boolean>;
  /** Makes the claim's coming commit fail (e.g. a failed statement aborts the transaction). */
  breakCommit(context: C): Promise<void>;
}

/** Optional methods a store leaves out on purpose: their tests are not registered. */
export type OptionalStoreMethod = 'renew' | 'markDone' | 'close';

export interface StoreConformanceFixtures<S extends IdempotencyStore<unknown>> {
  /** Shown in the test titles. */
  name?: string;
  /**
   * A fresh store, ready to use; called once per test. Stores it makes may share one backend (the
   * kit's keys are its own, random per run), but give no floors (minimum lease or retention): the
   * kit's timing tests ask for leases and retentions of a few hundred milliseconds.
   */
  create(): S | Promise<S>;
  /** Called after every test with the store `create` made, even one the kit closed (default close()). */
  destroy?(store: S): void | Promise<void>;
  /**
   * Optional methods the store does not have on purpose. Any other one missing fails its test, so
   * a store cannot pass by forgetting one.
   */
  without?: readonly OptionalStoreMethod[];
  /**
   * For a store whose claim lasts as long as something it holds (PostgreSQL: the transaction on
   * its connection) rather than `leaseMs`: takes the claim away as a crash would (terminates the
   * connection) and resolves once another caller can take the key. Without it, leases are timed:
   * the kit waits for them to lapse.
   */
  loseClaim?(store: S, key: string, claim: HeldClaim<StoreClaimContext<S>>): Promise<void>;
  /** Required when the store is `transactional`, refused otherwise. */
  transactional?: TransactionalFixtures<StoreClaimContext<S>>;
  /**
   * Durations of the timing tests, real time (defaults: lease 150 ms, retention 300 ms, and 5,000
   * ms for anything the kit waits for). Longer is slower, never flakier.
   */
  timing?: { leaseMs?: number; ttlMs?: number; boundMs?: number };
  /** Callers racing for one key, and keys claimed side by side (defaults 16 and 32). */
  parallel?: { callers?: number; keys?: number };
}

type AnyStore = IdempotencyStore<unknown>;
type Verdict = 'claimed' | 'busy' | 'done';

/** What every test of the kit shares. */
interface Suite {
  h: StoreConformanceHarness;
  f: StoreConformanceFixtures<AnyStore>;
  leaseMs: number;
  ttlMs: number;
  boundMs: number;
  /** A key of this run only: `payhook-conformance:<run>:<n>:<label>`. */
  key(label: string): string;
  /** A fresh store for one test, destroyed after it whatever happens. */
  withStore(fn: (store: AnyStore) => Promise<void>): Promise<void>;
  has(method: OptionalStoreMethod): boolean;
}

/**
 * The store's twin of runProviderConformance: the IdempotencyStore contract every store (memory,
 * Redis, PostgreSQL, yours) must keep for the hub to process each event once. It registers tests
 * with the host framework's `describe`/`it` (pass `harness` for node:test) and drives the store
 * through its own methods only, in real time.
 */
export function runStoreConformance<S extends IdempotencyStore<unknown>>(
  fixtures: StoreConformanceFixtures<S>,
  harness?: StoreConformanceHarness,
): void {
  const h = harness ?? (globalThis as unknown as StoreConformanceHarness);
  if (typeof h.describe !== 'function' || typeof h.it !== 'function') {
    throw new Error(
      'runStoreConformance: no describe/it found; pass { describe, it } from your test framework',
    );
  }
  if (typeof fixtures.create !== 'function')
    throw new Error('runStoreConformance: give `create`, which makes a fresh store');
  const suite = createSuite(h, fixtures as unknown as StoreConformanceFixtures<AnyStore>);
  h.describe(`payhook store conformance${fixtures.name ? `: ${fixtures.name}` : ''}`, () => {
    declarationTests(suite);
    claimTests(suite);
    tokenTests(suite);
    if (suite.has('renew')) renewTests(suite);
    leaseTests(suite);
    retentionTests(suite);
    joinTests(suite);
    if (fixtures.transactional) transactionTests(suite);
    raceTests(suite);
    if (suite.has('close')) closeTests(suite);
  });
}

function createSuite(h: StoreConformanceHarness, f: StoreConformanceFixtures<AnyStore>): Suite {
  const run = randomBytes(4).toString('hex');
  let n = 0;
  const withStore = async (fn: (store: AnyStore) => Promise<void>): Promise<void> => {
    const store = await f.create();
    try {
      await fn(store);
    } finally {
      await (f.destroy ? f.destroy(store) : store.close?.());
    }
  };
  return {
    h,
    f,
    leaseMs: f.timing?.leaseMs ?? 150,
    ttlMs: f.timing?.ttlMs ?? 300,
    boundMs: f.timing?.boundMs ?? 5_000,
    key: (label) => `payhook-conformance:${run}:${++n}:${label}`,
    withStore,
    has: (method) => !f.without?.includes(method),
  };
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Claims `key` and checks it was claimed with a token. */
async function take(
  store: AnyStore,
  key: string,
  leaseMs: number,
  options?: ClaimOptions,
): Promise<HeldClaim> {
  const at = Date.now();
  const claim = await store.claim(key, leaseMs, options);
  assert.equal(claim.state, 'claimed', `${key}: expected claimed, got ${claim.state}`);
  const { token, context } = claim as Extract<Claim<unknown>, { state: 'claimed' }>;
  assert.equal(typeof token, 'string', `${key}: a claim carries its token`);
  assert.ok(token.length > 0, `${key}: the token is not empty`);
  return { token, context, at, leaseMs };
}

/**
 * What a new caller finds at `key` right now: `claimed` (free; the probe claim is released at
 * once, so the key is left as found), `busy` or `done`.
 */
async function probe(store: AnyStore, key: string): Promise<Verdict> {
  const claim = await store.claim(key, 60_000);
  if (claim.state === 'claimed') await store.release(key, claim.token);
  return claim.state;
}

/** A call that may reject (a store may refuse a token it does not know) or resolve. */
async function settle(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch {
    // Either answer keeps the contract; what the key holds afterwards is what the tests check.
  }
}

/** Ends `held` the way a crash would: its lease lapses (timed), or the fixture takes it away. */
async function lose(s: Suite, store: AnyStore, key: string, held: HeldClaim): Promise<void> {
  if (s.f.loseClaim) return s.f.loseClaim(store, key, held);
  await sleep(held.at + held.leaseMs + 100 - Date.now());
}

/**
 * Claims `key` until it is claimed, every earlier answer being `waiting`; fails after boundMs.
 * Resolves with the claim and the time its answer came.
 */
async function untilClaimed(
  s: Suite,
  store: AnyStore,
  key: string,
  waiting: 'busy' | 'done',
): Promise<HeldClaim & { answered: number }> {
  const start = Date.now();
  for (;;) {
    const at = Date.now();
    const claim = await store.claim(key, 60_000);
    const answered = Date.now();
    if (claim.state === 'claimed') return { ...claim, at, leaseMs: 60_000, answered };
    assert.equal(claim.state, waiting, `${key}: while waiting for it to be free`);
    assert.ok(answered - start < s.boundMs, `${key} was still ${waiting} after ${s.boundMs} ms`);
    await sleep(20);
  }
}

/** Clocks differ by rounding (the backend's milliseconds against ours): this much is forgiven. */
const SLACK_MS = 5;

/** What the hub reads off a store is declared as it is: transactional, deadlineMs, the methods. */
function declarationTests({ h, f, withStore, has }: Suite): void {
  h.it('declares transactional, deadlineMs and its optional methods as they are', () =>
    withStore(async (store) => {
      assert.equal(
        store.transactional === true,
        f.transactional !== undefined,
        'a transactional store needs the `transactional` fixtures, and only a transactional one',
      );
      if (store.deadlineMs !== undefined) {
        assert.ok(
          Number.isFinite(store.deadlineMs) && store.deadlineMs > 0,
          `deadlineMs is a positive number of milliseconds, not ${store.deadlineMs}`,
        );
      }
      for (const method of ['renew', 'markDone', 'close'] as const) {
        const present = typeof store[method] === 'function';
        assert.equal(
          present,
          has(method),
          present
            ? `${method}() is listed in \`without\`, but the store has it: its tests would not run`
            : `the store has no ${method}(); list it in \`without\` if that is on purpose`,
        );
      }
    }),
  );
}

/** claim, commit and release by the holder. */
function claimTests({ h, key, withStore }: Suite): void {
  h.it('a first claim is claimed with a token of its own; another claim meanwhile is busy', () =>
    withStore(async (store) => {
      const k = key('claim');
      const held = await take(store, k, 60_000);
      assert.equal((await store.claim(k, 60_000)).state, 'busy');
      assert.equal((await store.claim(k, 60_000)).state, 'busy', 'busy for as long as it is held');
      const other = await take(store, key('other'), 60_000);
      assert.notEqual(other.token, held.token, 'every claim gets its own token');
      await store.release(k, held.token);
    }),
  );

  h.it('commit makes the key done: every later claim answers done', () =>
    withStore(async (store) => {
      const k = key('commit');
      const held = await take(store, k, 60_000);
      await store.commit(k, held.token, 60_000);
      assert.equal((await store.claim(k, 60_000)).state, 'done');
      assert.equal((await store.claim(k, 60_000)).state, 'done');
    }),
  );

  h.it('release by the holder frees the key: the next claim takes it, with a new token', () =>
    withStore(async (store) => {
      const k = key('release');
      const first = await take(store, k, 60_000);
      await store.release(k, first.token);
      const second = await take(store, k, 60_000);
      assert.notEqual(second.token, first.token);
      await store.commit(k, second.token, 60_000);
      assert.equal(await probe(store, k), 'done');
    }),
  );

  h.it('release never undoes a done key, and releasing a key nobody holds changes nothing', () =>
    withStore(async (store) => {
      const k = key('done');
      const held = await take(store, k, 60_000);
      await store.commit(k, held.token, 60_000);
      await store.release(k, held.token);
      assert.equal(await probe(store, k), 'done');
      const free = key('free');
      await store.release(free, held.token);
      assert.equal(await probe(store, free), 'claimed');
    }),
  );
}

/** Tokens that do not hold the key: they must change nothing for its holder. */
function tokenTests({ h, key, withStore }: Suite): void {
  h.it("another claim's token neither commits, releases nor renews the holder's key", () =>
    withStore(async (store) => {
      const [k, k1, k2] = [key('holder'), key('stranger-1'), key('stranger-2')];
      const held = await take(store, k, 60_000);
      const [one, two] = [await take(store, k1, 60_000), await take(store, k2, 60_000)];
      await settle(() => store.commit(k, one.token, 60_000));
      assert.equal(await probe(store, k), 'busy', 'a commit with a stranger token');
      await settle(() => store.release(k, two.token));
      assert.equal(await probe(store, k), 'busy', 'a release with a stranger token');
      if (store.renew) assert.equal(await store.renew(k, one.token, 60_000), false, 'renew');
      await settle(() => store.commit(k, 'not-a-token', 60_000));
      await settle(() => store.release(k, 'not-a-token'));
      assert.equal(await probe(store, k), 'busy', 'a token the store never issued');
      // Neither stranger lost its own claim to the calls made with its token on another key.
      assert.deepEqual([await probe(store, k1), await probe(store, k2)], ['busy', 'busy']);
      await store.release(k, held.token);
      assert.equal(await probe(store, k), 'claimed', 'free, not done: no stranger committed it');
      await Promise.all([store.commit(k1, one.token, 60_000), store.commit(k2, two.token, 60_000)]);
      assert.deepEqual([await probe(store, k1), await probe(store, k2)], ['done', 'done']);
    }),
  );

  h.it("an earlier holder's token neither commits, releases nor renews the next holder's", () =>
    withStore(async (store) => {
      const k = key('earlier');
      const earlier = await take(store, k, 60_000);
      await store.release(k, earlier.token);
      const next = await take(store, k, 60_000);
      await settle(() => store.commit(k, earlier.token, 60_000));
      assert.equal(await probe(store, k), 'busy', "the earlier holder's commit");
      await settle(() => store.release(k, earlier.token));
      assert.equal(await probe(store, k), 'busy', "the earlier holder's release");
      if (store.renew) assert.equal(await store.renew(k, earlier.token, 60_000), false);
      await store.release(k, next.token);
      assert.equal(
        await probe(store, k),
        'claimed',
        'free, not done: the earlier commit did nothing',
      );
    }),
  );
}

/** renew: true only while the token holds the key; a timed lease runs again from now. */
function renewTests(s: Suite): void {
  const { h, f, key, withStore } = s;
  h.it('renew answers true while held, false after release, after commit and for a free key', () =>
    withStore(async (store) => {
      assert.equal(typeof store.renew, 'function', 'the store has no renew()');
      const renew = store.renew!.bind(store);
      const k = key('renew');
      const held = await take(store, k, 60_000);
      assert.equal(await renew(k, held.token, 60_000), true);
      assert.equal(await renew(k, held.token, 60_000), true, 'as often as asked');
      await store.release(k, held.token);
      assert.equal(await renew(k, held.token, 60_000), false, 'after release');
      const again = await take(store, k, 60_000);
      await store.commit(k, again.token, 60_000);
      assert.equal(await renew(k, again.token, 60_000), false, 'after commit');
      assert.equal(await probe(store, k), 'done', 'a refused renew leaves done alone');
      assert.equal(await renew(key('never'), again.token, 60_000), false, 'a key never held');
    }),
  );
  if (f.loseClaim) return;
  h.it('renew restarts a timed lease from now: the claim outlives its first lease', () =>
    withStore(async (store) => {
      const k = key('renew-extends');
      const held = await take(store, k, s.leaseMs * 2);
      const renewed = await store.renew!(k, held.token, 60_000);
      // A machine so loaded that the renew came after the lease lapsed proves nothing either way.
      if (Date.now() - held.at < held.leaseMs) assert.equal(renewed, true);
      if (!renewed) return;
      await sleep(held.at + held.leaseMs + 200 - Date.now());
      assert.equal(await probe(store, k), 'busy', 'still held past its first lease');
      await store.commit(k, held.token, 60_000);
      assert.equal(await probe(store, k), 'done');
    }),
  );
}

/** A claim whose holder is gone (its lease lapsed, its connection died) must not haunt the key. */
function leaseTests(s: Suite): void {
  const { h, f, key, withStore } = s;
  if (!f.loseClaim) timedLeaseTests(s);
  h.it("a lost claim's token neither commits, releases nor renews the next holder's claim", () =>
    withStore(async (store) => {
      const k = key('lost');
      const lost = await take(store, k, s.leaseMs);
      if (f.transactional) await f.transactional.write(lost.context, `${k}:lost`);
      await lose(s, store, k, lost);
      const next = await untilClaimed(s, store, k, 'busy');
      // Renew first: the hub's renewal is what learns that a claim was lost.
      if (store.renew) assert.equal(await store.renew(k, lost.token, 60_000), false, 'renew');
      await settle(() => store.commit(k, lost.token, 60_000));
      assert.equal(await probe(store, k), 'busy', "the lost claim's commit");
      await settle(() => store.release(k, lost.token));
      assert.equal(await probe(store, k), 'busy', "the lost claim's release");
      await store.release(k, next.token);
      assert.equal(await probe(store, k), 'claimed', 'free, not done: the lost commit did nothing');
      if (f.transactional)
        assert.equal(await f.transactional.written(`${k}:lost`), false, "the lost claim's write");
    }),
  );
}

function timedLeaseTests(s: Suite): void {
  const { h, key, withStore } = s;
  h.it('a lease lapses by itself after leaseMs, and not before: then another caller takes it', () =>
    withStore(async (store) => {
      const k = key('lapse');
      const held = await take(store, k, s.leaseMs);
      const early = await store.claim(k, 60_000);
      if (Date.now() - held.at < held.leaseMs) assert.equal(early.state, 'busy');
      const next = early.state === 'claimed' ? early : await untilClaimed(s, store, k, 'busy');
      if ('answered' in next)
        assert.ok(
          next.answered >= held.at + held.leaseMs - SLACK_MS,
          `taken over ${next.answered - held.at} ms after a claim of ${held.leaseMs} ms`,
        );
      await store.commit(k, next.token, 60_000);
      assert.equal(await probe(store, k), 'done');
    }),
  );

  h.it(
    'a commit after its lease lapsed, with nobody else holding the key, still records done',
    () =>
      withStore(async (store) => {
        const k = key('late-commit');
        const held = await take(store, k, s.leaseMs);
        await lose(s, store, k, held);
        await store.commit(k, held.token, 60_000);
        assert.equal(await probe(store, k), 'done');
      }),
  );
}

/** Done is remembered for ttlMs (from the claim at the earliest), then forgotten. */
function retentionTests(s: Suite): void {
  const { h, key, withStore } = s;
  h.it('done is kept for ttlMs, then the key can be claimed again', () =>
    withStore(async (store) => {
      const k = key('ttl');
      const start = Date.now();
      const held = await take(store, k, 60_000);
      await store.commit(k, held.token, s.ttlMs);
      await expectRetained(s, store, k, start);
    }),
  );
  if (!s.has('markDone')) return;
  h.it('markDone records done at once, over a free key and over a held claim', () =>
    withStore(async (store) => {
      assert.equal(typeof store.markDone, 'function', 'the store has no markDone()');
      const free = key('mark-free');
      await store.markDone!(free, 60_000);
      assert.equal(await probe(store, free), 'done');
      const k = key('mark-held');
      const held = await take(store, k, 60_000);
      await store.markDone!(k, 60_000);
      assert.equal(await probe(store, k), 'done');
      await store.release(k, held.token);
      assert.equal(await probe(store, k), 'done', "the probe holder's release does not undo it");
    }),
  );
  h.it('markDone is kept for ttlMs, then the key can be claimed again', () =>
    withStore(async (store) => {
      const k = key('mark-ttl');
      const start = Date.now();
      await store.markDone!(k, s.ttlMs);
      await expectRetained(s, store, k, start);
    }),
  );
}

/** `k` was made done for ttlMs at `start` or later: done until then, claimable after. */
async function expectRetained(s: Suite, store: AnyStore, k: string, start: number): Promise<void> {
  const now = await store.claim(k, 60_000);
  if (Date.now() - start < s.ttlMs) assert.equal(now.state, 'done', 'done right after');
  if (now.state === 'claimed') return store.release(k, now.token);
  const next = await untilClaimed(s, store, k, 'done');
  assert.ok(
    next.answered >= start + s.ttlMs - SLACK_MS,
    `claimable ${next.answered - start} ms after it was made done for ${s.ttlMs} ms`,
  );
  await store.release(k, next.token);
}

/** `join`: a transactional store takes the key inside the joined claim's transaction. */
function joinTests(s: Suite): void {
  const { h, f, key, withStore } = s;
  if (f.transactional) return transactionalJoinTests(s);
  h.it('a claim that joins another is an ordinary claim of its own key (non-transactional)', () =>
    withStore(async (store) => {
      const [a, m] = [key('event'), key('marker')];
      const event = await take(store, a, 60_000);
      const marker = await take(store, m, 60_000, { join: event.token });
      assert.equal(await probe(store, m), 'busy');
      await store.commit(m, marker.token, 60_000);
      assert.equal(await probe(store, m), 'done', 'committed on its own');
      assert.equal(await probe(store, a), 'busy', 'the joined claim is still held');
      const m2 = key('marker-2');
      const other = await take(store, m2, 60_000, { join: event.token });
      await store.release(a, event.token);
      assert.equal(await probe(store, a), 'claimed', 'released on its own');
      assert.equal(await probe(store, m2), 'busy', 'not released with the claim it joined');
      await store.release(m2, other.token);
      assert.equal(await probe(store, m2), 'claimed');
    }),
  );
}

function transactionalJoinTests({ h, key, withStore }: Suite): void {
  h.it('a joined claim is busy to others and commits with the transaction it joined', () =>
    withStore(async (store) => {
      const [a, m] = [key('event'), key('marker')];
      const event = await take(store, a, 60_000);
      const marker = await take(store, m, 60_000, { join: event.token });
      assert.equal(await probe(store, m), 'busy');
      // As the hub does: the joined commit beside the commit of the claim it joined.
      await Promise.all([
        store.commit(a, event.token, 60_000),
        store.commit(m, marker.token, 60_000),
      ]);
      assert.deepEqual([await probe(store, a), await probe(store, m)], ['done', 'done']);
    }),
  );

  h.it(
    'a joined claim is rolled back with the transaction it joined, and cannot commit alone',
    () =>
      withStore(async (store) => {
        const [a, m] = [key('event'), key('marker')];
        const event = await take(store, a, 60_000);
        const marker = await take(store, m, 60_000, { join: event.token });
        await store.release(a, event.token);
        assert.equal(await probe(store, m), 'claimed', 'rolled back with it');
        await settle(() => store.commit(m, marker.token, 60_000));
        assert.deepEqual([await probe(store, a), await probe(store, m)], ['claimed', 'claimed']);
      }),
  );

  h.it('a joined claim released before the commit is not recorded done with it', () =>
    withStore(async (store) => {
      const [a, m] = [key('event'), key('marker')];
      const event = await take(store, a, 60_000);
      const marker = await take(store, m, 60_000, { join: event.token });
      await store.release(m, marker.token);
      await store.commit(a, event.token, 60_000);
      assert.deepEqual([await probe(store, a), await probe(store, m)], ['done', 'claimed']);
    }),
  );
}

/** The claim's context is a transaction: kept on commit, rolled back on anything else. */
function transactionTests({ h, f, key, withStore }: Suite): void {
  const tx = f.transactional!;
  h.it("writes through the claim's context are unseen until commit, then kept", () =>
    withStore(async (store) => {
      const k = key('tx-commit');
      const held = await take(store, k, 60_000);
      await tx.write(held.context, k);
      assert.equal(await tx.written(k), false, 'not seen before the commit');
      await store.commit(k, held.token, 60_000);
      assert.equal(await tx.written(k), true, 'kept by the commit');
    }),
  );

  h.it('release rolls the writes back, with or without abandoned, and frees the key', () =>
    withStore(async (store) => {
      for (const abandoned of [false, true]) {
        const k = key(abandoned ? 'tx-abandoned' : 'tx-release');
        const held = await take(store, k, 60_000);
        await tx.write(held.context, k);
        await store.release(k, held.token, abandoned ? { abandoned } : undefined);
        assert.equal(await tx.written(k), false, `rolled back (abandoned: ${abandoned})`);
        assert.equal(await probe(store, k), 'claimed', `free (abandoned: ${abandoned})`);
      }
    }),
  );

  h.it('a failed commit rejects, rolls the writes back and leaves the key free', () =>
    withStore(async (store) => {
      const k = key('tx-failed');
      const held = await take(store, k, 60_000);
      await tx.write(held.context, k);
      await tx.breakCommit(held.context);
      await assert.rejects(store.commit(k, held.token, 60_000));
      assert.equal(await tx.written(k), false, 'rolled back');
      assert.equal(await probe(store, k), 'claimed', 'not done: a redelivery processes it');
    }),
  );
}

/** Many callers at once: one key is claimed once; distinct keys do not disturb each other. */
function raceTests({ h, f, key, withStore }: Suite): void {
  const callers = f.parallel?.callers ?? 16;
  const keys = f.parallel?.keys ?? 32;
  h.it(`${callers} callers claiming one key at once: exactly one is claimed, the rest busy`, () =>
    withStore(async (store) => {
      const k = key('race');
      const claims = await Promise.all(
        Array.from({ length: callers }, () => store.claim(k, 60_000)),
      );
      const won = claims.filter((c) => c.state === 'claimed');
      assert.equal(won.length, 1, `claimed ${won.length} times`);
      assert.equal(claims.filter((c) => c.state === 'busy').length, callers - 1);
      await store.commit(k, (won[0] as { token: string }).token, 60_000);
      // A store may answer busy to callers that race for a done key (PostgreSQL takes the key's
      // lock before it reads whether it is done): the hub answers retry, and the redelivery reads
      // done. It must never hand the key out again.
      const after = await Promise.all(Array.from({ length: callers }, () => store.claim(k, 1_000)));
      const states = after.map((c) => c.state);
      assert.ok(!states.includes('claimed'), `claimed again after done: ${states.join(' ')}`);
      assert.ok(states.includes('done'), `nobody read done: ${states.join(' ')}`);
      assert.equal(await probe(store, k), 'done');
    }),
  );

  h.it(`${keys} keys claimed and committed side by side: each claimed once, then done`, () =>
    withStore(async (store) => {
      const all = Array.from({ length: keys }, (_, i) => key(`side-${i}`));
      const tokens = await Promise.all(
        all.map(async (k) => {
          const held = await take(store, k, 60_000);
          await store.commit(k, held.token, 60_000);
          return held.token;
        }),
      );
      assert.equal(new Set(tokens).size, keys, 'every claim has its own token');
      const after = await Promise.all(all.map((k) => store.claim(k, 1_000)));
      assert.deepEqual(
        after.map((c) => c.state),
        all.map(() => 'done'),
      );
    }),
  );
}

/** close(): resolves with claims still open (a transactional store rolls them back), twice. */
function closeTests({ h, f, key, withStore }: Suite): void {
  h.it('close() resolves with a claim still open, and a second close() resolves too', () =>
    withStore(async (store) => {
      assert.equal(typeof store.close, 'function', 'the store has no close()');
      const k = key('close');
      const held = await take(store, k, 60_000);
      if (f.transactional) await f.transactional.write(held.context, k);
      await store.close!();
      await store.close!();
      if (f.transactional)
        assert.equal(await f.transactional.written(k), false, 'an open claim is rolled back');
    }),
  );
}
