import type { Pool } from 'pg';
import { reportCounts } from '@payhook/core/testing';
import {
  dropSchema,
  effectCounts,
  fastQueueOptions,
  jobStates,
  killWorker,
  receiveAll,
  setUpAsyncSchema,
  startAsyncApp,
  startWorkerProcess,
  testPool,
  testSchema,
  waitFor,
  type AsyncApp,
  type WorkerProcess,
} from './support/app';

/**
 * Worker processes (`payhook-postgres worker`, runWorkerCommand) SIGKILLed while their listeners sit in open
 * transactions, then restarted: pg-boss gives the jobs of the dead workers to the new ones once
 * they expire, and the event table's done mark (in the listener's transaction) keeps every event
 * to one effect. SIGTERM instead finishes the jobs in hand before the process exits.
 */
jest.setTimeout(120_000);
const EVENTS = 200;
let pool: Pool;
const schema = testSchema('async_kill');
let app: AsyncApp;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  pool = testPool({ max: 20 });
  await setUpAsyncSchema(pool, schema);
  app = await startAsyncApp(fastQueueOptions(pool, schema));
});

afterAll(async () => {
  for (const w of workers) await killWorker(w, 'SIGKILL');
  await app?.close();
  await dropSchema(pool, schema);
  await pool.end();
});

const start = async (name: string, env: Record<string, string> = {}): Promise<WorkerProcess> => {
  const w = await startWorkerProcess(name, schema, { LISTENER_SLEEP_MS: '100', ...env });
  workers.push(w);
  return w;
};
const done = async (): Promise<number> => {
  const { rows } = await pool.query(
    `SELECT count(*) AS n FROM "${schema}".payhook_async_event WHERE state = 'done'`,
  );
  return Number(rows[0].n);
};

it('workers SIGKILLed mid-job and restarted: each event processed exactly once', async () => {
  const payloads = Array.from({ length: EVENTS }, (_, i) => ({
    txn: `K${i}`,
    status: 'PAID' as const,
  }));
  expect(await receiveAll(app.hub, payloads)).toEqual({ processed: EVENTS });
  let round = 0;
  const kills: number[] = [];
  for (const target of [40, 100]) {
    const pair = await Promise.all([start(`k${round}a`), start(`k${round}b`)]);
    await waitFor(`${target} done`, async () => (await done()) >= target, 60_000, 50);
    // Mid-job: each worker holds up to 4 jobs whose listeners sleep inside open transactions.
    await Promise.all(pair.map((w) => killWorker(w, 'SIGKILL')));
    kills.push(await done());
    round++;
  }
  const last = await Promise.all([start('final-a'), start('final-b')]);
  await waitFor('all done', async () => (await done()) === EVENTS, 60_000);
  const counts = await effectCounts(pool, schema);
  expect(counts.size).toBe(EVENTS);
  for (const [, n] of counts) expect(n).toBe(1);
  const jobs = await jobStates(pool, schema);
  // Jobs held by the killed workers expired and were taken again by the next ones.
  expect(jobs['completed(retried)'] ?? 0).toBeGreaterThan(0);
  expect(await app.queue.stats()).toMatchObject({ depth: 0, dead: 0 });
  await Promise.all(last.map((w) => killWorker(w, 'SIGTERM')));
  reportCounts('async worker kill', {
    events: EVENTS,
    doneAtKills: kills,
    jobs,
    effects: counts.size,
  });
});

it('SIGTERM finishes the jobs in hand before the worker exits', async () => {
  const before = await done();
  const payloads = [0, 1, 2].map((i) => ({ txn: `G${i}`, status: 'PAID' as const }));
  expect(await receiveAll(app.hub, payloads)).toEqual({ processed: 3 });
  const w = await start('graceful', { LISTENER_SLEEP_MS: '1500' });
  await waitFor(
    'jobs in hand',
    async () => (await jobStates(pool, schema)).active === 3,
    20_000,
    50,
  );
  await killWorker(w, 'SIGTERM');
  expect(w.child.exitCode).toBe(0);
  expect(await done()).toBe(before + 3);
  expect(w.stdout()).toMatch(/stopped \{"done":3,/);
  const counts = await effectCounts(pool, schema);
  for (const p of payloads) expect(counts.get(`test-gateway:${p.txn}:paid`)).toBe(1);
  reportCounts('async graceful stop', { inHand: 3, doneAfterSigterm: 3 });
});
