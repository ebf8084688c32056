import { Pool } from 'pg';
import { createPaymentHub } from '@payhook/core';
import { createPostgresInbox, createPostgresStore } from '../src';
import { createCluster, type Cluster } from './support/cluster';
import { insertOrders, setUpSchema, testSchema } from './support/db';
import { deliver } from './support/deliver';

/**
 * Found by a hostile review: the store's boot check (ready(), run by the first claim) and the
 * inbox's reads had no deadline. With PostgreSQL frozen, the first webhook after the app started
 * got no answer until the thaw. They now have the store's and the inbox's deadlines.
 */
const PORT = 56_000 + (process.pid % 1_000);
const schema = testSchema('review_freeze');
let cluster: Cluster;

beforeAll(() => {
  cluster = createCluster(PORT);
  cluster.start();
}, 60_000);
afterAll(() => cluster?.destroy());

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'no answer'> =>
  Promise.race([p, new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), ms))]);

it('the first claim after boot, with PostgreSQL frozen, is answered within the deadlines', async () => {
  const pool = new Pool({ connectionString: cluster.url, max: 5 });
  pool.on('error', () => undefined);
  await setUpSchema(pool, schema);
  await insertOrders(pool, schema, ['F1']);
  const store = createPostgresStore({
    pool,
    schema,
    connectTimeoutMs: 500,
    statementTimeoutMs: 500,
  });
  const inbox = createPostgresInbox({
    pool,
    schema,
    connectTimeoutMs: 200,
    statementTimeoutMs: 200,
  });
  const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 2_000, leaseMs: 10_000 });
  hub.on('error', () => undefined);
  hub.on('payment.completed', () => undefined);
  // Warm the pool so an idle connection is there (as in a running app).
  await pool.query('SELECT 1');
  await cluster.freeze();
  try {
    const started = Date.now();
    const first = await within(deliver(hub, { txn: 'T-F1', order: 'F1' }), 6_000);
    const firstMs = Date.now() - started;
    const get = await within(
      inbox.get('anything').catch((error: { code: string }) => error.code),
      3_000,
    );
    expect({
      first: typeof first === 'string' ? first : first.reply.status,
      answeredWithinDeadlines: firstMs < 500 + 500 + 200 + 1_500,
      inboxGet: get,
    }).toEqual({
      first: 503,
      answeredWithinDeadlines: true,
      // The connect deadline (a new connection to the frozen server) or the statement's.
      inboxGet: expect.stringMatching(/^ERR_STORE_(TIMEOUT|UNAVAILABLE)$/),
    });
  } finally {
    cluster.thaw();
    await store.close();
    await pool.end().catch(() => undefined);
  }
}, 30_000);
