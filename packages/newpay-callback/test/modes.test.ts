import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  createWebhookMiddleware,
  GatewayApiError,
  ProviderConfigError,
} from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { assertRefused, createCountingStore, recordHub } from '@payhook/core/testing';
import { createNewpayMiddleware, createNewpayProvider, type NewpayProviderOptions } from '../src';
import { signV1Callback, signV2Callback } from '../src/signing';
import {
  ACK_OK,
  harness,
  keys,
  platformPublicPem,
  providerOptions,
  v1Payment,
  v2Payment,
  V2_ENVELOPE_TIME,
} from './helpers';

/**
 * Test and live mode (issue 26): NewPay's sandbox signs with a platform key of its own. Tagged
 * `{ key, mode: 'test' }` in `platformPublicKey`, it verifies sandbox callbacks as `mode: 'test'`
 * events on a live mount that allows them, and never as live ones.
 */

const sandbox = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sandboxPem = sandbox.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const liveKey = keys.platform.privateKey;
const ORDER = '202209210000006950';

/** The live platform key first, then the sandbox's, tagged. */
const bothKeys = (): NewpayProviderOptions['platformPublicKey'] => [
  platformPublicPem,
  { key: sandboxPem, mode: 'test' },
];
const callback = (key: KeyObject): string =>
  signV1Callback(v1Payment({ timestamp: jsonNumber(String(Date.now() - 1_000)) }), key).body;

/** The option a construction error names; undefined when the provider was built. */
function optionOf(options: Partial<NewpayProviderOptions>): string | undefined {
  try {
    createNewpayProvider(providerOptions(options));
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
function bypassed(options: Partial<NewpayProviderOptions>, change: object) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const recording = recordHub(hub);
  const provider = { ...createNewpayProvider(providerOptions(options)), ...change };
  const app = express().use('/newpay', createWebhookMiddleware(hub, provider));
  const post = (body: string) =>
    request(app).post('/newpay').set('content-type', 'application/json').send(body);
  return { store, recording, post };
}

describe('a sandbox key on a live mount without allowTestMode', () => {
  it('is refused at construction, naming the entry, by the provider and the middleware', () => {
    expect(optionOf({ platformPublicKey: bothKeys() })).toBe('platformPublicKey[1]');
    expect(() =>
      createNewpayMiddleware(
        createPaymentHub(),
        providerOptions({ platformPublicKey: bothKeys() }),
      ),
    ).toThrow(/platformPublicKey\[1\].*test key on a live mount/);
  });

  it('and were the check bypassed, its callback is 403 ERR_MODE_MISMATCH: nothing emitted or stored', async () => {
    const m = bypassed(
      { platformPublicKey: bothKeys(), allowTestMode: true },
      { allowTestMode: false },
    );
    const reply = await m.post(callback(sandbox.privateKey));
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: ACK_OK,
    });
    for (const id of [`newpay:test:${ORDER}:completed`, `newpay:${ORDER}:completed`])
      expect((await m.store.claim(id, 1_000)).state).toBe('claimed');
  });

  it('a live mount that lists only its live key answers a sandbox callback 401', async () => {
    const h = harness();
    const reply = await h.post(callback(sandbox.privateKey));
    expect(reply.status).toBe(401);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });
});

describe('a live mount with allowTestMode: true', () => {
  const options = { platformPublicKey: bothKeys(), allowTestMode: true };

  it('emits a sandbox callback as a test event with an id of its own, apart from the live one', async () => {
    const h = harness(options);
    expect((await h.post(callback(sandbox.privateKey))).text).toBe(ACK_OK);
    expect((await h.post(callback(liveKey))).text).toBe(ACK_OK);
    expect(h.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      [`newpay:test:${ORDER}:completed`, 'test', 1],
      [`newpay:${ORDER}:completed`, 'live', 0],
    ]);
    expect(h.recording.duplicates).toHaveLength(0);
    // Both were processed and recorded, each under its own key.
    for (const id of [`newpay:test:${ORDER}:completed`, `newpay:${ORDER}:completed`])
      expect((await h.store.claim(id, 1_000)).state).toBe('done');
  });

  it('v2 callbacks too: the mode follows the key that verified', async () => {
    const h = harness(options);
    const v2 = (key: KeyObject) =>
      signV2Callback(v2Payment({ paytime: jsonNumber(String(Date.now() - 1_000)) }), key, {
        timestamp: V2_ENVELOPE_TIME,
      }).body;
    await h.post(v2(sandbox.privateKey));
    await h.post(v2(liveKey));
    expect(h.events.map((e) => e.mode)).toEqual(['test', 'live']);
    expect(h.events[0]!.id).toContain(':test:');
  });
});

