import type { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import { createPostgresStore } from '../src';
import { dropSchema, insertOrders, setUpSchema, testPool, testSchema } from './support/db';
import { deliver, sleep } from './support/deliver';

/**
 * Found by a hostile review: past a statement deadline the store only destroyed the socket. A
 * backend busy in a statement does not notice its client went away, so it kept running and kept
 * the claim's advisory lock (and its row locks): every redelivery answered busy until the
 * statement ended on its own. The store now terminates it (pg_terminate_backend) on a connection
 * of its own.
 */
let pool: Pool;
const schema = testSchema('review_deadline');
beforeAll(async () => {
  pool = testPool();
  await setUpSchema(pool, schema);
});
afterAll(async () => {
  await pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%review-deadline-marker%' AND pid <> pg_backend_pid()`,
  );
  await dropSchema(pool, schema);
  await pool.end();
});

it('a listener statement past the deadline does not keep its backend (and the claim) alive', async () => {
  await insertOrders(pool, schema, ['D1']);
  const store = createPostgresStore({ pool, schema, statementTimeoutMs: 500 });
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 10_000 });
  hub.on('error', () => undefined);
  let runs = 0;
  hub.on('payment.completed', async (_e, { tx }) => {
    runs++;
    if (runs === 1) await tx.query('SELECT pg_sleep(20) /* review-deadline-marker */');
  });
  const first = await deliver(hub, { txn: 'T-D1', order: 'D1' });
  expect(first.outcome).not.toBe('processed');
  await sleep(1_000);
  const still = await pool.query(
    `SELECT pid, state FROM pg_stat_activity WHERE query LIKE '%review-deadline-marker%' AND pid <> pg_backend_pid()`,
  );
  const second = await deliver(hub, { txn: 'T-D1', order: 'D1' });
  expect({ backendsStillRunning: still.rowCount, redelivery: second.outcome }).toEqual({
    backendsStillRunning: 0,
    redelivery: 'processed',
  });
}, 30_000);
