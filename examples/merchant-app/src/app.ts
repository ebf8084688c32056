import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
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
} as const;

export interface MerchantApp {
  url: string;
  hub: PaymentHub;
  orders: OrdersTable;
  lailaolab?: LailaolabSource;
  /** Set when the app runs on PostgreSQL (DATABASE_URL). */
  database?: MerchantDatabase;
  close(): Promise<void>;
}

/** Builds the Express app, mounts every configured gateway and listens on `port` (0 = any). */
export async function startMerchantApp(
  config: MerchantConfig,
  options: { port?: number; log?: (line: string) => void; databaseUrl?: string } = {},
): Promise<MerchantApp> {
  const log = options.log ?? ((line: string) => console.log(line));
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  const database = databaseUrl
    ? await connectDatabase(databaseUrl, process.env.PAYHOOK_SCHEMA)
    : undefined;
  let hub: PaymentHub;
  if (database) {
    const onPostgres = createPaymentHub({ store: database.store });
    attachDatabaseOrders(onPostgres, database.table);
    hub = onPostgres;
  } else hub = createPaymentHub();
  const orders = createOrdersTable();
  attachOrderListeners(hub, orders, log);

  const app = express();
  // Webhooks first: each middleware reads and verifies the raw bytes itself.
  if (config.newpay) app.use(ROUTES.newpay, createNewpayMiddleware(hub, config.newpay));
  if (config.signedParam)
    app.use(ROUTES.signedParam, createSignedParamMiddleware(hub, config.signedParam));
  if (config.cashy) app.use(ROUTES.cashy, createPayinMiddleware(hub, config.cashy));
  let lailaolab: LailaolabSource | undefined;
  if (config.lailaolab) {
    lailaolab = createLailaolabSource(hub, config.lailaolab);
    app.use(ROUTES.lailaolab, createLailaolabMiddleware(hub, { source: lailaolab }));
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
    res.status(201).json(
      orders.create({
        id: id as string,
        gateway: gateway as string,
        amount: amount as string,
        currency: currency as string,
      }),
    );
  });

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
    async close() {
      await lailaolab?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database?.close();
    },
  };
}