describe("a mode: 'test' mount", () => {
  it('gives its bare keys its mode: events are test events', async () => {
    const h = harness({ platformPublicKey: sandboxPem, mode: 'test' });
    expect((await h.post(callback(sandbox.privateKey))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({ mode: 'test', id: `newpay:test:${ORDER}:completed` });
  });

  it('bare keys of a rotation list are test keys too', async () => {
    const h = harness({ platformPublicKey: [platformPublicPem, sandboxPem], mode: 'test' });
    await h.post(callback(liveKey));
    expect(h.events[0]).toMatchObject({ mode: 'test', keyIndex: 0 });
  });

  it('refuses a live-tagged key at construction, and at runtime were the check bypassed: 403', async () => {
    const liveOnTest: Partial<NewpayProviderOptions> = {
      platformPublicKey: [sandboxPem, { key: platformPublicPem, mode: 'live' }],
      mode: 'test',
    };
    expect(optionOf(liveOnTest)).toBe('platformPublicKey[1]');
    const m = bypassed(
      { platformPublicKey: [sandboxPem, platformPublicPem], mode: 'test' },
      { keyModes: ['test', 'live'] },
    );
    const reply = await m.post(callback(liveKey));
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: ACK_OK,
    });
  });
});

describe('mode options are checked at construction', () => {
  it.each([
    ["mode: 'staging'", 'mode', { mode: 'staging' }],
    ["allowTestMode: 'yes'", 'allowTestMode', { allowTestMode: 'yes' }],
    ['allowTestMode on a test mount', 'allowTestMode', { mode: 'test', allowTestMode: true }],
    [
      "a key tagged mode: 'sandbox'",
      'platformPublicKey[0].mode',
      { platformPublicKey: [{ key: sandboxPem, mode: 'sandbox' }] },
    ],
  ])('%s is a ProviderConfigError naming %s', (_what, option, options) => {
    expect(optionOf(options as Partial<NewpayProviderOptions>)).toBe(option);
  });
});

/** A uniQueryPay that answers every query about NP-Q as paid, the answer signed with `key`. */
async function fixedUniQueryPay(key: KeyObject): Promise<{ url: string; server: Server }> {
  const body = signV2Callback(v2Payment({ newpayOrderNo: 'NP-Q' }), key, {
    timestamp: V2_ENVELOPE_TIME,
  }).body;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/beta/pay`, server };
}

describe("uniQueryPay answers: the mount's mode only", () => {
  const statusQuery = (baseUrl: string) => ({
    mchId: 'MCH001',
    merchantPrivateKey: keys.merchant.privateKey,
    baseUrl,
  });

  it('a live mount believes an answer signed with its live key, not the sandbox key', async () => {
    for (const [key, believed] of [
      [liveKey, true],
      [sandbox.privateKey, false],
    ] as const) {
      const fake = await fixedUniQueryPay(key);
      try {
        const provider = createNewpayProvider(
          providerOptions({
            platformPublicKey: bothKeys(),
            allowTestMode: true,
            statusQuery: statusQuery(fake.url),
          }),
        );
        const asked = provider.fetchStatus!('NP-Q');
        if (believed) expect(Array.isArray(await asked)).toBe(true);
        else await expect(asked).rejects.toThrow(GatewayApiError);
      } finally {
        fake.server.close();
      }
    }
  });

  it('statusQuery on a mount with no key of its mode is a ProviderConfigError', () => {
    expect(
      optionOf({
        platformPublicKey: [{ key: sandboxPem, mode: 'test' }],
        allowTestMode: true,
        statusQuery: statusQuery('https://example.test/beta/pay'),
      }),
    ).toBe('statusQuery');
  });
});
