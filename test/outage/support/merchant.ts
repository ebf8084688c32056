/**
 * One merchant process for the outage test, run with `node --import tsx`: NewPay, PayCools
 * (signed-param) and Cashy mounted on one hub whose store and awaited-payment list are in this
 * process (LIST=memory), in Redis (LIST=redis) or in PostgreSQL (LIST=postgres). Environment:
 * OUTAGE_CONFIG, JSON of MerchantConfig. Prints one JSON line when it listens, then one per
 * payment event and per overdue notice. A control server (POST /orders, /down, /up) lets the
 * test await orders and, with the memory list, close and reopen the webhook port while the
 * process (and its memory) survives.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  createPaymentHub,
  type AwaitedList,
  type IdempotencyStore,
  type PaymentHub,
} from '@payhook/core';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createPayinMiddleware } from '@payhook/payin';
import { createSignedParamMiddleware } from '@payhook/signed-param';

export interface MerchantConfig {
  list: 'memory' | 'redis' | 'postgres';
  webhookPort: number;
  redisUrl?: string;
  prefix?: string;
  databaseUrl?: string;
  schema?: string;
  sweepEveryMs: number;
  schedule: Record<string, { firstCheckMs: number; maxIntervalMs: number }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  options: { newpay: any; cashy: any; signedParam: any };
}

const print = (line: object): void => void process.stdout.write(JSON.stringify(line) + '\n');

async function backends(
  config: MerchantConfig,
): Promise<{ store?: IdempotencyStore<unknown>; list?: AwaitedList; close(): Promise<void> }> {
  if (config.list === 'redis') {
    const { createRedisStore, createRedisAwaitedList } = await import('@payhook/redis-store');
    const store = createRedisStore({ url: config.redisUrl!, prefix: config.prefix! });
    await store.ready();
    const list = createRedisAwaitedList({ store });
    return { store, list, close: () => store.close() };
  }
  if (config.list === 'postgres') {
    const { Pool } = await import('pg');
    const { createPostgresStore, createPostgresAwaitedList, migrate } =
      await import('@payhook/postgres');
    const pool = new Pool({ connectionString: config.databaseUrl, max: 8 });
    await migrate(pool, { schema: config.schema });
    const store = createPostgresStore({ pool, schema: config.schema });
    const list = createPostgresAwaitedList({ pool, schema: config.schema });
    return { store: store as IdempotencyStore<unknown>, list, close: () => pool.end() };
  }
  return { close: async () => undefined };
}

function mount(hub: PaymentHub, config: MerchantConfig) {
  const o = config.options;
  return {
    newpay: createNewpayMiddleware(hub, o.newpay),
    'signed-param': createSignedParamMiddleware(hub, o.signedParam),
    cashy: createPayinMiddleware(hub, o.cashy),
  };
}

async function body(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length
    ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>)
    : {};
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.OUTAGE_CONFIG!) as MerchantConfig;
  const { store, list, close } = await backends(config);
  const hub = createPaymentHub({
    store,
    handlerTimeoutMs: 4_000,
    leaseMs: 10_000,
    awaited: { list, sweepEveryMs: config.sweepEveryMs, leaseMs: 5_000, schedule: config.schedule },
  });
  hub.onAny((event) => print({ event: event.id, order: event.orderId, pid: process.pid }));
  hub.on('awaited.overdue', (p) => print({ overdue: p.key, pid: process.pid }));
  const middlewares = mount(hub, config);
  const app = express();
  app.use('/webhooks/newpay', middlewares.newpay);
  app.use('/webhooks/paycools', middlewares['signed-param']);
  app.use('/webhooks/cashy', middlewares.cashy);
  let webhooks: Server | undefined;
  const open = () =>
    new Promise<void>((resolve) => {
      webhooks = createServer(app).listen(config.webhookPort, '127.0.0.1', () => resolve());
    });
  await open();
  const control = createServer((req, res) => {
    void (async () => {
      const b = await body(req);
      if (req.url === '/orders') {
        const gateway = b.gateway as keyof typeof middlewares;
        const until = Date.now() + Number(b.untilMs);
        await hub.expectPayment(middlewares[gateway].provider, { orderId: b.orderId!, until });
      } else if (req.url === '/down') {
        webhooks!.closeAllConnections();
        await new Promise((r) => webhooks!.close(r));
      } else if (req.url === '/up') await open();
      res.end('{}');
    })().catch((error: Error) => {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: error.message }));
    });
  });
  control.listen(0, '127.0.0.1', () => {
    const { port } = control.address() as AddressInfo;
    print({ ready: true, pid: process.pid, control: port });
  });
  process.once(
    'SIGTERM',
    () =>
      void hub
        .close()
        .then(close)
        .then(() => process.exit(0)),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error) + '\n');
  process.exit(1);
});
