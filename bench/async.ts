/**
 * Async mode vs sync mode on PostgreSQL, same run, same 50 ms listener (a pg_sleep in the event's
 * transaction plus one insert): the time from the gateway's POST to its acknowledgement in each
 * mode, their ratio, and the workers' throughput draining what async mode queued.
 *
 *   node --import tsx bench/async.ts [--requests 200] [--concurrency 10] [--worker-concurrency 8]
 *
 * Needs PostgreSQL (PAYHOOK_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test);
 * it works in a schema of its own, dropped at the end. Prints one JSON line.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import express from 'express';
import { Pool } from 'pg';
import { createPaymentHub, createWebhookMiddleware, type PaymentEvent } from '@payhook/core';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { createPostgresStore, migrate } from '@payhook/postgres';
import { attachQueue, createPaymentQueue, startWorker } from '../packages/postgres/src/async';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
    'worker-concurrency': { type: 'string', default: '8' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const LISTENER_MS = 50;
const url = process.env.PAYHOOK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `payhook_bench_async_${process.pid}`;

async function listen(app: express.Express): Promise<{ url: string; close(): void }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => server.close() };
}

/** The merchant's listener: 50 ms of work inside the transaction, then its write. */
const work = async (event: PaymentEvent, tx: { query: Pool['query'] }): Promise<void> => {
  await tx.query('SELECT pg_sleep($1)', [LISTENER_MS / 1000]);
  await tx.query(`INSERT INTO "${schema}".effects (event_id) VALUES ($1)`, [event.id]);
};

/** POSTs `REQUESTS` distinct deliveries, CONCURRENCY at a time; the ack latencies in ms, sorted. */
async function post(target: string, prefix: string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < REQUESTS) {
      const { body, headers } = signedDelivery({ txn: `${prefix}${next++}` });
      const started = performance.now();
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      const text = await res.text();
      if (res.status !== 200 || text !== '{"ok":true}')
        throw new Error(`not acknowledged: ${text}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return latencies.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 30 });
  await migrate(pool, { schema });
  await pool.query(`CREATE TABLE "${schema}".effects (event_id text NOT NULL)`);
  const provider = createTestProvider();

  const syncStore = createPostgresStore({ pool, schema });
  const syncHub = createPaymentHub({ store: syncStore });
  syncHub.onAny((event, context) => work(event, (context as unknown as { tx: Pool }).tx));
  const sync = await listen(express().post('/hook', createWebhookMiddleware(syncHub, provider)));

  const asyncStore = createPostgresStore({ pool, schema });
  const asyncHub = createPaymentHub({ store: asyncStore });
  const queue = createPaymentQueue({ pool, schema });
  await queue.start();
  attachQueue(asyncHub, queue);
  queue.onAny((event, { tx }) => work(event, tx));
  const async_ = await listen(express().post('/hook', createWebhookMiddleware(asyncHub, provider)));

  // Warm-up, then sync, then async acknowledgements (workers not running yet: acks only).
  await post(sync.url, 'warm-s');
  await post(async_.url, 'warm-a');
  const syncLat = await post(sync.url, 's');
  const asyncLat = await post(async_.url, 'a');
  const queued = (await queue.stats()).depth;
  const started = performance.now();
  const worker = startWorker(queue, {
    concurrency: Number(values['worker-concurrency']),
    pollingIntervalMs: 100,
  });
  while ((await queue.stats()).depth > 0) await new Promise((r) => setTimeout(r, 50));
  const drainMs = performance.now() - started;
  await worker.stop();
  const effects = await pool.query(`SELECT count(*) AS n FROM "${schema}".effects`);

  console.log(
    JSON.stringify({
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      listenerMs: LISTENER_MS,
      syncAckMs: { p50: pct(syncLat, 50), p95: pct(syncLat, 95), p99: pct(syncLat, 99) },
      asyncAckMs: { p50: pct(asyncLat, 50), p95: pct(asyncLat, 95), p99: pct(asyncLat, 99) },
      ackP50Ratio: Math.round((pct(asyncLat, 50) / pct(syncLat, 50)) * 100) / 100,
      worker: {
        concurrency: Number(values['worker-concurrency']),
        queued,
        drainMs: Math.round(drainMs),
        eventsPerSecond: Math.round(queued / (drainMs / 1000)),
        counts: worker.counts,
      },
      effects: Number(effects.rows[0].n),
    }),
  );
  sync.close();
  async_.close();
  await queue.stop();
  await Promise.all([syncStore.close(), asyncStore.close()]);
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.end();
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
