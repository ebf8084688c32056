import type { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import {
  checkSchema,
  createPostgresInbox,
  createPostgresStore,
  migrate,
  missingMigrations,
  MIGRATIONS,
  runMigrateCommand,
} from '../src';
import { DATABASE_URL, dropSchema, testPool, testSchema } from './support/db';
import { deliver } from './support/deliver';

let pool: Pool;
const schemas: string[] = [];
const fresh = (label: string): string => {
  const schema = testSchema(label);
  schemas.push(schema);
  return schema;
};

beforeAll(() => {
  pool = testPool();
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

const tables = async (schema: string): Promise<string[]> =>
  (
    await pool.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    )
  ).rows.map((r) => r.t);

describe('schema and migrations', () => {
  it('nothing is created by creating a store; the boot check names every missing migration', async () => {
    const schema = fresh('boot');
    const store = createPostgresStore({ pool, schema });
    expect(await tables(schema)).toEqual([]);
    await expect(store.ready()).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining(`lacks migration 001_processed, 002_inbox, 003_watch_list`),
    });
    // A hub on an unmigrated schema answers retry, never success, and writes nothing.
    const hub = createPaymentHub({ store });
    hub.on('payment.completed', () => undefined);
    const result = await deliver(hub, { txn: 'TM1', order: 'M1' });
    expect(result.reply.status).toBe(503);
    expect(await tables(schema)).toEqual([]);
  });

  it('migrate applies each step once, concurrently too, and the check then passes', async () => {
    const schema = fresh('migrate');
    const results = await Promise.all([migrate(pool, { schema }), migrate(pool, { schema })]);
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(MIGRATIONS.map((m) => m.name).sort());
    expect(await tables(schema)).toEqual([
      'awaited_payments',
      'inbox',
      'payhook_async_event',
      'processed',
      'schema_migrations',
      'watch_list',
    ]);
    expect((await migrate(pool, { schema })).applied).toEqual([]);
    await expect(checkSchema(pool, { schema })).resolves.toBeUndefined();
    expect(await missingMigrations(pool, { schema })).toEqual([]);
  });

  it('names the one migration missing from a schema migrated by an older version', async () => {
    const schema = fresh('partial');
    await migrate(pool, { schema });
    await pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version = 2`);
    await pool.query(`DROP TABLE "${schema}".inbox`);
    expect(await missingMigrations(pool, { schema })).toEqual(['002_inbox']);
    await expect(checkSchema(pool, { schema })).rejects.toThrow(/lacks migration 002_inbox:/);
    expect((await migrate(pool, { schema })).applied).toEqual(['002_inbox']);
  });

  it('two schemas in one database are two shops: an event processed in one is new in the other', async () => {
    const [a, b] = [fresh('shop_a'), fresh('shop_b')];
    await Promise.all([migrate(pool, { schema: a }), migrate(pool, { schema: b })]);
    const storeA = createPostgresStore({ pool, schema: a });
    const storeB = createPostgresStore({ pool, schema: b });
    const claimA = await storeA.claim('same-key', 1_000);
    const claimB = await storeB.claim('same-key', 1_000);
    expect([claimA.state, claimB.state]).toEqual(['claimed', 'claimed']);
    if (claimA.state === 'claimed') await storeA.commit('same-key', claimA.token, 60_000);
    if (claimB.state === 'claimed') await storeB.release('same-key', claimB.token);
    expect((await storeA.claim('same-key', 1_000)).state).toBe('done');
    const again = await storeB.claim('same-key', 1_000);
    expect(again.state).toBe('claimed');
    await storeB.close();
  });

  it('options are checked at construction', () => {
    expect(() => createPostgresStore({} as never)).toThrow(/option "pool"/);
    expect(() => createPostgresStore({ pool, schema: 'Robert"; DROP' })).toThrow(/option "schema"/);
    expect(() => createPostgresStore({ pool, connectTimeoutMs: 0 })).toThrow(
      /option "connectTimeoutMs"/,
    );
    expect(() => createPostgresInbox({ pool, maxRefused: -1 })).toThrow(/option "maxRefused"/);
  });
});

describe('runMigrateCommand (payhook-postgres migrate, in process)', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    let out = '';
    let err = '';
    const code = await runMigrateCommand(argv, {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      env,
    });
    return { code, out, err };
  };

  it('--check exits 1 naming what is missing, migrate applies, --check then exits 0', async () => {
    const schema = fresh('cli');
    const before = await run(['--schema', schema, '--check'], { DATABASE_URL });
    expect(before.code).toBe(1);
    expect(before.err).toContain('lacks migration 001_processed, 002_inbox, 003_watch_list');
    const applied = await run(['--database-url', DATABASE_URL, '--schema', schema]);
    expect(applied).toMatchObject({
      code: 0,
      out: expect.stringContaining('applied 001_processed, 002_inbox, 003_watch_list'),
    });
    const after = await run(['--schema', schema, '--check'], { DATABASE_URL });
    expect(after).toMatchObject({ code: 0, out: expect.stringContaining('up to date') });
  });

  it('bad usage exits 2 and changes nothing', async () => {
    const schema = fresh('cli_usage');
    expect((await run(['--schema', schema])).code).toBe(2);
    expect((await run(['--schema'], { DATABASE_URL })).code).toBe(2);
    expect((await run(['--frobnicate'], { DATABASE_URL })).code).toBe(2);
    expect((await run(['--url', DATABASE_URL, '--schema', schema])).code).toBe(2);
    expect(await tables(schema)).toEqual([]);
    const bad = await run(['--schema', 'Bad Name'], { DATABASE_URL });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/option "schema"/);
  });
});
