import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'pg';
import { createPaymentHub, type ReceiveResult } from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { createPostgresInbox, createPostgresStore } from '../src';
import { createCluster, type Cluster } from './support/cluster';
import { insertOrders, paidCounts, setUpSchema, testSchema } from './support/db';
import { deliver, sleep } from './support/deliver';

/**
 * PostgreSQL freezes under load (a cluster of the test's own, every process SIGSTOPped, then
 * SIGCONTed): the server keeps its sockets but answers nothing, as a hung host does. Every
 * statement payhook waits on has a deadline, past which its connection is destroyed and the
 * gateway gets the retry body; nothing is lost or doubled, nothing stays idle in transaction.
 * A request meets at most two deadlines while the server is frozen (a store statement or connect,
 * then the inbox's write), so its answer comes within their sum plus the event loop's lag.
 * PAYHOOK_FREEZE_SECONDS sets the freeze (default 10; the other case is 30).
 */
const PAYMENTS = 500;
const SENDERS = 20;
const FREEZE_MS = Number(process.env.PAYHOOK_FREEZE_SECONDS ?? 10) * 1_000;
const STATEMENT_MS = 1_000;
const INBOX_STATEMENT_MS = 200;
const PORT = 55_000 + (process.pid % 1_000);
const schema = testSchema('freeze');
let cluster: Cluster;

beforeAll(() => {
  cluster = createCluster(PORT);
  cluster.start();
}, 60_000);
afterAll(() => cluster?.destroy());

interface Run {
  latencies: number[];
  deliveries: number;
  acknowledged: number;
  duringFreeze: number[];
}

it(
  `PostgreSQL frozen ${FREEZE_MS / 1_000} s under ${PAYMENTS} payments: every request answered within the statement deadline + 1 s, 0 lost, 0 doubled, nothing idle in transaction`,
  async () => {
    const pool = new Pool({ connectionString: cluster.url, max: 20 });
    const poolErrors: string[] = [];
    pool.on('error', (error) => void poolErrors.push(error.message));
    const orders = Array.from({ length: PAYMENTS }, (_, i) => `F-${i}`);
    await setUpSchema(pool, schema);
    await insertOrders(pool, schema, orders);
    const store = createPostgresStore({
      pool,
      schema,
      connectTimeoutMs: STATEMENT_MS,
      statementTimeoutMs: STATEMENT_MS,
    });
    const inbox = createPostgresInbox({
      pool,
      schema,
      connectTimeoutMs: INBOX_STATEMENT_MS,
      statementTimeoutMs: INBOX_STATEMENT_MS,
    });
    const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    const errors = new Map<string, number>();
    hub.on('error', (error) => void errors.set(error.code, (errors.get(error.code) ?? 0) + 1));
    hub.on('payment.completed', async (event, { tx }) => {
      await tx.query(`UPDATE "${schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`, [
        event.orderId,
      ]);
      await sleep(5);
    });
    // The test's own event loop lag is reported: on a loaded machine it, not the deadlines, is what
    // stretches an answer past the sum of the two deadlines it can meet (store, then inbox).
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const run: Run = { latencies: [], deliveries: 0, acknowledged: 0, duringFreeze: [] };
    let freezing = false;
    const timed = async (order: string): Promise<ReceiveResult> => {
      const started = Date.now();
      const result = await deliver(hub, { txn: `T-${order}`, order });
      const took = Date.now() - started;
      run.latencies.push(took);
      if (freezing) run.duringFreeze.push(took);
      return result;
    };
    const untilAcknowledged = async (order: string): Promise<void> => {
      for (let attempt = 0; attempt < 2_000; attempt++) {
        run.deliveries++;
        if ((await timed(order)).reply.status === 200) return void run.acknowledged++;
        await sleep(50);
      }
      throw new Error(`${order} was never acknowledged`);
    };
    const freeze = (async () => {
      while (run.acknowledged < PAYMENTS / 5) await sleep(10);
      await cluster.freeze();
      freezing = true;
      await sleep(FREEZE_MS);
      freezing = false;
      cluster.thaw();
    })();
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < orders.length) await untilAcknowledged(orders[next++]!);
    };
    await Promise.all([freeze, ...Array.from({ length: SENDERS }, sender)]);

    lag.disable();
    const counts = await paidCounts(pool, schema);
    const lost = orders.filter((o) => (counts.get(o) ?? 0) === 0).length;
    const doubled = orders.filter((o) => (counts.get(o) ?? 0) > 1).length;
    const idle = await idleInTransaction(pool);
    const max = Math.max(...run.latencies);
    reportCounts(
      `postgres frozen ${FREEZE_MS / 1_000} s`,
      `payments ${PAYMENTS}, deliveries ${run.deliveries}, answered during the freeze ${run.duringFreeze.length} ` +
        `(slowest ${Math.max(0, ...run.duringFreeze)} ms), slowest overall ${max} ms, lost ${lost}, ` +
        `doubled ${doubled}, idle in transaction after the thaw ${idle}, ` +
        `event loop lag max ${Math.round(lag.max / 1e6)} ms, ` +
        `errors ${JSON.stringify(Object.fromEntries(errors))}, pool errors ${poolErrors.length}`,
    );
    await pool.end();
    // The freeze was felt: requests were answered while it lasted, with the retry body.
    expect(run.duringFreeze.length).toBeGreaterThan(SENDERS);
    expect(errors.get('ERR_STORE_TIMEOUT') ?? 0).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(STATEMENT_MS + 1_000);
    expect(lost).toBe(0);
    expect(doubled).toBe(0);
    expect(idle).toBe(0);
    expect(store.openClaims).toBe(0);
  },
  120_000 + FREEZE_MS,
);

/** Sessions left idle in transaction once the thawed server has read its closed sockets. */
async function idleInTransaction(pool: Pool): Promise<number> {
  let idle = -1;
  for (let i = 0; i < 50; i++) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()`,
    );
    idle = rows[0]!.n;
    if (idle === 0) return 0;
    await sleep(100);
  }
  return idle;
}
