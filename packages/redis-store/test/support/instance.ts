/**
 * One merchant app instance for the cross-process tests, run as its own Node process with
 * `node --import tsx`: an Express app with its own hub, sharing only Redis with the other instance.
 * Environment: REDIS_URL, PREFIX, INSTANCE_NAME; optional HANDLER_TIMEOUT_MS, LEASE_MS,
 * COMMAND_TIMEOUT_MS, STORE=memory for the in-process store instead of Redis (restart tests), and
 * STORE_TRACE=1 to record every store call (GET /trace?key=...). Prints one JSON line when it
 * listens; GET /stats returns its counts.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  createMemoryStore,
  createPaymentHub,
  createWebhookMiddleware,
  type Logger,
  type ReceiveOutcome,
} from '@payhook/core';
import { createRedisStore } from '@payhook/redis-store';
import { createTestProvider } from '@payhook/core/testing';
import { traceStore, type TraceEntry } from './trace-store';

const numberFromEnv = (name: string): number | undefined =>
  process.env[name] ? Number(process.env[name]) : undefined;

async function main(): Promise<void> {
  const name = process.env.INSTANCE_NAME ?? 'instance';
  const lostClaims: Record<string, number> = {};
  const storeLog: string[] = [];
  const remember = (obj: unknown, msg?: string): void => void storeLog.push(msg ?? String(obj));
  const logger: Logger = {
    debug: () => undefined,
    info: remember,
    warn: remember,
    error: remember,
  };
  const memory = process.env.STORE === 'memory';
  const trace: TraceEntry[] = [];
  const created = memory
    ? createMemoryStore()
    : createRedisStore({
        url: process.env.REDIS_URL!,
        prefix: process.env.PREFIX!,
        commandTimeoutMs: numberFromEnv('COMMAND_TIMEOUT_MS'),
        logger,
        onLostClaim: (_key, operation) =>
          void (lostClaims[operation] = (lostClaims[operation] ?? 0) + 1),
      });
  if (!memory) await (created as ReturnType<typeof createRedisStore>).ready();
  const store = process.env.STORE_TRACE ? traceStore(created, trace) : created;
  const hub = createPaymentHub({
    store,
    handlerTimeoutMs: numberFromEnv('HANDLER_TIMEOUT_MS') ?? 5_000,
    leaseMs: numberFromEnv('LEASE_MS') ?? 15_000,
  });
  const dispatched: Record<string, number> = {};
  const outcomes: Partial<Record<ReceiveOutcome, number>> = {};
  const errors: string[] = [];
  hub.onAny(async (event) => {
    dispatched[event.id] = (dispatched[event.id] ?? 0) + 1;
    // A little work, so that redeliveries arrive while the claim is held.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
  });
  /** Event ids whose commit the hub gave up (ERR_COMMIT_FAILED). */
  const failedCommits: string[] = [];
  hub.on('error', (error, context) => {
    errors.push(error.code);
    if (error.code === 'ERR_COMMIT_FAILED' && context?.event) failedCommits.push(context.event.id);
  });

  const app = express();
  app.use(
    '/webhooks/test',
    createWebhookMiddleware(hub, createTestProvider(), {
      onResult: (result) => {
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      },
    }),
  );
  // The trace of the keys asked for (`?key=a&key=b`), or all of it.
  app.get('/trace', (req, res) => {
    const asked = ([] as unknown[]).concat(req.query.key ?? []).map(String);
    res.json(asked.length ? trace.filter((e) => asked.includes(e.key)) : trace);
  });
  app.get('/stats', (_req, res) => {
    res.json({
      ...{ name, pid: process.pid, dispatched, outcomes, errors, failedCommits },
      ...{ lostClaims, storeLog },
    });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(
      JSON.stringify({
        ready: true,
        name,
        pid: process.pid,
        port,
        // The test checks these: the child must run the workspace sources, not a stale build.
        core: require.resolve('@payhook/core'),
        redisStore: require.resolve('@payhook/redis-store'),
      }) + '\n',
    );
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      (store.close?.() ?? Promise.resolve()).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`instance failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
