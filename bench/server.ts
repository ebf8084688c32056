import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPaymentHub, createWebhookMiddleware, type PaymentHub } from '@payhook/core';
import { createTestProvider } from '@payhook/core/testing';
import { createSignedParamMiddleware } from '@payhook/signed-param';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { createPayinMiddleware } from '@payhook/payin';
import { createRedisStore, type RedisStore } from '@payhook/redis-store';
import type { RouteName } from './lib/deliveries';
import { mountPostgresRoutes, type PgRoute } from './lib/postgres-route';

/**
 * The server side of the load benchmark, run as its own process (`node --import tsx`) so that the
 * load generator does not share its event loop. One Express 5 app carries every route side by side.
 * Commands and counters travel over the IPC channel.
 */

export interface ServerConfig {
  signedParamPublicPem: string;
  newpayPublicPem: string;
  newpayAppId: number;
  payinMerchantId: string;
  payinApiKey: string;
  octokitSecret: string;
  redisUrl: string;
  redisPrefix: string;
  /** The payin-postgres route's database and its schema of the run (dropped at stop). */
  databaseUrl: string;
  postgresSchema: string;
}

export type Counters = Record<RouteName, Record<string, number>>;

const silentLog = { debug() {}, info() {}, warn() {}, error: console.error };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '') as ServerConfig;
  const counters = {} as Counters;
  const bump = (route: RouteName, what: string): void => {
    const c = (counters[route] ??= {});
    c[what] = (c[what] ?? 0) + 1;
  };

  /** A hub per route, with an async listener as business code would have (awaited by the hub). */
  const hubFor = (route: RouteName, store?: RedisStore): PaymentHub => {
    const hub = createPaymentHub({ store });
    hub.onAny(async () => bump(route, 'dispatched'));
    hub.on('duplicate', () => bump(route, 'duplicate'));
    hub.on('unhandled', () => bump(route, 'unhandled'));
    hub.on('error', (e) => bump(route, `error:${e.code}`));
    return hub;
  };

  const store = createRedisStore({ url: config.redisUrl, prefix: config.redisPrefix });
  await store.ready();

  const app = express();
  app.post('/baseline', express.json(), (req, res) => {
    if ((req.body as { id?: unknown })?.id !== undefined) bump('baseline', 'dispatched');
    res.sendStatus(200);
  });
  app.use(
    '/signed-param',
    createSignedParamMiddleware(hubFor('signed-param'), {
      platformPublicKey: config.signedParamPublicPem,
      country: 'PH', // the country of the bench's notifications (channel PH_QRPH_DYNAMIC)
    }),
  );
  app.use(
    '/newpay',
    createNewpayMiddleware(hubFor('newpay'), {
      platformPublicKey: config.newpayPublicPem,
      appId: config.newpayAppId,
    }),
  );
  app.use(
    '/payin',
    createPayinMiddleware(hubFor('payin'), {
      merchantId: config.payinMerchantId,
      apiKey: config.payinApiKey,
    }),
  );
  app.use(
    '/payin-redis',
    createPayinMiddleware(hubFor('payin-redis', store), {
      merchantId: config.payinMerchantId,
      apiKey: config.payinApiKey,
    }),
  );

  // payin-postgres and pg-baseline (the hand-written PostgreSQL route), on one pool.
  const postgres = await mountPostgresRoutes(app, {
    databaseUrl: config.databaseUrl,
    schema: config.postgresSchema,
    payin: { merchantId: config.payinMerchantId, apiKey: config.payinApiKey },
    watch: (hub) => {
      hub.onAny(async () => bump('payin-postgres', 'dispatched'));
      hub.on('duplicate', () => bump('payin-postgres', 'duplicate'));
      hub.on('error', (e) => bump('payin-postgres', `error:${e.code}`));
    },
    bump,
  });
  // Like for like with the octokit peer: core's reference HMAC-SHA256 gateway, same secret.
  app.use(
    '/test-gateway',
    createWebhookMiddleware(
      hubFor('test-gateway'),
      createTestProvider({ secret: config.octokitSecret }),
    ),
  );

  // The peer: @octokit/webhooks verifying X-Hub-Signature-256 (HMAC-SHA256) on the same app.
  const { Webhooks, createNodeMiddleware } = await import('@octokit/webhooks');
  const webhooks = new Webhooks({ secret: config.octokitSecret });
  webhooks.on('push', async () => bump('octokit', 'dispatched'));
  app.post('/octokit', createNodeMiddleware(webhooks, { path: '/octokit', log: silentLog }));

  const server = app.listen(0, '127.0.0.1', () => {
    process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  server.keepAliveTimeout = 60_000;

  process.on('message', async (m: { type: string; route?: PgRoute; orderIds?: string[] }) => {
    if (m.type === 'counters') process.send!({ type: 'counters', counters });
    else if (m.type === 'seed-orders') {
      await postgres.seedOrders(m.route!, m.orderIds!);
      process.send!({ type: 'seeded' });
    } else if (m.type === 'count-start') {
      postgres.startCount();
      process.send!({ type: 'counting' });
    } else if (m.type === 'count-stop')
      process.send!({ type: 'counted', statements: postgres.stopCount() });
    else if (m.type === 'stop') {
      server.close();
      server.closeAllConnections();
      // Leave nothing behind on the shared Redis.
      let removed = 0;
      let cursor = '0';
      do {
        const [next, keys] = await store.client.scan(
          cursor,
          'MATCH',
          `${config.redisPrefix}*`,
          'COUNT',
          1000,
        );
        cursor = next;
        if (keys.length > 0) removed += await store.client.del(...keys);
      } while (cursor !== '0');
      await store.close();
      await postgres.stop();
      process.send!({ type: 'stopped', redisKeysRemoved: removed }, () => process.exit(0));
    }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
