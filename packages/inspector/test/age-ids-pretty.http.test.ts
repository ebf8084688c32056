/**
 * Issue 23, over real HTTP: a replay past the maximum age needs an explicit confirmation, CSRF
 * tokens expire (and cannot be extended), dead-letter ids of any characters can be retried, and the
 * pretty view keeps the number text the gateway sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ConfigError, createMemoryInbox, createPaymentHub } from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { createPayinMiddleware } from '@payhook/payin';
import { buildCashyMessage, signCashyBody } from '@payhook/payin/signing';
import { createInspector, type DeadLetter, type InspectorOptions } from '../src';
import { createCsrfTokens } from '../src/csrf';
import { prettyJson } from '../src/pretty-json';
import { toSegment } from '../src/segment';
import { ADMIN, basicHeader, createDeadLetterList } from './helpers';

const MERCHANT = '100001';
const KEY = 'inspector-age-test-key';
const WEIRD_IDS = ['a b/c#d%e?f', 'ünïcødé/ß', '100%', 'retry-all', '..', '.', '~x', 'x&y=z'];

async function startApp(inspectorOptions: Partial<InspectorOptions> = {}) {
  // A scaled window: maxAgeMs 1 s, the hub's retention 2.5 s.
  const inbox = createMemoryInbox();
  const hub = createPaymentHub({
    inbox,
    retentionMs: 2_500,
    leaseMs: 1_000,
    handlerTimeoutMs: 500,
    commitRetryMs: 400,
  });
  const failed: string[] = [];
  hub.on('payment.failed', (e) => void failed.push(e.id));
  hub.on('payment.completed', () => undefined);
  const cashy = createPayinMiddleware(hub, {
    merchantId: MERCHANT,
    apiKey: KEY,
    maxAgeMs: 1_000,
    clockSkewMs: 500,
  });
  const letters: DeadLetter[] = WEIRD_IDS.map((id, i) => ({
    id,
    provider: 'cashy',
    eventId: `cashy:DL-${i}:completed`,
    failedAt: new Date(),
    attempts: 3,
  }));
  const deadLetters = createDeadLetterList(letters);
  const app = express();
  app.use('/webhooks/cashy', cashy);
  const auth = { basic: [ADMIN] };
  app.use(
    '/payhook',
    createInspector({ hub, auth, providers: [cashy], deadLetters, ...inspectorOptions }),
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = { authorization: basicHeader(ADMIN) };
  const page = async (path: string) => (await fetch(`${url}/payhook${path}`, { headers })).text();
  const post = (action: string, form: Record<string, string>) =>
    fetch(`${url}${action}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const deliver = (message: { body: string | Buffer; headers: Record<string, string> }) =>
    fetch(`${url}/webhooks/cashy`, {
      method: 'POST',
      headers: message.headers,
      body: message.body,
    });
  return {
    hub,
    inbox,
    failed,
    deadLetters,
    page,
    post,
    deliver,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const tokenOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decodeHtml = (s: string) =>
  s
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');

describe('replay of a delivery older than the maximum age', () => {
  it('asks for a confirmation; only the checked, CSRF-protected form processes it again', async () => {
    const app = await startApp();
    try {
      const fail = buildCashyMessage(
        {
          orderStatus: 'FAIL',
          amount: jsonNumber('100.10'),
          mchOrderNo: 'M-OLD',
          merchantId: MERCHANT,
          orderNo: 'PAYIN-OLD-FAIL',
          completionTime: null,
        },
        { merchantId: MERCHANT, apiKey: KEY },
      );
      expect(await (await app.deliver(fail)).text()).toBe('SUCCESS');
      const id = (await app.inbox.list({ provider: 'cashy' })).entries[0]!.id;
      expect(await app.page(`/deliveries/${id}`)).not.toContain('allow-older');
      await sleep(2_700); // past maxAgeMs, and the store has forgotten the event
      const html = await app.page(`/deliveries/${id}`);
      expect(html).toContain('id="allow-older"');
      const action = `/payhook/deliveries/${id}/replay`;
      const unconfirmed = await app.post(action, { csrf: tokenOf(html) });
      expect(unconfirmed.status).toBe(409);
      expect(await unconfirmed.text()).toContain('Not replayed: confirm first.');
      const forged = await app.post(action, { csrf: 'x', allowOlderThanMaxAge: 'yes' });
      expect(forged.status).toBe(403);
      expect((await app.inbox.list({ replayOf: id })).entries).toHaveLength(0);
      expect(app.failed).toHaveLength(1);
      const confirmed = await app.post(action, {
        csrf: tokenOf(html),
        allowOlderThanMaxAge: 'yes',
      });
      expect(confirmed.status).toBe(200);
      expect(await confirmed.text()).toMatch(/Replayed: <strong[^>]*>processed/);
      expect(app.failed).toEqual(['cashy:PAYIN-OLD-FAIL:failed', 'cashy:PAYIN-OLD-FAIL:failed']);
    } finally {
      await app.close();
    }
  });
});

describe('CSRF tokens expire', () => {
  it('refuses an expired token with a clear message and a way back; a fresh one works', async () => {
    const app = await startApp({ csrfTtlMs: 1_000 });
    try {
      const html = await app.page('/dead-letters');
      const token = tokenOf(html);
      await sleep(1_200);
      const expired = await app.post('/payhook/dead-letters/retry-all', { csrf: token });
      expect(expired.status).toBe(403);
      const text = await expired.text();
      expect(text).toContain('The page has expired');
      expect(text).toContain("href='/payhook/dead-letters' id='error-back'");
      expect(app.deadLetters.retried).toEqual([]);
      // The expiry is signed: pushed into the future, the token is a forgery.
      const [, mac] = token.split('.');
      const extended = `${Date.now() + 3_600_000}.${mac}`;
      const forged = await app.post('/payhook/dead-letters/retry-all', { csrf: extended });
      expect(forged.status).toBe(403);
      expect(await forged.text()).toContain('CSRF token missing or wrong');
      const fresh = tokenOf(await app.page('/dead-letters'));
      expect((await app.post('/payhook/dead-letters/retry-all', { csrf: fresh })).status).toBe(200);
      expect(app.deadLetters.retried).toHaveLength(WEIRD_IDS.length);
    } finally {
      await app.close();
    }
  });

  it('is an hour by default, bound to the user, and the option is checked', () => {
    let now = 1_000_000;
    const tokens = createCsrfTokens('a-secret-of-16-chars+', { now: () => now });
    const token = tokens.issue('ops');
    expect(tokens.check('ops', token)).toBe('ok');
    expect(tokens.check('viewer', token)).toBe('invalid');
    now += 3_600_000 - 1;
    expect(tokens.check('ops', token)).toBe('ok');
    now += 1;
    expect(tokens.check('ops', token)).toBe('expired');
    const hub = createPaymentHub();
    for (const csrfTtlMs of [0, 999, 1.5, 8 * 86_400_000])
      expect(() => createInspector({ hub, auth: { basic: [ADMIN] }, csrfTtlMs })).toThrow(
        ConfigError,
      );
  });
});

describe('dead-letter ids with any characters', () => {
  it('are URL-encoded in the forms and retried by their exact id', async () => {
    const app = await startApp();
    try {
      for (const id of WEIRD_IDS) {
        const html = await app.page('/dead-letters');
        const forms = [...html.matchAll(/action="([^"]+)" data-id="([^"]*)"/g)].map((m) => ({
          action: decodeHtml(m[1]!),
          id: decodeHtml(m[2]!),
        }));
        const form = forms.find((f) => f.id === id)!;
        expect(form.action).toBe(`/payhook/dead-letters/${toSegment(id)}/retry`);
        const res = await app.post(form.action, { csrf: tokenOf(html) });
        expect(res.status).toBe(200);
        expect(app.deadLetters.retried.at(-1)).toBe(id);
      }
      expect(app.deadLetters.retried).toEqual(WEIRD_IDS);
      const malformed = await app.post('/payhook/dead-letters/%E0%A4%A/retry', { csrf: 'x' });
      expect(malformed.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});

describe('the pretty view', () => {
  const BODY =
    '{"orderStatus":"SUCCESS","amount":100.10,"fee":0,"mchOrderNo":"M-{\\"}[","merchantId":"100001",' +
    '"orderNo":"PAYIN-PRETTY","e":1e2,"z":-0.0,"big":123456789012345678901234567890,"n":[],"o":{}}';

  it('keeps the number text the gateway sent (100.10 stays 100.10), over HTTP', async () => {
    const app = await startApp();
    try {
      const body = BODY.replace('"fee":0', `"fee":0,"completionTime":"${jakartaNow()}"`);
      await app.deliver(signCashyBody(body, { merchantId: MERCHANT, apiKey: KEY }));
      const id = (await app.inbox.list({ provider: 'cashy' })).entries[0]!.id;
      const html = await app.page(`/deliveries/${id}`);
      const pretty = decodeHtml(/<pre id="pretty-body">([\s\S]*?)<\/pre>/.exec(html)![1]!);
      expect(pretty).toContain('\n  "amount": 100.10,\n');
      expect(pretty).toContain('"e": 1e2,');
      expect(pretty).toContain('"z": -0.0,');
      expect(pretty).toContain('"big": 123456789012345678901234567890,');
      expect(pretty).toContain('"mchOrderNo": "M-{\\"}[",');
      expect(pretty.replace(/\s+/g, '')).toBe(body.replace(/\s+/g, ''));
    } finally {
      await app.close();
    }
  });

  it('indents token by token, refuses what is not one JSON value, in linear time', () => {
    expect(prettyJson(BODY)).toBe(
      [
        '{',
        '  "orderStatus": "SUCCESS",',
        '  "amount": 100.10,',
        '  "fee": 0,',
        '  "mchOrderNo": "M-{\\"}[",',
        '  "merchantId": "100001",',
        '  "orderNo": "PAYIN-PRETTY",',
        '  "e": 1e2,',
        '  "z": -0.0,',
        '  "big": 123456789012345678901234567890,',
        '  "n": [],',
        '  "o": {}',
        '}',
      ].join('\n'),
    );
    for (const bad of ['', '[1,]', '{"a" 1}', '1 2', '01', '{"a":1,}', '"\\x"', '[', '{"a":tru}'])
      expect(prettyJson(bad)).toBeUndefined();
    // 100,000 levels deep: no recursion to overflow, indentation capped so the output stays
    // linear (a few hundred ms here; the bound is loose for a shared, loaded machine).
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const started = Date.now();
    const out = prettyJson(deep)!;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out.length).toBeLessThan(deep.length * 70);
    expect(out.replace(/\s+/g, '')).toBe(deep);
  });
});

/** Cashy's completionTime format, now, on the plugin's default Jakarta clock (UTC+7). */
function jakartaNow(): string {
  return new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}
