import type { Pool, PoolClient } from 'pg';
import { createPaymentHub, createWebhookMiddleware } from '@payhook/core';
import { createTestProvider, reportCounts, signedDelivery } from '@payhook/core/testing';
import express from 'express';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createPostgresStore } from '../../src';
import {
  dropSchema,
  effectCounts,
  fastQueueOptions,
  killWorker,
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
 * The merchant's table is locked for longer than NewPay's whole retry schedule (v2: 10 s, 5 min,
 * 30 min, then it stops; scaled here 1:1000). In sync mode every attempt gets the retry body and the
 * gateway gives up: the payments are lost. In async mode the gateway gets its success body at once,
 * and a worker process keeps retrying until the table is back: every payment once.
 */
const NEWPAY_RETRIES_MS = [10, 300, 1_800];
const ASYNC_PAYMENTS = 20;
const SYNC_PAYMENTS = 5;
const LOCK_MS = 8_000; // > 10 + 300 + 1,800 ms and the posts themselves, on a loaded machine

let pool: Pool;
/** The sync app's own pool: its stuck listeners must not starve the async app's connections. */
let syncPool: Pool;
let sync: { url: string; close(): Promise<void> } | undefined;
const schema = testSchema('async_outage');
let app: AsyncApp;
let worker: WorkerProcess | undefined;
let locker: PoolClient | undefined;

beforeAll(async () => {
  pool = testPool({ max: 20 });
  syncPool = testPool({ max: 10 });
  await setUpAsyncSchema(pool, schema);
  app = await startAsyncApp(fastQueueOptions(pool, schema, { retryLimit: 100 }));
});

afterAll(async () => {
  if (worker) await killWorker(worker, 'SIGTERM');
  if (locker) {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }
  await app?.close();
  await sync?.close();
  await syncPool.end();
  await dropSchema(pool, schema);
  await pool.end();
});

interface GatewayLog {
  answers: Array<{ ok: boolean; ms: number }>;
  gaveUp: boolean;
}

/** NewPay: the first POST, then a retry after each step of its schedule, until it hears success. */
async function newpayDelivers(url: string, txn: string): Promise<GatewayLog> {
  const { body, headers } = signedDelivery({ txn, status: 'PAID' });
  const log: GatewayLog = { answers: [], gaveUp: false };
  for (let attempt = 0; attempt <= NEWPAY_RETRIES_MS.length; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, NEWPAY_RETRIES_MS[attempt - 1]));
    const started = Date.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const ok = res.status === 200 && (await res.text()) === '{"ok":true}';
    log.answers.push({ ok, ms: Date.now() - started });
    if (ok) return log;
  }
  log.gaveUp = true;
  return log;
}

async function startSyncApp(): Promise<{ url: string; close(): Promise<void> }> {
  const store = createPostgresStore({
    pool: syncPool,
    schema,
    connectTimeoutMs: 150,
    statementTimeoutMs: 150,
  });
  const hub = createPaymentHub({ store, handlerTimeoutMs: 200 });
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(
      `INSERT INTO "${schema}".effects (event_id, txn, type, worker) VALUES ($1, $2, $3, 'sync')`,
      [event.id, event.transactionId, event.type],
    );
  });
  const server = express()
    .post('/webhooks/test', createWebhookMiddleware(hub, createTestProvider()))
    .listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/test`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
    },
  };
}

jest.setTimeout(60_000);
it('an outage longer than NewPay retries: sync loses the payments, async acknowledges at once and processes each once', async () => {
  worker = await startWorkerProcess('outage', schema, { ATTEMPT_TIMEOUT_MS: '300' });
  sync = await startSyncApp();
  // The locking session is not one of the async app's 20 connections: its 20 posts need them all.
  locker = await syncPool.connect();
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE "${schema}".effects IN ACCESS EXCLUSIVE MODE`);
  const lockedAt = Date.now();

  const asyncTxns = Array.from({ length: ASYNC_PAYMENTS }, (_, i) => `A${i}`);
  const syncTxns = Array.from({ length: SYNC_PAYMENTS }, (_, i) => `S${i}`);
  const [asyncLogs, syncLogs] = await Promise.all([
    Promise.all(asyncTxns.map((t) => newpayDelivers(app.url, t))),
    Promise.all(syncTxns.map((t) => newpayDelivers(sync!.url, t))),
  ]);
  // Async: one POST each, answered with the success body at once (the listener never ran yet).
  for (const log of asyncLogs) {
    expect(log.answers.map((a) => a.ok)).toEqual([true]);
    // "At once": while the table is still locked, long before NewPay's first retry would be due
    // in real time (10 s); here the 20 posts run at once on a shared 2-core machine.
    expect(log.answers[0]!.ms).toBeLessThan(NEWPAY_RETRIES_MS[0]! * 1_000);
  }
  // Sync: four answers, all "retry"; NewPay stops there.
  for (const log of syncLogs) {
    expect(log.answers.map((a) => a.ok)).toEqual([false, false, false, false]);
    expect(log.gaveUp).toBe(true);
  }
  const whileDown = await app.queue.stats();
  expect(whileDown.depth).toBe(ASYNC_PAYMENTS);
  expect(whileDown.oldestPendingAgeMs).toBeGreaterThan(0);
  await waitFor(
    'failed attempts recorded',
    async () => (await app.queue.stats()).retrying > 0,
    5_000,
  );
  expect(Date.now() - lockedAt).toBeLessThan(LOCK_MS);
  await new Promise((r) => setTimeout(r, LOCK_MS - (Date.now() - lockedAt)));
  const beforeRelease = await app.queue.stats();

  await locker.query('ROLLBACK');
  locker.release();
  locker = undefined;
  await waitFor(
    'the queue drained',
    async () => (await app.queue.stats()).depth === 0,
    20_000,
  ).catch(async (error) => {
    const jobs = await pool.query(
      `SELECT state, retry_count, count(*) FROM "${schema}".job GROUP BY 1, 2`,
    );
    console.log(
      JSON.stringify(await app.queue.stats()),
      JSON.stringify(jobs.rows),
      worker!.stderr().slice(-3000),
    );
    throw error;
  });
  // Listeners stuck on the lock when the sync hub timed out may finish late; give them a moment.
  await new Promise((r) => setTimeout(r, 500));
  const counts = await effectCounts(pool, schema);
  for (const t of asyncTxns) expect(counts.get(`test-gateway:${t}:paid`)).toBe(1);
  const syncProcessed = syncTxns.filter((t) => counts.has(`test-gateway:${t}:paid`)).length;
  expect(syncProcessed).toBe(0);
  const after = await app.queue.stats();
  expect(after).toEqual({ depth: 0, oldestPendingAgeMs: null, attempts: 0, retrying: 0, dead: 0 });
  reportCounts('async outage', {
    lockMs: LOCK_MS,
    newpayScheduleMs: NEWPAY_RETRIES_MS,
    asyncAckMs: Math.max(...asyncLogs.map((l) => l.answers[0]!.ms)),
    asyncProcessed: asyncTxns.filter((t) => counts.get(`test-gateway:${t}:paid`) === 1).length,
    syncGaveUp: syncLogs.filter((l) => l.gaveUp).length,
    syncProcessed,
    failedAttemptsWhileDown: beforeRelease.attempts,
  });
});
