import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createPaymentHub, createWebhookMiddleware, ProviderConfigError } from '@payhook/core';
import { assertRefused, createCountingStore, recordHub } from '@payhook/core/testing';
import {
  createSignedParamMiddleware,
  createSignedParamProvider,
  type SignedParamOptions,
} from '../src';
import {
  createHarness,
  OK_BODY,
  paymentParam,
  platform,
  platformPublicBase64,
  post,
  signed,
} from './helpers';

/**
 * Test and live mode (issue 26): the platform's sandbox signs notifications with a key of its own.
 * Tagged `{ key, mode: 'test' }` in `platformPublicKey`, it verifies sandbox notifications as
 * `mode: 'test'` events on a live mount that allows them, and never as live ones.
 */

const sandbox = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sandboxBase64 = sandbox.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const FACT = 'order.payment.success:C1032653961085706055';
const TEST_ID = `signed-param:test:${FACT}`;
const LIVE_ID = `signed-param:${FACT}`;

/** The live platform key first, then the sandbox's, tagged. */
const bothKeys = (): SignedParamOptions['platformPublicKey'] => [
  platformPublicBase64,
  { key: sandboxBase64, mode: 'test' },
];
const notification = (key = platform.privateKey) => signed(paymentParam(), key).body;

/** The option a construction error names; undefined when the provider was built. */
function optionOf(options: Partial<SignedParamOptions>): string | undefined {
  try {
    createSignedParamProvider({
      platformPublicKey: platformPublicBase64,
      country: 'PH',
      ...options,
    });
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
function bypassed(options: Partial<SignedParamOptions>, change: object) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const recording = recordHub(hub);
  const built = createSignedParamProvider({
    platformPublicKey: platformPublicBase64,
    country: 'PH',
    ...options,
  });
  const app = express().use('/p', createWebhookMiddleware(hub, { ...built, ...change }));
  const send = (body: string) =>
    request(app).post('/p').set('content-type', 'application/json').send(body);
  return { store, recording, send };
}

describe('a sandbox key on a live mount without allowTestMode', () => {
  it('is refused at construction, naming the entry, by the provider and the middleware', () => {
    expect(optionOf({ platformPublicKey: bothKeys() })).toBe('platformPublicKey[1]');
    expect(() =>
      createSignedParamMiddleware(createPaymentHub(), {
        platformPublicKey: bothKeys(),
        country: 'PH',
      }),
    ).toThrow(/platformPublicKey\[1\].*test key on a live mount/);
  });

  it('and were the check bypassed, its notification is 403 ERR_MODE_MISMATCH: nothing emitted or stored', async () => {
    const m = bypassed(
      { platformPublicKey: bothKeys(), allowTestMode: true },
      {
        allowTestMode: false,
      },
    );
    const reply = await m.send(notification(sandbox.privateKey));
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: OK_BODY,
    });
    for (const id of [TEST_ID, LIVE_ID])
      expect((await m.store.claim(id, 1_000)).state).toBe('claimed');
  });

  it('a live mount that lists only its live key answers a sandbox notification 401', async () => {
    const h = createHarness();
    const res = await post(h, notification(sandbox.privateKey));
    expect(res.status).toBe(401);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });
});

describe('a live mount with allowTestMode: true', () => {
  it('emits a sandbox notification as a test event with an id of its own, apart from the live one', async () => {
    const h = createHarness({ platformPublicKey: bothKeys(), allowTestMode: true });
    expect((await post(h, notification(sandbox.privateKey))).text).toBe(OK_BODY);
    expect((await post(h, notification())).text).toBe(OK_BODY);
    expect(h.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      [TEST_ID, 'test', 1],
      [LIVE_ID, 'live', 0],
    ]);
    expect(h.recording.duplicates).toHaveLength(0);
    // Both were processed and recorded, each under its own key.
    for (const id of [TEST_ID, LIVE_ID])
      expect((await h.store.claim(id, 1_000)).state).toBe('done');
  });

  it('a sandbox key it shares with a test mount of another id is a shared key like any other', () => {
    const hub = createPaymentHub();
    createSignedParamMiddleware(hub, {
      platformPublicKey: bothKeys(),
      allowTestMode: true,
      country: 'PH',
      id: 'paycools',
    });
    // One sandbox notification would otherwise be credited on both mounts.
    expect(() =>
      createSignedParamMiddleware(hub, {
        platformPublicKey: sandboxBase64,
        mode: 'test',
        country: 'PH',
        id: 'paycools-sandbox',
      }),
    ).toThrow(expect.objectContaining({ option: 'orderIdPrefix' }));
  });
});

describe("a mode: 'test' mount", () => {
  it('gives its bare key its mode: events are test events', async () => {
    const h = createHarness({ platformPublicKey: sandboxBase64, mode: 'test' });
    expect((await post(h, notification(sandbox.privateKey))).text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({ mode: 'test', id: TEST_ID });
  });

  it('refuses a live-tagged key at construction, and at runtime were the check bypassed: 403', async () => {
    const liveTagged = [sandboxBase64, { key: platformPublicBase64, mode: 'live' as const }];
    expect(optionOf({ platformPublicKey: liveTagged, mode: 'test' })).toBe('platformPublicKey[1]');
    const m = bypassed(
      { platformPublicKey: [sandboxBase64, platformPublicBase64], mode: 'test' },
      { keyModes: ['test', 'live'] },
    );
    const reply = await m.send(notification());
    assertRefused({ status: reply.status, body: reply.text }, m, {
      status: 403,
      code: 'ERR_MODE_MISMATCH',
      ackBody: OK_BODY,
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
      { platformPublicKey: [{ key: sandboxBase64, mode: 'sandbox' }] },
    ],
    [
      'a tagged key that does not load',
      'platformPublicKey[1]',
      { platformPublicKey: [platformPublicBase64, { key: 'not a key', mode: 'live' }] },
    ],
  ])('%s is a ProviderConfigError naming %s', (_what, option, options) => {
    expect(optionOf(options as Partial<SignedParamOptions>)).toBe(option);
  });
});
