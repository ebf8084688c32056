import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createPaymentHub, createWebhookMiddleware, ProviderConfigError } from '@payhook/core';
import { assertRefused, createCountingStore, recordHub } from '@payhook/core/testing';
import { createPayinMiddleware, createPayinProvider, type PayinProviderOptions } from '../src';
import { verifyCashySign } from '../src/signing';
import { API_KEY, baseOptions, createHarness, payinWebhook, post } from './fixtures';

/**
 * Test and live mode (issue 26): Cashy's stage environment gives the merchant another apiKey.
 * Tagged `{ key, mode: 'test' }` in `apiKey`, it verifies stage webhooks as `mode: 'test'` events
 * on a live mount that allows them, and never as live ones.
 */

const SANDBOX_KEY = 'cashy-stage-api-key-do-not-use';
const ORDER = 'PAYIN8232154612109344768';
const TEST_ID = `cashy:test:${ORDER}:completed`;
const LIVE_ID = `cashy:${ORDER}:completed`;

/** The live apiKey first, then the stage one, tagged. */
const bothKeys = (): PayinProviderOptions['apiKey'] => [
  API_KEY,
  { key: SANDBOX_KEY, mode: 'test' },
];
const signedWith = (apiKey: string) => payinWebhook({}, { apiKey });

/** The option a construction error names; undefined when the provider was built. */
function optionOf(options: Partial<PayinProviderOptions>): string | undefined {
  try {
    createPayinProvider({ ...baseOptions, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return (error as ProviderConfigError).option;
  }
  return undefined;
}

/**
 * A mount whose provider was built with `options` and then had `change` applied: what a mount
 * would be if the construction check were bypassed. Only the hub's runtime guard stands then.
 */
function bypassed(options: Partial<PayinProviderOptions>, change: object) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const recording = recordHub(hub);
  const provider = { ...createPayinProvider({ ...baseOptions, ...options }), ...change };
  const app = express().use('/cashy', createWebhookMiddleware(hub, provider));
  const send = (message: ReturnType<typeof signedWith>) =>
    request(app).post('/cashy').set(message.headers).send(message.body);
  return { store, recording, send };
}

describe('a stage apiKey on a live mount without allowTestMode', () => {
  it('is refused at construction, naming the entry, by the provider and the middleware', () => {
    expect(optionOf({ apiKey: bothKeys() })).toBe('apiKey[1]');
    expect(() =>
      createPayinMiddleware(createPaymentHub(), { ...baseOptions, apiKey: bothKeys() }),
    ).toThrow(/apiKey\[1\].*test key on a live mount/);
  });

  it('and were the check bypassed, its webhook is 403 ERR_MODE_MISMATCH: nothing emitted or stored', async () => {
    const m = bypassed({ apiKey: bothKeys(), allowTestMode: true }, { allowTestMode: false });
    const reply = await m.send(signedWith(SANDBOX_KEY));
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: 'SUCCESS',
    });
    for (const id of [TEST_ID, LIVE_ID])
      expect((await m.store.claim(id, 1_000)).state).toBe('claimed');
  });

  it('a live mount that lists only its live apiKey answers a stage webhook 401', async () => {
    const h = createHarness();
    const res = await post(h, signedWith(SANDBOX_KEY));
    expect(res.status).toBe(401);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });
});

describe('a live mount with allowTestMode: true', () => {
  it('emits a stage webhook as a test event with an id of its own, apart from the live one', async () => {
    const h = createHarness({ apiKey: bothKeys(), allowTestMode: true });
    expect((await post(h, signedWith(SANDBOX_KEY))).text).toBe('SUCCESS');
    expect((await post(h, signedWith(API_KEY))).text).toBe('SUCCESS');
    expect(h.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      [TEST_ID, 'test', 1],
      [LIVE_ID, 'live', 0],
    ]);
    expect(h.duplicates).toHaveLength(0);
    // Both were processed and recorded, each under its own key.
    for (const id of [TEST_ID, LIVE_ID])
      expect((await h.store.claim(id, 1_000)).state).toBe('done');
  });
});

describe("a mode: 'test' mount", () => {
  it('gives its bare apiKey its mode: events are test events', async () => {
    const h = createHarness({ apiKey: SANDBOX_KEY, mode: 'test' });
    expect((await post(h, signedWith(SANDBOX_KEY))).text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({ mode: 'test', id: TEST_ID });
  });

  it('refuses a live-tagged apiKey at construction, and at runtime were the check bypassed: 403', async () => {
    expect(optionOf({ apiKey: [SANDBOX_KEY, { key: API_KEY, mode: 'live' }], mode: 'test' })).toBe(
      'apiKey[1]',
    );
    const m = bypassed(
      { apiKey: [SANDBOX_KEY, API_KEY], mode: 'test' },
      {
        keyModes: ['test', 'live'],
      },
    );
    const reply = await m.send(signedWith(API_KEY));
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: 'SUCCESS',
    });
  });
});

describe('mode options are checked at construction', () => {
  it.each([
    ["mode: 'staging'", 'mode', { mode: 'staging' }],
    ["allowTestMode: 'yes'", 'allowTestMode', { allowTestMode: 'yes' }],
    ['allowTestMode on a test mount', 'allowTestMode', { mode: 'test', allowTestMode: true }],
    ["a key tagged mode: 'sandbox'", 'apiKey[0].mode', { apiKey: [{ key: 'k', mode: 'sandbox' }] }],
    ['a tagged key that is not text', 'apiKey[0]', { apiKey: [{ key: 42, mode: 'live' }] }],
  ])('%s is a ProviderConfigError naming %s', (_what, option, options) => {
    expect(optionOf(options as Partial<PayinProviderOptions>)).toBe(option);
  });
});

describe("status queries are signed with an apiKey of the mount's mode", () => {
  it('the live key on a live mount, though the stage key is listed first', async () => {
    const signers: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sign = String(req.headers.sign);
        const body = Buffer.concat(chunks);
        for (const key of [API_KEY, SANDBOX_KEY])
          if (verifyCashySign(body, sign, key)) signers.push(key);
        res.writeHead(503).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const provider = createPayinProvider({
        ...baseOptions,
        apiKey: [{ key: SANDBOX_KEY, mode: 'test' }, API_KEY],
        allowTestMode: true,
        statusQuery: { baseUrl },
      });
      await expect(provider.fetchStatus!(ORDER)).rejects.toThrow();
      expect(signers).toEqual([API_KEY]);
    } finally {
      server.close();
    }
  });

  it('statusQuery on a mount with no apiKey of its mode is a ProviderConfigError', () => {
    expect(
      optionOf({
        apiKey: [{ key: SANDBOX_KEY, mode: 'test' }],
        allowTestMode: true,
        statusQuery: { baseUrl: 'https://cashy.example/' },
      }),
    ).toBe('statusQuery');
  });
});
