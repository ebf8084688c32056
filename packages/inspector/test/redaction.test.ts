/**
 * Issue 23, item 6: a secret header (core's list, a provider's `secretHeaders`, the hub's
 * `redactHeaders`) is redacted before the inbox stores it, so no page shows its value to anyone,
 * read-only users included, without the inspector's own `redactHeaders` option.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createMemoryInbox, createPaymentHub, createWebhookMiddleware } from '@payhook/core';
import { defineProvider } from '@payhook/core/plugin';
import { createTestProvider, postDelivery, signedDelivery } from '@payhook/core/testing';
import { createInspector } from '../src';
import { basicHeader, VIEWER } from './helpers';

const SECRET = 'sk_live_not_for_viewers_3141';

it('no page of the inspector holds a secret header value; the signature header is shown', async () => {
  const provider = defineProvider({ ...createTestProvider(), secretHeaders: ['X-Callback-Token'] });
  const inbox = createMemoryInbox();
  const hub = createPaymentHub({ inbox, redactHeaders: ['x-shop-secret'] });
  hub.on('payment.completed', () => undefined);
  const app = express();
  app.use('/webhooks/test', createWebhookMiddleware(hub, provider));
  app.use('/payhook', createInspector({ hub, auth: { basic: [VIEWER] } }));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const genuine = signedDelivery({ txn: 'R-1', order: 'RO-1' });
    const secrets = {
      'x-callback-token': SECRET,
      'x-shop-secret': `${SECRET}-shop`,
      'x-webhook-secret': `${SECRET}-wh`,
    };
    const processed = await postDelivery(`${url}/webhooks/test`, {
      body: genuine.body,
      headers: { ...genuine.headers, ...secrets },
    });
    expect(processed.status).toBe(200);
    const forged = await postDelivery(`${url}/webhooks/test`, {
      body: genuine.body,
      headers: { 'x-test-signature': 'beef', ...secrets },
    });
    expect(forged.status).toBe(401);
    const get = async (path: string) => {
      const page = await fetch(`${url}/payhook${path}`, {
        headers: { authorization: basicHeader(VIEWER) },
      });
      expect(page.status).toBe(200);
      return page.text();
    };
    const { entries } = await inbox.list();
    expect(entries).toHaveLength(2);
    const pages = [
      await get('/'),
      ...(await Promise.all(entries.map((e) => get(`/deliveries/${e.id}`)))),
    ];
    for (const html of pages) expect(html).not.toContain(SECRET);
    for (const html of pages.slice(1)) {
      expect(html).toContain('[redacted]');
      expect(html).toContain('x-callback-token');
    }
    expect(entries[0]!.outcome).toBe('rejected');
    expect(pages[1]).toContain('beef'); // the forgery (newest): its signature header is kept
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
