import type { Pool } from 'pg';
import type { WatchList } from '@payhook/lailaolab-socket';
import { createPostgresWatchList, migrate } from '../src';
import { dropSchema, testPool, testSchema } from './support/db';

let pool: Pool;
let other: Pool;
const schema = testSchema('watch');

beforeAll(async () => {
  pool = testPool();
  other = testPool();
  await migrate(pool, { schema });
});
afterAll(async () => {
  await dropSchema(pool, schema);
  await Promise.all([pool.end(), other.end()]);
});

describe('the PostgreSQL watch list (the Lailaolab source watchList)', () => {
  it('is shared by every instance on the schema and keeps ids until their expiry', async () => {
    // The Lailaolab source's WatchList shape, checked by the compiler.
    const here: WatchList = createPostgresWatchList({ pool, schema, name: 'lailaolab' });
    const there: WatchList = createPostgresWatchList({ pool: other, schema, name: 'lailaolab' });
    const now = Date.now();
    expect(await here.add('T1', now + 60_000)).toEqual({ size: 1, dropped: [] });
    expect(await there.add('T2', now + 30_000)).toEqual({ size: 2, dropped: [] });
    await here.add('T3', Date.now() + 1_500);
    expect((await there.list()).ids).toEqual(['T3', 'T2', 'T1']);
    await new Promise((r) => setTimeout(r, 1_600));
    expect(await here.list()).toEqual({ ids: ['T2', 'T1'], expired: 1 });
    expect(await there.remove('T1')).toEqual({ removed: true, size: 1 });
    expect(await here.remove('T1')).toEqual({ removed: false, size: 1 });
    // Another list name in the same schema is another list.
    const payouts = createPostgresWatchList({ pool, schema, name: 'other' });
    expect((await payouts.list()).ids).toEqual([]);
  });

  it('drops the entries closest to their expiry beyond maxEntries', async () => {
    const list = createPostgresWatchList({ pool, schema, name: 'small', maxEntries: 3 });
    const now = Date.now();
    for (let i = 1; i <= 3; i++) await list.add(`S${i}`, now + i * 10_000);
    expect(await list.add('S0', now + 5_000)).toEqual({ size: 3, dropped: ['S0'] });
    expect(await list.add('S9', now + 90_000)).toEqual({ size: 3, dropped: ['S1'] });
    expect((await list.list()).ids).toEqual(['S2', 'S3', 'S9']);
    await expect(list.add('', now)).rejects.toThrow(TypeError);
  });
});
