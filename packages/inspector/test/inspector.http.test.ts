import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ConfigError, createMemoryInbox, createPaymentHub, type Inbox } from '@payhook/core';
import { postDelivery, signedDelivery } from '@payhook/core/testing';
import { createInspector, type InspectorOptions } from '../src';
import { ADMIN, basicHeader, createDeadLetterList, startShop, type Shop } from './helpers';

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('options are checked at construction', () => {
  const hub = createPaymentHub();
  const auth = { basic: [{ username: 'ops', password: 'long enough' }] };
  it.each<[string, Partial<InspectorOptions>, RegExp]>([
    ['no auth', { auth: undefined }, /option "auth" is required/],
    ['no login', { auth: { basic: [] } }, /option "auth" needs a guard function/],
    [
      'a short password',
      { auth: { basic: [{ username: 'ops', password: 'short' }] } },
      /auth\.basic\[0\]\.password/,
    ],
    [
      'a user name with a colon',
      { auth: { basic: [{ username: 'a:b', password: 'long enough' }] } },
      /auth\.basic\[0\]\.username/,
    ],
    ['a guard that is not a function', { auth: { guard: 'yes' } as never }, /auth\.guard/],
    [
      'a hub without inbox',
      { hub: createPaymentHub({ inbox: false }) },
      /option "inbox" is required/,
    ],
    ['a page size out of range', { pageSize: 0 }, /pageSize/],
    [
      'a dead-letter source without retryAll',
      { deadLetters: { list: async () => [], retry: async () => 0 } as never },
      /deadLetters\.retryAll/,
    ],
    ['a short CSRF secret', { csrfSecret: 'short' }, /csrfSecret/],
  ])('refuses %s with a ConfigError', (_what, patch, message) => {
    const build = () => createInspector({ hub, auth, ...patch } as InspectorOptions);
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });
});

describe('a guard of the merchant', () => {
  it('decides who gets in and who may write; a read-only user gets no form and a 403', async () => {
    const hub = createPaymentHub();
    const seen: string[] = [];
    const inspector = createInspector({
      hub,
      auth: {
        guard: async (req) => {
          seen.push(String(req.headers['x-user']));
          if (req.headers['x-user'] === 'alice') return { name: 'alice', write: true };
          if (req.headers['x-user'] === 'bob') return { name: 'bob', write: false };
          return null;
        },
      },
    });
    const { url, server } = await listen((req, res) => inspector(req, res));
    try {
      const none = await fetch(`${url}/`);
      expect(none.status).toBe(401);
      // A guard's refusal asks for no basic credentials: its login is the merchant's own.
      expect(none.headers.get('www-authenticate')).toBeNull();
      const bob = await fetch(`${url}/`, { headers: { 'x-user': 'bob' } });
      expect(bob.status).toBe(200);
      expect(await bob.text()).toContain('read-only login');
      const post = await fetch(`${url}/deliveries/x/replay`, {
        method: 'POST',
        headers: { 'x-user': 'bob' },
      });
      expect(post.status).toBe(403);
      expect((await fetch(`${url}/`, { headers: { 'x-user': 'alice' } })).status).toBe(200);
      expect(seen).toEqual(['undefined', 'bob', 'bob', 'alice']);
    } finally {
      await close(server);
    }
  });
});

