import type { Pool } from 'pg';
import { createPostgresStore, type PostgresStore } from '../src';
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

const token = (claim: { state: string; token?: string }): string => {
  expect(claim.state).toBe('claimed');
  return claim.token!;
};

describe('postgres store (the core store contract)', () => {
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

  it('claims once, reports busy while held, done after commit', async () => {
    const first = await store.claim('k1', 1_000);
    const t = token(first);
    expect((await store.claim('k1', 1_000)).state).toBe('busy');
    await store.commit('k1', t, 60_000);
    expect((await store.claim('k1', 1_000)).state).toBe('done');
    expect(store.openClaims).toBe(0);
  });

  it('release frees the key for the next delivery and rolls back what the claim wrote', async () => {
    const claim = await store.claim('k2', 1_000);
    const t = token(claim);
    if (claim.state !== 'claimed') throw new Error('unreachable');
    await claim.context!.tx.query(`INSERT INTO "${schema}".orders (id) VALUES ('k2-order')`);
    await store.release('k2', t);
    const { rowCount } = await pool.query(`SELECT 1 FROM "${schema}".orders WHERE id = 'k2-order'`);
    expect(rowCount).toBe(0);
    token(
      await store.claim('k2', 1_000).then(async (c) => {
        if (c.state === 'claimed') await store.release('k2', c.token);
        return c;
      }),
    );
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
  });

  it('a transaction a failed query aborted is not reported committed', async () => {
    const claim = await store.claim('k5', 1_000);
    const t = token(claim);
    if (claim.state !== 'claimed') throw new Error('unreachable');
    await expect(claim.context!.tx.query('SELECT * FROM no_such_table')).rejects.toThrow();
    await expect(store.commit('k5', t, 60_000)).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
    });
    expect((await store.claim('k5', 1_000)).state).toBe('claimed');
    await store.close();
  });

  it('a joined claim (the completion marker) commits and rolls back with its event', async () => {
    const ev = await store.claim('e6', 1_000);
    const t = token(ev);
    const marker = await store.claim('m6', 1_000, { join: t });
    const mt = token(marker);
    expect((await createPostgresStore({ pool: other, schema }).claim('m6', 1_000)).state).toBe(
      'busy',
    );
    await Promise.all([store.commit('e6', t, 60_000), store.commit('m6', mt, 60_000)]);
    expect((await store.claim('m6', 1_000)).state).toBe('done');

    const ev2 = await store.claim('e7', 1_000);
    const t2 = token(ev2);
    token(await store.claim('m7', 1_000, { join: t2 }));
    await store.release('e7', t2);
    const again = await store.claim('m7', 1_000);
    token(again);
    await store.close();
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

  it('renew holds while the transaction is open, false after', async () => {
    const t = token(await store.claim('k10', 1_000));
    expect(await store.renew!('k10', t, 1_000)).toBe(true);
    await store.release('k10', t);
    expect(await store.renew!('k10', t, 1_000)).toBe(false);
  });
});
