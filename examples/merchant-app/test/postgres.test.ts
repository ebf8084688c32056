import { Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import { runScenario } from '../src';

/**
 * With DATABASE_URL set the example runs on PostgreSQL: the same scenario, its answers unchanged,
 * and each paid order written once through the listener's transaction.
 */
const url = process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `payhook_t_example_${randomBytes(4).toString('hex')}`;
const saved = { url: process.env.DATABASE_URL, schema: process.env.PAYHOOK_SCHEMA };
const pool = new Pool({ connectionString: url, max: 2 });

afterAll(async () => {
  process.env.DATABASE_URL = saved.url;
  process.env.PAYHOOK_SCHEMA = saved.schema;
  if (saved.url === undefined) delete process.env.DATABASE_URL;
  if (saved.schema === undefined) delete process.env.PAYHOOK_SCHEMA;
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

it('runs the scenario on PostgreSQL: every answer as expected, orders updated in the transaction', async () => {
  process.env.DATABASE_URL = url;
  process.env.PAYHOOK_SCHEMA = schema;
  const result = await runScenario({ log: () => undefined });
  expect(result.steps.filter((s) => s.outcome !== s.expected)).toEqual([]);
  const { rows } = await pool.query<{ id: string; status: string; updates: number }>(
    `SELECT id, status, updates FROM "${schema}".merchant_orders ORDER BY id`,
  );
  const paid = result.orders
    .filter((o) => o.paid !== null)
    .map((o) => o.id)
    .sort();
  expect(rows.filter((r) => r.status === 'paid').map((r) => r.id)).toEqual(paid);
  expect(rows.every((r) => r.updates === 1)).toBe(true);
}, 60_000);
