/**
 * One merchant app as its own Node process (`node --import tsx`), for the crash and cross-process
 * tests: an Express app whose listener marks the order paid through the event's transaction.
 * Environment: DATABASE_URL, SCHEMA, INSTANCE_NAME; POOL_MAX (default 40); CRASH_BATCH: each order's
 * first run SIGKILLs the process after its UPDATE and before the commit, once CRASH_BATCH runs
 * wait there (or 1 s after the first). Prints one JSON line when it listens; GET /stats counts.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Pool } from 'pg';
import { createPaymentHub, createWebhookMiddleware, type ReceiveOutcome } from '@payhook/core';
import { createTestProvider } from '@payhook/core/testing';
import { createPostgresStore } from '@payhook/postgres';

async function main(): Promise<void> {
  const name = process.env.INSTANCE_NAME ?? 'instance';
  const schema = process.env.SCHEMA!;
  const crashBatch = Number(process.env.CRASH_BATCH ?? 0);
  const pool = new Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.POOL_MAX ?? 40),
  });
  pool.on('error', () => undefined);
  const side = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  const store = createPostgresStore({ pool, schema });
  await store.ready();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 5_000, leaseMs: 15_000 });
  const dispatched: Record<string, number> = {};
  const outcomes: Partial<Record<ReceiveOutcome, number>> = {};
  const errors: Record<string, number> = {};
  let doomed = 0;
  const crash = (): void => void process.kill(process.pid, 'SIGKILL');
  hub.on('payment.completed', async (event, { tx }) => {
    dispatched[event.id] = (dispatched[event.id] ?? 0) + 1;
    await tx.query(`UPDATE "${schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`, [
      event.orderId,
    ]);
    if (!crashBatch) return;
    // Committed at once on its own connection: this order's first run is the one that dies.
    const first = await side.query(
      `INSERT INTO "${schema}".crashes (id) VALUES ($1) ON CONFLICT DO NOTHING`,
      [event.orderId],
    );
    if (first.rowCount !== 1) return;
    if (++doomed >= crashBatch) crash();
    else if (doomed === 1) setTimeout(crash, 1_000);
    await new Promise(() => undefined); // never resolves: the process dies before the commit
  });
  hub.on('error', (error) => void (errors[error.code] = (errors[error.code] ?? 0) + 1));
  const app = express();
  app.use(
    '/webhooks/test',
    createWebhookMiddleware(hub, createTestProvider(), {
      onResult: (result) => void (outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1),
    }),
  );
  app.get(
    '/stats',
    (_req, res) => void res.json({ name, pid: process.pid, dispatched, outcomes, errors }),
  );
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ ready: true, name, pid: process.pid, port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    void Promise.all([pool.end(), side.end()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
