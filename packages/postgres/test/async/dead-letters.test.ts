import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { reportCounts, signedDelivery } from '@payhook/core/testing';
import { runDeadLettersCommand } from '../../src';
import { startWorker, type DeadLetter } from '../../src/async';
import {
  DATABASE_URL,
  dropSchema,
  effectCounts,
  fastQueueOptions,
  setUpAsyncSchema,
  startAsyncApp,
  testPool,
  testSchema,
  waitFor,
  type AsyncApp,
} from './support/app';

/**
 * A listener whose downstream (a real HTTP service) fails: the event uses all its attempts and is
 * kept as dead with its last error; the refund of the same payment waits behind it (dead too, so
 * order holds); retry one and retry all each process it once, through the API and the CLI.
 */
let pool: Pool;
const schema = testSchema('async_dead');
let app: AsyncApp;
let downstream: Server;
let downstreamUp = false;
let downstreamCalls = 0;

beforeAll(async () => {
  pool = testPool();
  await setUpAsyncSchema(pool, schema);
  downstream = createServer((_req, res) => {
    downstreamCalls++;
    res.statusCode = downstreamUp ? 200 : 503;
    res.end();
  }).listen(0, '127.0.0.1');
  await once(downstream, 'listening');
  app = await startAsyncApp(fastQueueOptions(pool, schema, { retryLimit: 2 }));
});

afterAll(async () => {
  await app?.close();
  downstream?.close();
  await dropSchema(pool, schema);
  await pool.end();
});

const post = async (payload: Parameters<typeof signedDelivery>[0]): Promise<number> => {
  const { body, headers } = signedDelivery(payload);
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await res.text();
  return res.status;
};

const io = () => {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t: string) => void (out += t),
      stderr: (t: string) => void (err += t),
      env: {},
      cwd: process.cwd(),
    },
    out: () => out,
    err: () => err,
  };
};
const id = (key: string): string => `test-gateway:${key}`;
const cli = ['--database-url', DATABASE_URL, '--schema', schema];

it('keeps an event that used all its attempts as dead; retry one and retry all process it once', async () => {
  const { queue } = app;
  const dead: DeadLetter[] = [];
  const retried: string[] = [];
  const failedAttempts: number[] = [];
  queue.on('dead', (letter) => void dead.push(letter));
  queue.on('retried', ({ id }) => void retried.push(id));
  queue.on('attempt.failed', ({ attempt }) => void failedAttempts.push(attempt));
  const port = (downstream.address() as AddressInfo).port;
  queue.onAny(async (event, { tx }) => {
    const res = await fetch(`http://127.0.0.1:${port}/notify`, { method: 'POST' });
    if (!res.ok) throw new Error(`downstream answered ${res.status}`);
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'w')`,
      [event.id, event.transactionId, event.type],
    );
  });
  const worker = startWorker(queue, { concurrency: 2, pollingIntervalMs: 200 });
  try {
    expect(await post({ txn: 'D1', status: 'PAID' })).toBe(200);
    expect(await post({ txn: 'D1', status: 'REFUNDED', refundId: 'R1' })).toBe(200);
    expect(await post({ txn: 'D2', status: 'PAID' })).toBe(200);
    await waitFor('three dead letters', async () => (await queue.stats()).dead === 3, 20_000);

    const letters = await queue.deadLetters.list();
    const byId = new Map(letters.map((l) => [l.id, l]));
    expect([...byId.keys()].sort()).toEqual([id('D1:paid'), id('D1:refund:R1'), id('D2:paid')]);
    // retryLimit 2: three attempts, each one's error kept; the refund never ran (order).
    expect(byId.get(id('D1:paid'))).toMatchObject({ attempts: 3, provider: 'test-gateway' });
    expect(byId.get(id('D1:paid'))!.error!.message).toContain('downstream answered 503');
    expect(byId.get(id('D1:refund:R1'))).toMatchObject({ attempts: 0 });
    expect(byId.get(id('D1:refund:R1'))!.error!.code).toBe('ERR_ORDER_BLOCKED');
    expect(dead.map((l) => l.id).sort()).toEqual([...byId.keys()].sort());
    expect(await effectCounts(pool, schema)).toEqual(new Map());
    const callsWhileDown = downstreamCalls;
    expect(callsWhileDown).toBe(6);

    // The CLI lists them too.
    const listed = io();
    expect(await runDeadLettersCommand(['list', '--json', ...cli], listed.io)).toBe(0);
    expect(
      JSON.parse(listed.out())
        .map((l: { id: string }) => l.id)
        .sort(),
    ).toEqual([...byId.keys()].sort());

    downstreamUp = true;
    expect(await queue.deadLetters.retry(id('D2:paid'))).toBe(true);
    expect(await queue.deadLetters.retry(id('D2:paid'))).toBe(false);
    await waitFor(
      'D2 processed',
      async () => (await effectCounts(pool, schema)).get(id('D2:paid')) === 1,
      10_000,
    );

    const all = io();
    expect(await runDeadLettersCommand(['retry-all', ...cli], all.io)).toBe(0);
    expect(all.out()).toBe('retried 2\n');
    await waitFor('all processed', async () => (await queue.stats()).depth === 0, 15_000);
    const counts = await effectCounts(pool, schema);
    expect(counts).toEqual(
      new Map([
        [id('D1:paid'), 1],
        [id('D1:refund:R1'), 1],
        [id('D2:paid'), 1],
      ]),
    );
    const order = await pool.query(
      `SELECT event_id FROM "${schema}".effects WHERE txn = 'D1' ORDER BY seq`,
    );
    expect(order.rows.map((r) => r.event_id)).toEqual([id('D1:paid'), id('D1:refund:R1')]);
    expect(await queue.stats()).toEqual({
      depth: 0,
      oldestPendingAgeMs: null,
      attempts: 0,
      retrying: 0,
      dead: 0,
    });
    const none = io();
    expect(await runDeadLettersCommand(['retry', id('D2:paid'), ...cli], none.io)).toBe(1);
    // `retried` is told on the queue that retried (the CLI's own for retry-all).
    expect(retried).toEqual([id('D2:paid')]);
    // Done rows only bound the table's size: purging them leaves the effects, and nothing pending.
    await new Promise((r) => setTimeout(r, 20));
    expect(await queue.purgeDone(10)).toBe(3);
    expect(await queue.purgeDone(10)).toBe(0);
    reportCounts('async dead letters', {
      dead: dead.length,
      failedAttempts: failedAttempts.length,
      downstreamCalls,
      retried: retried.length,
      effects: Object.fromEntries(counts),
      worker: worker.counts,
    });
  } finally {
    await worker.stop();
  }
});
