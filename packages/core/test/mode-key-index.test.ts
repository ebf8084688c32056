/**
 * What verify says of its key decides a delivery's mode (issue 26 review). When it says too little
 * (no index though the keys have different modes) or something impossible (an index no key has),
 * the mode is unknown: that must fail closed, 401, never fall back to the mount's mode, which on a
 * live mount that allows test mode makes a sandbox-signed delivery a live payment.
 */
import { testDelivery } from './support/deliveries';
import { createPaymentHub } from '../src';
import {
  createCountingStore,
  createTestProvider,
  recordHub,
  TEST_SECRET,
  type TestPayload,
} from '../src/testing';
import { defineProvider, verified, type PaymentMode } from '../src/plugin';

const SANDBOX = 'sandbox-secret-do-not-use';

const delivery = testDelivery;

/** The test gateway with keys [live, sandbox], whose verify reports the key as `report` says. */
function gateway(keyModes: PaymentMode[], report: (keyIndex: number) => number | undefined) {
  const secrets = [TEST_SECRET, SANDBOX];
  const byKey = secrets.map((s, i) =>
    createTestProvider({ secret: s, mode: keyModes[i] === 'test' ? 'test' : undefined }),
  );
  const base = createTestProvider();
  return defineProvider<TestPayload>({
    id: base.id,
    source: base.source,
    schema: base.schema,
    normalize: base.normalize,
    allowTestMode: true,
    keyModes,
    verify(d) {
      for (let i = 0; i < byKey.length; i++) {
        let payload: TestPayload;
        try {
          payload = byKey[i]!.verify(d) as TestPayload;
        } catch {
          continue;
        }
        const keyIndex = report(i);
        return keyIndex === undefined ? payload : verified(payload, { keyIndex });
      }
      throw new Error('no key');
    },
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
  });
}

function setup() {
  const hub = createPaymentHub({ store: createCountingStore() });
  return { hub, rec: recordHub(hub) };
}

it('keys of different modes and a verify that names none: 401, no live event', async () => {
  const { hub, rec } = setup();
  const r = await hub.receive(
    gateway(['live', 'test'], () => undefined),
    delivery({ txn: 'K1' }, SANDBOX),
  );
  expect(rec.events.filter((e) => e.mode === 'live')).toEqual([]);
  expect(r.reply.status).toBe(401);
});

it('a keyIndex no key has (past the end, negative): 401, no live event', async () => {
  for (const report of [() => 2, () => -1, () => 0.5]) {
    const { hub, rec } = setup();
    const r = await hub.receive(
      gateway(['test', 'test'], report),
      delivery({ txn: 'K2' }, SANDBOX),
    );
    expect(rec.events.filter((e) => e.mode === 'live')).toEqual([]);
    expect(r.reply.status).toBe(401);
  }
});

it('keys all of one mode need no index: that mode', async () => {
  const { hub, rec } = setup();
  const r = await hub.receive(
    gateway(['test', 'test'], () => undefined),
    delivery({ txn: 'K3' }, SANDBOX),
  );
  expect(r.outcome).toBe('processed');
  expect(rec.events.map((e) => e.mode)).toEqual(['test']);
});

it('a named key in range still decides: live key live, sandbox key test', async () => {
  const { hub, rec } = setup();
  const provider = gateway(['live', 'test'], (i) => i);
  await hub.receive(provider, delivery({ txn: 'K4' }, TEST_SECRET));
  await hub.receive(provider, delivery({ txn: 'K5' }, SANDBOX));
  expect(rec.events.map((e) => [e.transactionId, e.mode])).toEqual([
    ['K4', 'live'],
    ['K5', 'test'],
  ]);
});
