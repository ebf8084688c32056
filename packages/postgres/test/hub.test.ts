import { createPaymentHub, type PaymentHubFor } from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { createPostgresStore, type PostgresStore } from '../src';
import { STORE_QUERY } from '../src/transaction';
import { insertOrders, paidCounts, testPool, useTestSchema } from './support/db';
import { deliver, sleep } from './support/deliver';

const db = useTestSchema('hub');

function hubOn(
  store: PostgresStore,
  options: { handlerTimeoutMs?: number } = {},
): PaymentHubFor<PostgresStore> {
  return createPaymentHub({
    store,
    handlerTimeoutMs: options.handlerTimeoutMs ?? 2_000,
    leaseMs: 10_000,
  });
}
const markPaid = `UPDATE "${db.schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`;
const processedRows = async (key: string): Promise<number> =>
  (await db.pool.query(`SELECT 1 FROM "${db.schema}".processed WHERE key = $1`, [key])).rowCount ??
  0;

describe('the hub on the postgres store', () => {
  it('a listener that tries to leave the transaction (COMMIT, or ROLLBACK; UPDATE in one string) is refused: its write commits once, with the claim', async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    const hub = hubOn(store);
    await insertOrders(db.pool, db.schema, ['X1', 'X2']);
    const refusals: string[] = [];
    let runs = 0;
    hub.on('payment.completed', async (event, { tx }) => {
      runs++;
      await tx.query(markPaid, [event.orderId]);
      // The first run of each order tries to commit its write on its own, then fails.
      if (runs <= 2) {
        const escape =
          event.orderId === 'X1'
            ? 'COMMIT'
            : `ROLLBACK; UPDATE "${db.schema}".orders SET paid_count = paid_count + 100 WHERE id = 'X2'`;
        await tx.query(escape).catch((error: { code: string }) => {
          refusals.push(error.code);
          throw error;
        });
      }
    });
    const firsts = [
      await deliver(hub, { txn: 'TX1', order: 'X1' }),
      await deliver(hub, { txn: 'TX2', order: 'X2' }),
    ];
    expect(firsts.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(refusals).toEqual(['ERR_TX_CONTROL', 'ERR_TX_CONTROL']);
    // Nothing escaped: the failed runs' writes were rolled back with their claims.
    expect(Object.fromEntries(await paidCounts(db.pool, db.schema))).toMatchObject({
      X1: 0,
      X2: 0,
    });
    const again = [
      await deliver(hub, { txn: 'TX1', order: 'X1' }),
      await deliver(hub, { txn: 'TX2', order: 'X2' }),
    ];
    expect(again.map((r) => r.outcome)).toEqual(['processed', 'processed']);
    expect(Object.fromEntries(await paidCounts(db.pool, db.schema))).toMatchObject({
      X1: 1,
      X2: 1,
    });
    expect(store.openClaims).toBe(0);
  });

  it('the commit checks the transaction is still the one its claim opened', async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    await insertOrders(db.pool, db.schema, ['Y1']);
    const claim = await store.claim('escaped-key', 10_000);
    if (claim.state !== 'claimed') throw new Error(claim.state);
    // What tx refuses, forced through the store's own runner: the claim's transaction ends and
    // the listener's write commits alone; a new transaction starts on the same connection.
    const run = claim.context![STORE_QUERY]!;
    await run(markPaid, ['Y1']);
    await run('COMMIT');
    await run('BEGIN');
    await expect(store.commit('escaped-key', claim.token, 60_000)).rejects.toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
      message: expect.stringContaining('no longer the one its claim opened'),
    });
    expect(await processedRows('escaped-key')).toBe(0);
    expect(store.openClaims).toBe(0);
  });

  it('handlerTimeoutMs must be longer than the store deadline (checked at boot)', () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 3_000 });
    expect(() => createPaymentHub({ store, handlerTimeoutMs: 3_000 })).toThrow(
      /handlerTimeoutMs.*\(3000\) must be longer than the store's deadline \(3000 ms/,
    );
    expect(() =>
      createPaymentHub({ store, handlerTimeoutMs: 3_001, leaseMs: 10_000 }),
    ).not.toThrow();
  });

  it('a listener that never settles: at the hard cap its claim is released, its connection destroyed (ERR_LISTENER_ABANDONED), and the redelivery processes it once', async () => {
    const store = createPostgresStore({
      ...db,
      connectTimeoutMs: 200,
      statementTimeoutMs: 200,
    });
    const hub = createPaymentHub({
      store,
      handlerTimeoutMs: 300,
      hardTimeoutMs: 700,
      leaseMs: 10_000,
    });
    await insertOrders(db.pool, db.schema, ['H1']);
    const errors: string[] = [];
    hub.on('error', (error) => void errors.push(error.code));
    let runs = 0;
    const pids: number[] = [];
    hub.on('payment.completed', async (event, { tx }) => {
      await tx.query(markPaid, [event.orderId]);
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pids.push(rows[0]!.pid);
      // The first run hangs for good, ignoring its abort signal.
      if (++runs === 1) await new Promise<never>(() => undefined);
    });
    const started = Date.now();
    const first = await deliver(hub, { txn: 'TH1', order: 'H1' });
    expect(first.outcome).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1_000);
    // Held while under the cap: a redelivery is busy.
    expect((await deliver(hub, { txn: 'TH1', order: 'H1' })).outcome).toBe('busy');
    while (!errors.includes('ERR_LISTENER_ABANDONED') && Date.now() - started < 5_000)
      await sleep(20);
    expect(errors).toContain('ERR_LISTENER_ABANDONED');
    expect(store.openClaims).toBe(0);
    // The hung listener's backend is gone (its socket destroyed): nothing idle in transaction.
    let alive = 1;
    for (let i = 0; i < 50 && alive > 0; i++) {
      await sleep(20);
      alive =
        (await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pids[0]]))
          .rowCount ?? 0;
    }
    expect(alive).toBe(0);
    expect((await paidCounts(db.pool, db.schema)).get('H1')).toBe(0);
    expect((await deliver(hub, { txn: 'TH1', order: 'H1' })).outcome).toBe('processed');
    expect((await paidCounts(db.pool, db.schema)).get('H1')).toBe(1);
    reportCounts(
      'postgres hard cap',
      `abandoned after ${Date.now() - started} ms (handler 300 + hard 700), runs ${runs}, paid_count 1`,
    );
  });
  it("the listener's UPDATE and the processed record commit together (typed tx)", async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    const hub = hubOn(store);
    await insertOrders(db.pool, db.schema, ['A1']);
    hub.on('payment.completed', async (event, { tx }) => {
      await tx.query(markPaid, [event.orderId]);
    });
    const first = await deliver(hub, { txn: 'TA1', order: 'A1' });
    const again = await deliver(hub, { txn: 'TA1', order: 'A1' });
    expect([first.outcome, again.outcome]).toEqual(['processed', 'duplicate']);
    expect((await paidCounts(db.pool, db.schema)).get('A1')).toBe(1);
    expect(await processedRows('test-gateway:TA1:paid')).toBe(1);
    // The completion marker is written in the same transaction: a late failure notice is stale.
    expect(await processedRows('#completed:test-gateway:TA1')).toBe(1);
    hub.on('payment.failed', () => undefined);
    expect((await deliver(hub, { txn: 'TA1', order: 'A1', status: 'FAILED' })).outcome).toBe(
      'superseded',
    );
    expect(store.openClaims).toBe(0);
  });

  it('a listener that fails after its UPDATE: rolled back, retried, processed once by the redelivery', async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    const hub = hubOn(store);
    await insertOrders(db.pool, db.schema, ['B1']);
    let calls = 0;
    hub.on('payment.completed', async (event, { tx }) => {
      await tx.query(markPaid, [event.orderId]);
      if (++calls === 1) throw new Error('the first run fails after its write');
    });
    const first = await deliver(hub, { txn: 'TB1', order: 'B1' });
    expect(first.outcome).toBe('failed');
    expect(first.reply.status).toBe(503);
    expect((await paidCounts(db.pool, db.schema)).get('B1')).toBe(0);
    expect(await processedRows('#completed:test-gateway:TB1')).toBe(0);
    expect((await deliver(hub, { txn: 'TB1', order: 'B1' })).outcome).toBe('processed');
    expect((await paidCounts(db.pool, db.schema)).get('B1')).toBe(1);
  });

  it('a listener that times out: the gateway hears retry, nothing is written, the redelivery processes it', async () => {
    const store = createPostgresStore({
      ...db,
      connectTimeoutMs: 300,
      statementTimeoutMs: 300,
    });
    const hub = hubOn(store, { handlerTimeoutMs: 400 });
    await insertOrders(db.pool, db.schema, ['C1']);
    let calls = 0;
    let finished!: () => void;
    const slowDone = new Promise<void>((r) => (finished = r));
    hub.on('payment.completed', async (event, { tx }) => {
      await tx.query(markPaid, [event.orderId]);
      if (++calls === 1) {
        await sleep(1_200);
        finished();
      }
    });
    const first = await deliver(hub, { txn: 'TC1', order: 'C1' });
    expect(first.outcome).toBe('failed');
    expect(first.error?.code).toBe('ERR_LISTENER_FAILED');
    // While the timed-out listener still runs, its claim holds: a redelivery is busy, not run.
    expect((await deliver(hub, { txn: 'TC1', order: 'C1' })).outcome).toBe('busy');
    await slowDone;
    await sleep(50);
    expect(store.openClaims).toBe(0);
    expect((await paidCounts(db.pool, db.schema)).get('C1')).toBe(0);
    expect(await processedRows('test-gateway:TC1:paid')).toBe(0);
    expect((await deliver(hub, { txn: 'TC1', order: 'C1' })).outcome).toBe('processed');
    expect((await paidCounts(db.pool, db.schema)).get('C1')).toBe(1);
    expect(calls).toBe(2);
    reportCounts('postgres listener timeout', `runs ${calls}, paid_count 1, busy while running 1`);
  });

  it('the db.pool exhausted: the retry body at once, no hang; processed once the db.pool frees', async () => {
    const small = testPool({ max: 2 });
    try {
      const store = createPostgresStore({
        pool: small,
        schema: db.schema,
        statementTimeoutMs: 1_000,
      });
      const hub = hubOn(store);
      await insertOrders(db.pool, db.schema, ['D1']);
      hub.on(
        'payment.completed',
        async (event, { tx }) => void (await tx.query(markPaid, [event.orderId])),
      );
      await store.ready();
      const held = await Promise.all([small.connect(), small.connect()]);
      const started = Date.now();
      const refused = await deliver(hub, { txn: 'TD1', order: 'D1' });
      const took = Date.now() - started;
      expect(refused.outcome).toBe('failed');
      expect(refused.reply.status).toBe(503);
      expect(refused.error?.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(took).toBeLessThan(200);
      for (const client of held) client.release();
      expect((await deliver(hub, { txn: 'TD1', order: 'D1' })).outcome).toBe('processed');
      expect((await paidCounts(db.pool, db.schema)).get('D1')).toBe(1);
      reportCounts('postgres db.pool exhausted', `retry answered in ${took} ms, then processed 1`);
    } finally {
      await small.end();
    }
  });

  it('outside the guarantee: a listener that ignores tx and writes with another connection is not rolled back', async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    const hub = hubOn(store);
    await insertOrders(db.pool, db.schema, ['E1']);
    let calls = 0;
    hub.on('payment.completed', async (event) => {
      await db.pool.query(markPaid, [event.orderId]); // not tx: its own autocommit connection
      if (++calls === 1) throw new Error('fails after a write outside the transaction');
    });
    expect((await deliver(hub, { txn: 'TE1', order: 'E1' })).outcome).toBe('failed');
    expect((await deliver(hub, { txn: 'TE1', order: 'E1' })).outcome).toBe('processed');
    // The first run's write survived its rollback: the order counts two payments.
    expect((await paidCounts(db.pool, db.schema)).get('E1')).toBe(2);
  });

  it('a failure notice while the completion runs waits (busy); a failure for another transaction goes through', async () => {
    const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
    const hub = hubOn(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failed: string[] = [];
    hub.on('payment.completed', async () => gate);
    hub.on('payment.failed', async (event) => void failed.push(event.transactionId));
    const completion = deliver(hub, { txn: 'TF1', order: 'F1' });
    await sleep(100);
    expect((await deliver(hub, { txn: 'TF1', order: 'F1', status: 'FAILED' })).outcome).toBe(
      'busy',
    );
    expect((await deliver(hub, { txn: 'TF2', order: 'F2', status: 'FAILED' })).outcome).toBe(
      'processed',
    );
    release();
    expect((await completion).outcome).toBe('processed');
    expect((await deliver(hub, { txn: 'TF1', order: 'F1', status: 'FAILED' })).outcome).toBe(
      'superseded',
    );
    expect(failed).toEqual(['TF2']);
  });
});
