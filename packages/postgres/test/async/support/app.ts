/**
 * The async tests' harness: a merchant app (Express, a hub on the PostgreSQL store, the queue
 * attached), the merchant's `effects` table (no unique key: a second run of a listener would show
 * as a second row), and worker processes started with `node --import tsx` on the CLI function.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import express from 'express';
import type { Pool } from 'pg';
import { createPaymentHub, createWebhookMiddleware, type ReceiveOutcome } from '@payhook/core';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { createPostgresStore, migrate } from '../../../src';
import { attachQueue, createPaymentQueue, type PaymentQueueOptions } from '../../../src/async';

export const ROOT = resolve(__dirname, '../../../../..');
export { DATABASE_URL, dropSchema, testPool, testSchema } from '../../support/db';

/** The store's tables, the queue's, and the merchant's effects table. */
export async function setUpAsyncSchema(pool: Pool, schema: string): Promise<void> {
  await migrate(pool, { schema });
  await pool.query(
    `CREATE TABLE "${schema}".effects (
       seq bigserial PRIMARY KEY, event_id text NOT NULL, txn text NOT NULL, type text NOT NULL,
       worker text NOT NULL)`,
  );
}

/** The queue options of the tests: seconds instead of hours. */
export function fastQueueOptions(
  pool: Pool,
  schema: string,
  extra: Partial<PaymentQueueOptions> = {},
): PaymentQueueOptions {
  return {
    pool,
    schema,
    retryLimit: 20,
    retryDelaySeconds: 1,
    retryBackoff: false,
    attemptTimeoutMs: 1_000,
    // The attempt's bound: 300 + 1,000 + 300 + 15 × 500 + 1,000 margin = 10,100 ms < 11 s. A
    // statement deadline much shorter fails attempts spuriously on a loaded 2-core machine.
    statementTimeoutMs: 500,
    connectTimeoutMs: 300,
    orderLockTimeoutMs: 300,
    expireInSeconds: 11,
    boss: { maintenanceIntervalSeconds: 1 },
    ...extra,
  };
}

export interface AsyncApp {
  url: string;
  outcomes: Record<string, number>;
  close(): Promise<void>;
  queue: ReturnType<typeof createPaymentQueue>;
  hub: ReturnType<typeof createPaymentHub>;
}

/** The web process: verify, claim in a PostgreSQL transaction, queue, commit, acknowledge. */
export async function startAsyncApp(options: PaymentQueueOptions): Promise<AsyncApp> {
  const store = createPostgresStore({ pool: options.pool, schema: options.schema });
  const hub = createPaymentHub({ store });
  const queue = createPaymentQueue(options);
  await queue.start();
  attachQueue(hub, queue);
  const outcomes: Record<string, number> = {};
  const app = express();
  app.post(
    '/webhooks/test',
    createWebhookMiddleware(hub, createTestProvider(), {
      onResult: (result: { outcome: ReceiveOutcome }) => {
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      },
    }),
  );
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/test`,
    outcomes,
    hub,
    queue,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await queue.stop();
      await store.close();
    },
  };
}

/** How often each event took effect in the merchant's table. */
export async function effectCounts(pool: Pool, schema: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ event_id: string; n: string }>(
    `SELECT event_id, count(*) AS n FROM "${schema}".effects GROUP BY event_id`,
  );
  return new Map(rows.map((r) => [r.event_id, Number(r.n)]));
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** `payhook-postgres worker` as its own process (runWorkerCommand), with support/listeners.ts. */
export async function startWorkerProcess(
  name: string,
  schema: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/postgres/test/async/support/worker-process.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
        WORKER_NAME: name,
        SCHEMA: schema,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((resolveStarted, reject) => {
    const onData = (c: Buffer): void => {
      stdout += c.toString();
      if (stdout.includes('payhook-postgres worker: started')) resolveStarted();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker ${name} exited ${code}: ${stderr}`)));
  });
  return { name, child, stdout: () => stdout, stderr: () => stderr };
}

export async function killWorker(worker: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

type Payload = Parameters<typeof signedDelivery>[0];

/**
 * Hands the hub one signed delivery per payload, `concurrency` groups at a time; the payloads of
 * one group go one after the other, as a gateway sends a payment's completion, then its refund.
 */
export async function receiveAll(
  hub: AsyncApp['hub'],
  groups: Array<Payload | Payload[]>,
  concurrency = 8,
): Promise<Record<string, number>> {
  const provider = createTestProvider();
  const outcomes: Record<string, number> = {};
  const errors = new Set<string>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < groups.length) {
      const group = groups[next++]!;
      for (const payload of Array.isArray(group) ? group : [group]) {
        const { body, headers } = signedDelivery(payload);
        const result = await hub.receive(provider, {
          body: Buffer.from(body),
          headers,
          transport: 'http',
          receivedAt: new Date(),
        });
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
        if (result.error && result.outcome !== 'processed') errors.add(result.error.message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (errors.size > 0) outcomes[`errors: ${[...errors].slice(0, 3).join(' | ')}`] = errors.size;
  return outcomes;
}

/** pg-boss's job rows of the main queue by state and retry count (jobs a dead worker held retry). */
export async function jobStates(pool: Pool, schema: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; retried: boolean; n: string }>(
    `SELECT state, retry_count > 0 AS retried, count(*) AS n FROM "${schema}".job
     WHERE name = 'payhook_events' GROUP BY 1, 2`,
  );
  return Object.fromEntries(
    rows.map((r) => [`${r.state}${r.retried ? '(retried)' : ''}`, Number(r.n)]),
  );
}
