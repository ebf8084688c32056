import type { Pool } from 'pg';
import { runStoreConformance } from '@payhook/core/testing';
import { createPostgresStore, type PostgresClaimContext, type PostgresStore } from '../src';
import {
  dropSchema,
  insertOrders,
  paidCounts,
  setUpSchema,
  testPool,
  testSchema,
} from './support/db';

let pool: Pool;
let other: Pool;
const schema = testSchema('store');
let store: PostgresStore;

beforeAll(async () => {
  pool = testPool();
  other = testPool();
  await setUpSchema(pool, schema);
  store = createPostgresStore({ pool, schema });
});

afterAll(async () => {
  await store.close();
  await dropSchema(pool, schema);
  await Promise.all([pool.end(), other.end()]);
});

/** Ends the claim's session as a crash would; resolves once PostgreSQL has let its locks go. */
async function terminateSession(context: PostgresClaimContext | undefined): Promise<void> {
  const { rows } = await context!.tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]!.pid;
  await other.query('SELECT pg_terminate_backend($1)', [pid]);
  for (let waited = 0; waited < 5_000; waited += 20) {
    const alive = await other.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (alive.rowCount === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the session ${pid} was still alive 5 s after pg_terminate_backend`);
}

// The contract (claim, commit, release, renew, join, the transaction, races, close): the kit. A
// claim here is held by its transaction, not for leaseMs: the kit loses one by ending its session.
runStoreConformance({
  name: 'postgres store',
  create: () => createPostgresStore({ pool, schema }),
  without: ['markDone'],
  loseClaim: (_store, _key, claim) => terminateSession(claim.context),
  transactional: {
    write: async (context, key) => {
      await context.tx.query(`INSERT INTO "${schema}".orders (id) VALUES ($1)`, [key]);
    },
    written: async (key) =>
      (await other.query(`SELECT 1 FROM "${schema}".orders WHERE id = $1`, [key])).rowCount === 1,
    breakCommit: async (context) => {
      await context.tx.query('SELECT * FROM no_such_table').catch(() => undefined);
    },
  },
});

const token = (claim: { state: string; token?: string }): string => {
  expect(claim.state).toBe('claimed');
  return claim.token!;
};

describe('postgres store (its own)', () => {
  it('a listener query queued while the claim rolls back or commits is refused, never autocommitted', async () => {
    await insertOrders(pool, schema, ['late-1', 'late-2']);
    const own = createPostgresStore({ pool, schema });
    const update = (id: string) =>
      `UPDATE "${schema}".orders SET paid_count = paid_count + 1 WHERE id = '${id}'`;
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ran',
        (e: Error) => (e.message.includes('has ended') ? 'refused' : e.message),
      );
    // close() rolls back a claim whose listener still runs; its next write comes in the same tick.
    const rolled = await own.claim('late-rollback', 30_000);
    const closing = own.close();
    const afterRollback = outcome(
      rolled.state === 'claimed' ? rolled.context!.tx.query(update('late-1')) : Promise.resolve(),
    );
    await closing;
    // commit() queues the processed rows and COMMIT; a write queued after them must not run.
    const committed = await own.claim('late-commit', 30_000);
    if (committed.state !== 'claimed') throw new Error(`late-commit: ${committed.state}`);
    const committing = own.commit('late-commit', committed.token, 60_000);
    const afterCommit = outcome(committed.context!.tx.query(update('late-2')));
    await committing;
    expect([await afterRollback, await afterCommit]).toEqual(['refused', 'refused']);
    const counts = await paidCounts(pool, schema);
    expect([counts.get('late-1'), counts.get('late-2')]).toEqual([0, 0]);
  });

  it('busy answers at once, without waiting for the holder, from another pool (process)', async () => {
    const held = await store.claim('k3', 1_000);
    const t = token(held);
    const elsewhere = createPostgresStore({ pool: other, schema });
    const started = Date.now();
    expect((await elsewhere.claim('k3', 1_000)).state).toBe('busy');
    expect(Date.now() - started).toBeLessThan(500);
    await store.commit('k3', t, 60_000);
    expect((await elsewhere.claim('k3', 1_000)).state).toBe('done');
  });

  it('a commit writes the processed record and the listener writes together', async () => {
    const claim = await store.claim('k4', 1_000);
    const t = token(claim);
    if (claim.state !== 'claimed') throw new Error('unreachable');
    await claim.context!.tx.query(`INSERT INTO "${schema}".orders (id) VALUES ('k4-order')`);
    // Not visible outside before the commit.
    expect(
      (await other.query(`SELECT 1 FROM "${schema}".orders WHERE id = 'k4-order'`)).rowCount,
    ).toBe(0);
    await store.commit('k4', t, 60_000);
    expect(
      (await other.query(`SELECT 1 FROM "${schema}".orders WHERE id = 'k4-order'`)).rowCount,
    ).toBe(1);
    expect(
      (await other.query(`SELECT 1 FROM "${schema}".processed WHERE key = 'k4'`)).rowCount,
    ).toBe(1);
    expect(store.openClaims).toBe(0);
  });

  it("a token acts only on the key it claimed: another key's token commits, releases and renews nothing", async () => {
    const own = createPostgresStore({ pool, schema });
    try {
      const a = await own.claim('tok-a', 1_000);
      const b = await own.claim('tok-b', 1_000);
      const [ta, tb] = [token(a), token(b)];
      // Before the fix, b's token committed b's transaction with tok-a recorded done in it.
      await expect(own.commit('tok-a', tb, 60_000)).rejects.toMatchObject({
        code: 'ERR_STORE_UNAVAILABLE',
      });
      await own.release('tok-a', tb);
      expect(await own.renew!('tok-a', tb, 1_000)).toBe(false);
      expect(own.openClaims).toBe(2);
      await own.release('tok-a', ta);
      await own.commit('tok-b', tb, 60_000);
      expect((await own.claim('tok-a', 1_000)).state).toBe('claimed');
      expect((await own.claim('tok-b', 1_000)).state).toBe('done');
    } finally {
      await own.close();
    }
  });

  it('the tx refuses queries once its transaction ended', async () => {
    const claim = await store.claim('k8', 1_000);
    const t = token(claim);
    if (claim.state !== 'claimed') throw new Error('unreachable');
    await store.commit('k8', t, 60_000);
    await expect(claim.context!.tx.query('SELECT 1')).rejects.toThrow(/has ended/);
  });

  it('forgets done keys after their retention, and purgeExpired deletes them', async () => {
    const t = token(await store.claim('k9', 1_000));
    await store.commit('k9', t, 30);
    await new Promise((r) => setTimeout(r, 60));
    const again = await store.claim('k9', 1_000);
    token(again);
    await store.close();
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
  });
});
