import { Agent } from 'node:http';
import type { Pool } from 'pg';
import { postKeepAlive, reportCounts, signedDelivery } from '@payhook/core/testing';
import {
  DATABASE_URL,
  dropSchema,
  insertOrders,
  paidCounts,
  setUpSchema,
  testPool,
  testSchema,
} from './support/db';
import { startInstance, stopInstance, type Instance } from './support/instances';
import { sleep } from './support/deliver';

/**
 * The crash window a separate store leaves open: the process dies inside the listener, after the
 * listener's own UPDATE and before the commit. Each of 200 orders' first run is killed there
 * (SIGKILL, 30 runs at a time); the gateway redelivers to the restarted process. The UPDATE and
 * the processed record commit together, so every order is updated exactly once.
 */
const PAYMENTS = 200;
const schema = testSchema('crash');
let pool: Pool;

beforeAll(async () => {
  pool = testPool();
  await setUpSchema(pool, schema);
  await pool.query(`CREATE TABLE "${schema}".crashes (id text PRIMARY KEY)`);
});
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

it(`SIGKILL after the listener's UPDATE, before the commit, for ${PAYMENTS} payments: each order updated once`, async () => {
  const orders = Array.from({ length: PAYMENTS }, (_, i) => `K-${i}`);
  await insertOrders(pool, schema, orders);
  const env = { DATABASE_URL, SCHEMA: schema, CRASH_BATCH: '30', POOL_MAX: '40' };
  let current: Instance = await startInstance('crashing', env);
  let restarts = 0;
  let stopping = false;
  const supervise = (instance: Instance): void =>
    void instance.process.once('exit', () => {
      if (stopping) return;
      restarts++;
      void startInstance(`crashing-${restarts}`, env).then((next) => {
        current = next;
        supervise(next);
      });
    });
  supervise(current);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let deliveries = 0;
  const deliverUntilAcknowledged = async (order: string): Promise<void> => {
    const fixture = signedDelivery({ txn: `T-${order}`, order });
    for (let attempt = 0; attempt < 500; attempt++) {
      deliveries++;
      const reply = await postKeepAlive(current.url, fixture, agent).catch(() => undefined);
      if (reply?.status === 200) return;
      // A refused connection means the process is restarting: wait longer than for a retry body.
      await sleep((reply ? 50 : 250) + Math.floor(Math.random() * 50));
    }
    throw new Error(`${order} was never acknowledged`);
  };
  try {
    await Promise.all(orders.map(deliverUntilAcknowledged));
  } finally {
    stopping = true;
    agent.destroy();
    await stopInstance(current);
  }
  const counts = await paidCounts(pool, schema);
  const crashed = (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".crashes`)).rows[0]
    .n;
  const processed = (
    await pool.query(`SELECT count(*)::int AS n FROM "${schema}".processed WHERE key LIKE '%:paid'`)
  ).rows[0].n;
  const once = [...counts.values()].filter((n) => n === 1).length;
  const notOnce = orders.filter((o) => counts.get(o) !== 1);
  reportCounts(
    'postgres SIGKILL inside the listener',
    `payments ${PAYMENTS}, killed after UPDATE ${crashed}, restarts ${restarts}, deliveries ${deliveries}, ` +
      `orders updated once ${once}, not once ${notOnce.length}, processed records ${processed}`,
  );
  expect(crashed).toBe(PAYMENTS);
  expect(restarts).toBeGreaterThanOrEqual(Math.ceil(PAYMENTS / 30));
  expect(notOnce).toEqual([]);
  expect(processed).toBe(PAYMENTS);
}, 240_000);
