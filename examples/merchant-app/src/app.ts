import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  createMemoryInbox,
  createPaymentHub,
  statusLookupsOf,
  type AnyPaymentProvider,
  type PaymentHub,
} from '@payhook/core';
import {
  createInspector,
  createPayhookMetrics,
  type InspectorAuth,
  type ProviderLike,
} from '@payhook/inspector';
import { createNewpayMiddleware, type NewpayProviderOptions } from '@payhook/newpay-callback';
import { createPayinMiddleware, type PayinProviderOptions } from '@payhook/payin';
import { createSignedParamMiddleware, type SignedParamOptions } from '@payhook/signed-param';
import {
  createLailaolabMiddleware,
  createLailaolabSource,
  type LailaolabSource,
  type LailaolabSourceOptions,
} from '@payhook/lailaolab-socket';
import { attachOrderListeners, createOrdersTable, type OrdersTable } from './orders';
import { attachDatabaseOrders, connectDatabase, type MerchantDatabase } from './postgres';

/** Which gateways to mount and with what keys; a gateway left out is not mounted. */
export interface MerchantConfig {
  newpay?: NewpayProviderOptions;
  signedParam?: SignedParamOptions;
  cashy?: PayinProviderOptions;
  lailaolab?: LailaolabSourceOptions;
}

export const ROUTES = {
  newpay: '/webhooks/newpay',
  signedParam: '/webhooks/paycools',
  cashy: '/webhooks/cashy',
  lailaolab: '/webhooks/lailaolab',
  inspector: '/payhook',
  metrics: '/metrics',
} as const;

export interface MerchantApp {
  url: string;
  hub: PaymentHub;
  /**
   * Awaits an order's payment (when its gateway has a status query): with no webhook by the time
   * the sweeper asks, the gateway's status API settles it. Lailaolab orders are awaited by their
   * transaction id instead (`lailaolab.watch`).
   */
  awaitOrder(order: { id: string; gateway: string }, forMs?: number): Promise<boolean>;
  orders: OrdersTable;
  lailaolab?: LailaolabSource;
  /** Set when the app runs on PostgreSQL (DATABASE_URL). */
  database?: MerchantDatabase;
  close(): Promise<void>;
}

/** Builds the Express app, mounts every configured gateway and listens on `port` (0 = any). */
export async function startMerchantApp(
  config: MerchantConfig,
  options: {
    port?: number;
    log?: (line: string) => void;
    /** Runs on PostgreSQL when set (default `DATABASE_URL`): orders updated in the claim's transaction. */
    databaseUrl?: string;
    /** Mounts the inspector at /payhook (behind this auth) and Prometheus metrics at /metrics. */
    inspector?: { auth: InspectorAuth };
  } = {},
): Promise<MerchantApp> {
  const log = options.log ?? ((line: string) => console.log(line));
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  const database = databaseUrl
    ? await connectDatabase(databaseUrl, process.env.PAYHOOK_SCHEMA)
    : undefined;
  // Every delivery is kept in the inbox (what the inspector shows), counted on its way in.
  const metrics = createPayhookMetrics({ sources: config.lailaolab ? ['lailaolab'] : [] });
  const inbox = metrics.inbox(createMemoryInbox());
  let hub: PaymentHub;
  if (database) {
    const onPostgres = createPaymentHub({ store: database.store, inbox });
    attachDatabaseOrders(onPostgres, database.table);
    hub = onPostgres;
  } else hub = createPaymentHub({ inbox });
  metrics.watch(hub);
  const mounted: ProviderLike[] = [];
  const mount = <M extends ProviderLike>(middleware: M): M => {
    mounted.push(middleware);
    metrics.track(middleware);
    return middleware;
  };
  const orders = createOrdersTable();
  attachOrderListeners(hub, orders, log);
  hub.on('awaited.overdue', (p) =>
    log(`order ${p.orderId ?? p.reference}: no payment by ${new Date(p.until).toISOString()}`),
  );
  const byGateway = new Map<string, AnyPaymentProvider>();

  const app = express();
  // Webhooks first: each middleware reads and verifies the raw bytes itself.
  if (config.newpay) {
    const newpay = mount(createNewpayMiddleware(hub, config.newpay));
    byGateway.set('newpay', newpay.provider);
    app.use(ROUTES.newpay, newpay);
  }
  if (config.signedParam) {
    const paycools = mount(createSignedParamMiddleware(hub, config.signedParam));
    byGateway.set('paycools', paycools.provider);
    app.use(ROUTES.signedParam, paycools);
  }
  if (config.cashy) {
    const cashy = mount(createPayinMiddleware(hub, config.cashy));
    byGateway.set('cashy', cashy.provider);
    app.use(ROUTES.cashy, cashy);
  }
  let lailaolab: LailaolabSource | undefined;
  if (config.lailaolab) {
    lailaolab = createLailaolabSource(hub, config.lailaolab);
    app.use(ROUTES.lailaolab, mount(createLailaolabMiddleware(hub, { source: lailaolab })));
  }
  if (options.inspector) {
    const { auth } = options.inspector;
    app.use(ROUTES.inspector, createInspector({ hub, auth, providers: mounted }));
    app.get(ROUTES.metrics, metrics.handler);
  }
  // The rest of the merchant's app, with its own body parser after the webhooks.
  app.use(express.json());
  app.get('/orders', (_req, res) => {
    res.json(orders.all());
  });
  // Serve mode: create the orders you are about to pay, e.g.
  // curl -XPOST localhost:3000/orders -H 'content-type: application/json' \
  //   -d '{"id":"A-1","gateway":"cashy","amount":"100.10","currency":"IDR"}'
  app.post('/orders', (req, res) => {
    const { id, gateway, amount, currency } = (req.body ?? {}) as Record<string, unknown>;
    if (![id, gateway, amount, currency].every((v) => typeof v === 'string' && v.length > 0)) {
      res.status(400).json({ error: 'id, gateway, amount and currency are required strings' });
      return;
    }
    const order = orders.create({
      id: id as string,
      gateway: gateway as string,
      amount: amount as string,
      currency: currency as string,
    });
    awaitOrder(order).then(
      () => res.status(201).json(order),
      (error: Error) => res.status(503).json({ error: error.message }),
    );
  });
  // An hour to pay; then the `awaited.overdue` notice (logged above) says so.
  const awaitOrder = async (order: { id: string; gateway: string }, forMs = 3_600_000) => {
    const provider = byGateway.get(order.gateway);
    if (!provider || !statusLookupsOf(provider).includes('orderId')) return false;
    await hub.expectPayment(provider, { orderId: order.id, until: Date.now() + forMs });
    return true;
  };

  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hub,
    orders,
    lailaolab,
    database,
    awaitOrder,
    async close() {
      await hub.close();
      metrics.close();
      await lailaolab?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database?.close();
    },
  };
}
