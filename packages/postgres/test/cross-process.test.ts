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
import { startInstance, stats, stopInstance, type Instance } from './support/instances';
import { sleep } from './support/deliver';

/**
 * Two Node processes, each with its own hub and pool on one PostgreSQL schema. The same 1,000
 * payments are each delivered three times to both at once, and the "gateway" redelivers whatever
 * was answered with its retry body. Each must be processed once, and show once in the orders table.
 */
const PAYMENTS = 1_000;
const COPIES = 3;
const IN_FLIGHT = 25;
const schema = testSchema('cross');
let pool: Pool;
const children: Instance[] = [];

beforeAll(async () => {
  pool = testPool();
  await setUpSchema(pool, schema);
});
afterAll(async () => {
  await Promise.all(children.map(stopInstance));
  await dropSchema(pool, schema);
  await pool.end();
});

it(`${PAYMENTS} payments, ${COPIES} concurrent copies to each of two processes: each processed once`, async () => {
  const orders = Array.from({ length: PAYMENTS }, (_, i) => `X-${i}`);
  await insertOrders(pool, schema, orders);
  const env = { DATABASE_URL, SCHEMA: schema, POOL_MAX: '20' };
  children.push(...(await Promise.all([startInstance('a', env), startInstance('b', env)])));
  const agent = new Agent({ keepAlive: true, maxSockets: 100 });
  let deliveries = 0;
  const copy = async (url: string, order: string): Promise<void> => {
    const fixture = signedDelivery({ txn: `T-${order}`, order });
    for (let attempt = 0; attempt < 200; attempt++) {
      deliveries++;
      // A keep-alive socket the server closed as we reused it is a lost request: send it again.
      const reply = await postKeepAlive(url, fixture, agent).catch(() => undefined);
      if (reply?.status === 200) return;
      await sleep(10 + Math.floor(Math.random() * 20));
    }
    throw new Error(`${order} was never acknowledged`);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const order = orders[next++]!;
      await Promise.all(
        children.flatMap((child) => Array.from({ length: COPIES }, () => copy(child.url, order))),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    agent.destroy();
  }
  const all = await Promise.all(children.map(stats));
  const runs = new Map<string, number>();
  for (const s of all)
    for (const [id, n] of Object.entries(s.dispatched)) runs.set(id, (runs.get(id) ?? 0) + n);
  const counts = await paidCounts(pool, schema);
  const notOnce = orders.filter((o) => counts.get(o) !== 1);
  const ranTwice = [...runs.values()].filter((n) => n !== 1).length;
  reportCounts(
    'postgres two processes',
    `payments ${PAYMENTS}, deliveries ${deliveries}, listener runs ${[...runs.values()].reduce((a, b) => a + b, 0)} ` +
      `(a ${Object.keys(all[0]!.dispatched).length}, b ${Object.keys(all[1]!.dispatched).length}), ` +
      `ran more than once ${ranTwice}, orders not paid exactly once ${notOnce.length}, ` +
      `outcomes a ${JSON.stringify(all[0]!.outcomes)} b ${JSON.stringify(all[1]!.outcomes)}`,
  );
  expect(runs.size).toBe(PAYMENTS);
  expect(ranTwice).toBe(0);
  expect(notOnce).toEqual([]);
  // Both processes did take part.
  expect(Object.keys(all[0]!.dispatched).length).toBeGreaterThan(0);
  expect(Object.keys(all[1]!.dispatched).length).toBeGreaterThan(0);
}, 240_000);
