import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { ensureChromium } from './chromium';
import {
  createMemoryInbox,
  createPaymentHub,
  createWebhookMiddleware,
  type PaymentEvent,
  type PaymentHub,
} from '@payhook/core';
import {
  createStatusTestGateway,
  createTestProvider,
  type StatusTestGateway,
} from '@payhook/core/testing';
import { createPayinMiddleware } from '@payhook/payin';
import { createCashyFixtures, type CashyFixtures } from '@payhook/testing';
import {
  createInspector,
  createPayhookMetrics,
  type DeadLetter,
  type DeadLetterSource,
  type PayhookMetrics,
} from '../src';

/**
 * The dead-letter interface as the async mode will provide it, kept in memory: retry() takes a
 * letter off the list and remembers it, as a queue would put it back to work.
 */
export function createDeadLetterList(
  letters: DeadLetter[],
): DeadLetterSource & { retried: string[] } {
  const retried: string[] = [];
  return {
    retried,
    list: async () => [...letters],
    async retry(id) {
      const at = letters.findIndex((l) => l.id === id);
      if (at < 0) throw new Error(`no dead letter ${id}`);
      retried.push(...letters.splice(at, 1).map((l) => l.id));
    },
    async retryAll() {
      const all = letters.splice(0);
      retried.push(...all.map((l) => l.id));
      return all.length;
    },
  };
}

/** Core's test gateway with a status API over its own record of payments (fast sweep schedule). */
export type StatusGateway = StatusTestGateway;
export const createStatusGateway = (): StatusGateway =>
  createStatusTestGateway({ sweep: { firstCheckMs: 1, maxIntervalMs: 5 } });

/** Debian's Chromium, headless, nothing downloaded and nothing phoning home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export const ADMIN = { username: 'ops', password: 'correct horse battery', write: true };
export const VIEWER = { username: 'viewer', password: 'only-looking-here', write: false };

export interface Shop {
  url: string;
  hub: PaymentHub;
  cashy: CashyFixtures;
  /** The test gateway's status API, for awaited payments (`hub.expectPayment(gateway.provider, ...)`). */
  gateway: StatusGateway;
  metrics: PayhookMetrics;
  paid: PaymentEvent[];
  deadLetters: ReturnType<typeof createDeadLetterList>;
  /** Rebuilds the Cashy middleware with the gateway's real apiKey (it starts with a wrong one). */
  fixCashyKey(): void;
  close(): Promise<void>;
}

/**
 * A merchant app as the README mounts it, on a real port: Cashy (configured with a wrong apiKey,
 * so its deliveries are refused until fixed) and core's test gateway, the inspector at /payhook
 * (basic auth), a read-only one at /payhook-ro, and /metrics. The hub sweeps awaited payments only
 * when told (`hub.sweep()`, or the page's button).
 */
export async function startShop(): Promise<Shop> {
  const cashy = createCashyFixtures();
  const metrics = createPayhookMetrics({ providers: ['cashy', 'test-gateway'] });
  const hub = createPaymentHub({
    inbox: metrics.inbox(createMemoryInbox()),
    awaited: { sweepEveryMs: 0 },
  });
  metrics.watch(hub);
  const gateway = createStatusGateway();
  const paid: PaymentEvent[] = [];
  hub.on(
    'payment.completed',
    metrics.timed(async (event: PaymentEvent) => void paid.push(event)),
  );
  hub.on('payment.failed', async () => undefined);

  let cashyMiddleware = createPayinMiddleware(hub, {
    ...cashy.providerOptions,
    apiKey: 'a-key-that-is-not-the-gateways',
  });
  const testGateway = createWebhookMiddleware(hub, createTestProvider());
  const testProvider = createTestProvider();
  const providers = () => [cashyMiddleware, testProvider];

  const app = express();
  app.use('/webhooks/cashy', (req, res) => cashyMiddleware(req, res));
  app.use('/webhooks/test', testGateway);
  const auth = { basic: [ADMIN, VIEWER] };
  const deadLetters = createDeadLetterList(
    ['a', 'b', 'c'].map((n, i) => ({
      id: `dl-${n}`,
      provider: 'test-gateway',
      eventId: `test-gateway:payment:DL-${n}`,
      failedAt: new Date(Date.UTC(2026, 11, 1, 9, i)),
      attempts: 8,
      error: { code: 'ERR_LISTENER_FAILED', message: `<b>listener ${n}</b> threw` },
    })),
  );
  app.use('/payhook', createInspector({ hub, auth, providers, pageSize: 5, deadLetters }));
  app.use('/payhook-ro', createInspector({ hub, auth, providers, readOnly: true }));
  app.get('/metrics', metrics.handler);

  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hub,
    cashy,
    gateway,
    metrics,
    paid,
    deadLetters,
    fixCashyKey() {
      cashyMiddleware = createPayinMiddleware(hub, cashy.providerOptions);
    },
    async close() {
      metrics.close();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const basicHeader = (user: { username: string; password: string }): string =>
  `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