describe('pages over real HTTP', () => {
  let shop: Shop;
  const get = (path: string, user = ADMIN) =>
    fetch(`${shop.url}/payhook${path}`, { headers: { authorization: basicHeader(user) } });
  beforeAll(async () => {
    shop = await startShop();
    await postDelivery(`${shop.url}/webhooks/test`, signedDelivery({ txn: 'H-1', order: 'HO-1' }));
  });
  afterAll(() => shop.close());

  it('answers 404 for an unknown page or delivery, 405 for a wrong method', async () => {
    expect((await get('/nope')).status).toBe(404);
    const missing = await get('/deliveries/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No delivery 00000000-0000-0000-0000-000000000000');
    const wrong = await fetch(`${shop.url}/payhook/`, {
      method: 'DELETE',
      headers: { authorization: basicHeader(ADMIN) },
    });
    expect(wrong.status).toBe(405);
  });

  it('answers a hand-edited page cursor with 400 and a way back, not a 500', async () => {
    const page = await get('/?cursor=abc');
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('start from the first page');
  });

  it('shows credentials in headers as [redacted], with the signature kept for replays', async () => {
    const delivery = signedDelivery({ txn: 'H-2', order: 'HO-2' });
    const posted = await postDelivery(`${shop.url}/webhooks/test`, {
      ...delivery,
      headers: {
        ...delivery.headers,
        authorization: 'Bearer sk_live_SECRET1',
        cookie: 'session=SECRET2',
        'x-forwarded-for': '203.0.113.9',
      },
    });
    expect(posted.status).toBe(200);
    const id = (await shop.hub.inbox!.list({ orderId: 'HO-2' })).entries[0]!.id;
    const html = await (await get(`/deliveries/${id}`)).text();
    expect(html).not.toMatch(/SECRET1|SECRET2/);
    expect(html).toMatch(/<th>authorization<\/th><td>\[redacted\]<\/td>/);
    expect(html).toMatch(/<th>cookie<\/th><td>\[redacted\]<\/td>/);
    expect(html).toContain(delivery.headers['x-test-signature']);
    // The merchant's own list on top of the inbox's.
    const more = createInspector({
      hub: shop.hub,
      auth: { basic: [ADMIN] },
      redactHeaders: ['X-Forwarded-For'],
    });
    const { url, server } = await listen((req, res) => more(req, res));
    try {
      const page = await fetch(`${url}/deliveries/${id}`, {
        headers: { authorization: basicHeader(ADMIN) },
      });
      const text = await page.text();
      expect(text).not.toContain('203.0.113.9');
      expect(text).toMatch(/<th>x-forwarded-for<\/th><td>\[redacted\]<\/td>/);
    } finally {
      await close(server);
    }
  });

  it('filters by time range (UTC) and outcome', async () => {
    const orders = async (query: string) =>
      [
        ...(await (await get(`/?${query}`)).text()).matchAll(/<td class="order">([^<]*)<\/td>/g),
      ].map((m) => m[1]);
    const soon = new Date(Date.now() + 60_000).toISOString().slice(0, 16);
    const past = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    expect(await orders(`from=${soon}`)).toEqual([]);
    expect(await orders(`from=${past}&to=${soon}`)).toContain('HO-1');
    expect(await orders(`to=${past}`)).toEqual([]);
    expect(await orders('outcome=processed')).toContain('HO-1');
    expect(await orders('outcome=rejected')).toEqual([]);
  });

  it('sends pages that run no script and are never cached', async () => {
    const page = await get('/');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/script-src/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('refuses a dead-letter retry without the CSRF token, and retries nothing', async () => {
    const response = await fetch(`${shop.url}/payhook/dead-letters/retry-all`, {
      method: 'POST',
      headers: {
        authorization: basicHeader(ADMIN),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'csrf=',
    });
    expect(response.status).toBe(403);
    expect(shop.deadLetters.retried).toEqual([]);
  });

  it('answers 409 when no provider was given for the delivery to replay, and replays nothing', async () => {
    const inbox = shop.hub.inbox!;
    const inspector = createInspector({
      hub: shop.hub,
      auth: { basic: [ADMIN] },
      csrfSecret: 'a-shared-secret-of-16+',
    });
    const { url, server } = await listen((req, res) => inspector(req, res));
    try {
      const id = (await inbox.list({ provider: 'test-gateway' })).entries[0]!.id;
      const page = await (
        await fetch(`${url}/deliveries/${id}`, { headers: { authorization: basicHeader(ADMIN) } })
      ).text();
      const token = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      const before = (await inbox.list({}, { limit: 500 })).entries.length;
      const replay = await fetch(`${url}/deliveries/${id}/replay`, {
        method: 'POST',
        headers: {
          authorization: basicHeader(ADMIN),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `csrf=${encodeURIComponent(token)}`,
      });
      expect(replay.status).toBe(409);
      expect(await replay.text()).toContain('No test-gateway provider is given to the inspector');
      expect((await inbox.list({}, { limit: 500 })).entries.length).toBe(before);
    } finally {
      await close(server);
    }
  });
});

describe('a failing inbox', () => {
  it('is logged and passed to Express as an error; the page answers 500 without it', async () => {
    const inner = createMemoryInbox();
    const broken: Inbox = { ...inner, list: () => Promise.reject(new Error('inbox down')) };
    const errors: unknown[] = [];
    const hub = createPaymentHub({
      inbox: broken,
      logger: { debug() {}, info() {}, warn() {}, error: (o: unknown) => void errors.push(o) },
    });
    const inspector = createInspector({
      hub,
      auth: { basic: [ADMIN] },
      deadLetters: createDeadLetterList([]),
    });
    const app = express();
    app.use('/payhook', inspector);
    app.use(
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).send(`handled: ${error.message}`);
      },
    );
    const mounted = await listen(app);
    const bare = await listen((req, res) => inspector(req, res));
    try {
      const viaExpress = await fetch(`${mounted.url}/payhook/`, {
        headers: { authorization: basicHeader(ADMIN) },
      });
      expect([viaExpress.status, await viaExpress.text()]).toEqual([500, 'handled: inbox down']);
      const viaNode = await fetch(`${bare.url}/`, {
        headers: { authorization: basicHeader(ADMIN) },
      });
      expect(viaNode.status).toBe(500);
      expect(await viaNode.text()).not.toContain('inbox down');
      expect(errors).toHaveLength(2);
    } finally {
      await close(mounted.server);
      await close(bare.server);
    }
  });
});
