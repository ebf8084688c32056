import { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { createPostgresStore } from '../src';
import { createCluster, type Cluster } from './support/cluster';
import { insertOrders, paidCounts, setUpSchema, testSchema } from './support/db';
import { deliver, sleep } from './support/deliver';

/**
 * PostgreSQL itself restarts in the middle of a run (a cluster of the test's own, stopped with
 * `pg_ctl -m fast` and started again): transactions in flight are rolled back by the server, claims
 * meanwhile fail at once with the retry body, and the gateway's redeliveries finish the job.
 */
const PAYMENTS = 300;
const PORT = 54_000 + (process.pid % 1_000);
const schema = testSchema('restart');
let cluster: Cluster;

beforeAll(() => {
  cluster = createCluster(PORT);
  cluster.start();
}, 60_000);
afterAll(() => cluster?.destroy());

it('PostgreSQL restarted mid-run: 0 lost, 0 doubled', async () => {
  const pool = new Pool({ connectionString: cluster.url, max: 10, connectionTimeoutMillis: 1_000 });
  const poolErrors: string[] = [];
  pool.on('error', (error) => void poolErrors.push(error.message));
  const orders = Array.from({ length: PAYMENTS }, (_, i) => `R-${i}`);
  await setUpSchema(pool, schema);
  await insertOrders(pool, schema, orders);
  const store = createPostgresStore({ pool, schema, statementTimeoutMs: 1_000 });
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 10_000 });
  const errors = new Map<string, number>();
  hub.on('error', (error) => void errors.set(error.code, (errors.get(error.code) ?? 0) + 1));
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(`UPDATE "${schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`, [
      event.orderId,
    ]);
    await sleep(5); // a little work, so that the restart finds transactions open
  });
  let acknowledged = 0;
  let deliveries = 0;
  let restarted = false;
  const deliverUntilAcknowledged = async (order: string): Promise<void> => {
    for (let attempt = 0; attempt < 400; attempt++) {
      deliveries++;
      const result = await deliver(hub, { txn: `T-${order}`, order });
      if (result.reply.status === 200) {
        acknowledged++;
        return;
      }
      await sleep(50);
    }
    throw new Error(`${order} was never acknowledged`);
  };
  const restart = (async () => {
    while (acknowledged < PAYMENTS / 3) await sleep(10);
    cluster.stop('fast');
    await sleep(500);
    cluster.start();
    restarted = true;
  })();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) await deliverUntilAcknowledged(orders[next++]!);
  };
  await Promise.all([restart, ...Array.from({ length: 20 }, worker)]);
  const counts = await paidCounts(pool, schema);
  const lost = orders.filter((o) => (counts.get(o) ?? 0) === 0).length;
  const doubled = orders.filter((o) => (counts.get(o) ?? 0) > 1).length;
  reportCounts(
    'postgres server restart',
    `payments ${PAYMENTS}, deliveries ${deliveries}, lost ${lost}, doubled ${doubled}, ` +
      `errors ${JSON.stringify(Object.fromEntries(errors))}, pool errors ${poolErrors.length}`,
  );
  await pool.end();
  expect(restarted).toBe(true);
  // The restart was felt: some claims or commits failed and were redelivered.
  expect(deliveries).toBeGreaterThan(PAYMENTS);
  expect(errors.get('ERR_STORE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
  expect(lost).toBe(0);
  expect(doubled).toBe(0);
  expect(store.openClaims).toBe(0);
}, 120_000);
