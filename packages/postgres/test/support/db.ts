import { randomBytes } from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';
import { migrate } from '../../src';

/** The test database: 127.0.0.1:5432, trust auth (PAYHOOK_TEST_DATABASE_URL overrides it). */
export const DATABASE_URL =
  process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of the run's own, so runs never see each other's rows; drop it with dropSchema. */
export const testSchema = (label: string): string =>
  `payhook_t_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;

export function testPool(config: PoolConfig = {}): Pool {
  return new Pool({ connectionString: DATABASE_URL, max: 10, ...config });
}

/**
 * A test file's own migrated schema on its own pool, made before its tests and dropped after them:
 * `db.pool` and `db.schema` (pass `db` itself where a store or inbox wants `{ pool, schema }`).
 * `setUp` adds what the file needs beside payhook's tables.
 */
export function useTestSchema(
  label: string,
  setUp?: (pool: Pool, schema: string) => Promise<unknown>,
): { readonly pool: Pool; readonly schema: string } {
  const schema = testSchema(label);
  let pool: Pool | undefined;
  beforeAll(async () => {
    pool = testPool();
    await setUpSchema(pool, schema);
    await setUp?.(pool, schema);
  });
  afterAll(async () => {
    await dropSchema(pool!, schema);
    await pool!.end();
  });
  return {
    get pool() {
      return pool!;
    },
    schema,
  };
}

/** A migrated schema with the merchant's own orders table beside payhook's tables. */
export async function setUpSchema(pool: Pool, schema: string): Promise<void> {
  await migrate(pool, { schema });
  await pool.query(
    `CREATE TABLE "${schema}".orders (id text PRIMARY KEY, paid_count integer NOT NULL DEFAULT 0)`,
  );
}

export async function dropSchema(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export async function insertOrders(
  pool: Pool,
  schema: string,
  ids: readonly string[],
): Promise<void> {
  await pool.query(`INSERT INTO "${schema}".orders (id) SELECT unnest($1::text[])`, [ids]);
}

/** paid_count per order: the merchant's view of how often each payment took effect. */
export async function paidCounts(pool: Pool, schema: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ id: string; paid_count: number }>(
    `SELECT id, paid_count FROM "${schema}".orders`,
  );
  return new Map(rows.map((r) => [r.id, r.paid_count]));
}
