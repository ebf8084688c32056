import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { paymentEventSchema } from '../events';
import { createWebhookMiddleware } from '../express';
import { createPaymentHub } from '../hub';
import type { AnyPaymentProvider } from '../provider';
import {
  assertRefused,
  createCountingStore,
  flipLastDigit,
  postDelivery,
  recordHub,
  startTestServer,
  type ConformanceFixtures,
  type ConformanceHarness,
  type DeliveryFixture,
  type HubRecording,
  type TestServer,
} from './index';

type CountingStore = ReturnType<typeof createCountingStore>;
type ServerTest = (
  server: TestServer,
  store: CountingStore,
  rec: HubRecording,
  provider: AnyPaymentProvider,
) => Promise<void>;

/** What every test of the suite shares: a fresh server per test, and the refusal check. */
interface Suite {
  h: ConformanceHarness;
  fixtures: ConformanceFixtures;
  post(server: TestServer, fixture: DeliveryFixture): ReturnType<typeof postDelivery>;
  withServer(fn: ServerTest, mount?: () => AnyPaymentProvider): Promise<void>;
  expectRefused(fixture: DeliveryFixture, status: number): Promise<void>;
}

let validateEvent: (((e: unknown) => boolean) & { errors?: unknown }) | undefined;

/**
 * The shared conformance suite: every provider, ours and the users', must pass it. It registers
 * tests with the host framework's global `describe`/`it` (jest, mocha, vitest with globals), or
 * with the `harness` given (`{ describe, it }` from node:test, vitest or jest), and drives the
 * provider through real HTTP. `fixtures.provider()` is called once while registering (for its
 * `maxAgeMs`), before any hook runs.
 */
export function runProviderConformance(
  fixtures: ConformanceFixtures,
  harness?: ConformanceHarness,
): void {
  const h = harness ?? (globalThis as unknown as ConformanceHarness);
  if (typeof h.describe !== 'function' || typeof h.it !== 'function') {
    throw new Error(
      'runProviderConformance: no describe/it found; pass { describe, it } from your test framework',
    );
  }
  if (!fixtures.wrongKey && !fixtures.contradicted?.length) {
    throw new Error(
      'runProviderConformance: give `wrongKey` (signed gateways) or `contradicted` (status-query gateways)',
    );
  }
  const suite = createSuite(h, fixtures);
  h.describe(`payhook provider conformance${fixtures.name ? `: ${fixtures.name}` : ''}`, () => {
    acceptanceTests(suite);
    refusalTests(suite);
    mountTests(suite);
  });
}

function createSuite(h: ConformanceHarness, fixtures: ConformanceFixtures): Suite {
  const contentType = fixtures.contentType ?? 'application/json';
  const post = (server: TestServer, fixture: DeliveryFixture) =>
    postDelivery(server.url, fixture, contentType);
  const withServer = async (fn: ServerTest, mount = fixtures.provider): Promise<void> => {
    const provider = mount();
    const store = createCountingStore();
    const server = await startTestServer(provider, {
      hubOptions: { store, handlerTimeoutMs: 2_000, leaseMs: 5_000 },
    });
    const rec = recordHub(server.hub);
    try {
      await fn(server, store, rec, provider);
    } finally {
      await server.close();
    }
  };
  const expectRefused = (fixture: DeliveryFixture, status: number): Promise<void> =>
    withServer(async (server, store, recording, provider) => {
      const reply = await post(server, fixture);
      assertRefused(reply, { recording, store }, { status, ackBody: provider.ack.ok.body });
    });
  return { h, fixtures, post, withServer, expectRefused };
}

/** Genuine deliveries: acknowledged, emitted once, retried after a listener failure. */
function acceptanceTests({ h, fixtures, post, withServer }: Suite): void {
  h.it(
    'a genuine delivery is acknowledged with the gateway success body and emits the expected events',
    () =>
      withServer(async (server, _store, rec, provider) => {
        const reply = await post(server, fixtures.valid);
        assert.equal(reply.status, provider.ack.ok.status, reply.body);
        assert.equal(reply.body, provider.ack.ok.body);
        assert.equal(rec.events.length, fixtures.expected.length);
        fixtures.expected.forEach((expected, i) => checkEvent(rec, provider, expected, i));
      }),
  );

  h.it('a duplicate delivery is acknowledged and dispatched once', () =>
    withServer(async (server, _store, rec, provider) => {
      const first = await post(server, fixtures.valid);
      const second = await post(server, fixtures.valid);
      assert.equal(first.body, provider.ack.ok.body);
      assert.equal(second.status, provider.ack.ok.status);
      assert.equal(second.body, provider.ack.ok.body);
      assert.equal(rec.events.length, fixtures.expected.length, 'listeners ran once per event');
      assert.equal(rec.duplicates.length, fixtures.expected.length);
    }),
  );

  h.it('a failing listener gets the gateway retry answer, and the redelivery is processed', () =>
    withServer(async (server, _store, rec, provider) => {
      let calls = 0;
      server.hub.onAny(() => {
        calls++;
        if (calls === 1) throw new Error('database down');
      });
      const first = await post(server, fixtures.valid);
      assert.equal(first.status, provider.ack.retry.status);
      assert.equal(first.body, provider.ack.retry.body);
      assert.equal(rec.errors.length, 1);
      const second = await post(server, fixtures.valid);
      assert.equal(second.status, provider.ack.ok.status);
      assert.equal(second.body, provider.ack.ok.body);
      assert.ok(calls >= 2, 'the redelivery reached the listener again');
    }),
  );

  const testMode = fixtures.testMode;
  if (testMode) {
    h.it('a delivery signed with a sandbox key is a test-mode event with an id of its own', () =>
      withServer(async (server, _store, rec, provider) => {
        const reply = await post(server, testMode.valid);
        assert.equal(reply.status, provider.ack.ok.status, reply.body);
        assert.ok(rec.events.length > 0, 'the sandbox delivery emitted no event');
        for (const event of rec.events) {
          assert.equal(event.mode, 'test', `${event.id}: a sandbox key's event must be test mode`);
          assert.ok(event.id.startsWith(`${provider.id}:test:`), `${event.id}: no test: segment`);
        }
      }, testMode.provider),
    );
  }

  const notPayment = fixtures.notPaymentEvent;
  if (notPayment) {
    h.it(
      'a genuine delivery that is not a payment event is acknowledged and emitted on unhandled',
      () =>
        withServer(async (server, store, rec, provider) => {
          const reply = await post(server, notPayment);
          assert.equal(reply.status, provider.ack.ok.status, reply.body);
          assert.equal(reply.body, provider.ack.ok.body);
          assert.equal(rec.events.length, 0);
          assert.equal(rec.unhandled.length, 1);
          assert.equal(store.calls.claim, 0);
        }),
    );
  }
}

/** Event `i` matches the PaymentEvent schema, names the provider and has the expected fields. */
function checkEvent(
  rec: HubRecording,
  provider: AnyPaymentProvider,
  expected: ConformanceFixtures['expected'][number],
  i: number,
): void {
  const event = rec.events[i]!;
  validateEvent ??= new Ajv({ strict: false, allowUnionTypes: true }).compile(paymentEventSchema);
  assert.ok(
    validateEvent(event),
    `event ${i} does not match the PaymentEvent schema: ${JSON.stringify(validateEvent.errors)}`,
  );
  assert.equal(event.provider, provider.id);
  assert.ok(event.id.startsWith(`${provider.id}:`));
  // `valid` is signed with a key of the mount's own mode (testMode covers the other).
  assert.equal(event.mode, provider.mode ?? 'live', `event ${i}: mode`);
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(
      (event as unknown as Record<string, unknown>)[key],
      value,
      `event ${i}: ${key}`,
    );
  }
}

/** Bad input: each refused with its status, nothing emitted, the store never asked. */
function refusalTests({ h, fixtures, post, withServer, expectRefused }: Suite): void {
  const wrongKey = fixtures.wrongKey;
  const tamper = fixtures.tamper;
  if (tamper) {
    h.it('a tampered delivery is refused with 401 and changes nothing', () =>
      expectRefused(tamper(fixtures.valid), 401),
    );
  } else if (wrongKey) {
    h.it('a tampered delivery is refused with 401 and changes nothing', () =>
      withServer(async (server, store, recording, provider) => {
        const reply = await post(server, flipLastDigit(fixtures.valid));
        if (reply.status < 400) assert.fail(partlySignedHint(reply));
        assertRefused(reply, { recording, store }, { status: 401, ackBody: provider.ack.ok.body });
      }),
    );
  }
  if (wrongKey) {
    h.it('a delivery signed with the wrong key is refused with 401 and changes nothing', () =>
      expectRefused(wrongKey, 401),
    );
  }
  (fixtures.contradicted ?? []).forEach(({ fixture, status }, i) => {
    h.it(
      `a delivery the gateway contradicts (#${i + 1}) is refused with ${status} and changes nothing`,
      () => expectRefused(fixture, status),
    );
  });
  h.it('a malformed delivery is refused with 400 and changes nothing', () =>
    expectRefused(fixtures.malformed, 400),
  );
  const stale = fixtures.stale;
  if (stale) {
    h.it('a delivery older than the maximum age is refused with 401 and changes nothing', () =>
      expectRefused(stale, 401),
    );
  }
  const unconfirmable = fixtures.unconfirmable;
  if (unconfirmable) {
    h.it('a delivery that cannot be confirmed now gets the retry answer and changes nothing', () =>
      withServer(async (server, store, rec, provider) => {
        assert.ok(provider.confirm, '`unconfirmable` is for providers with a confirm step');
        await unconfirmable.before();
        const reply = await post(server, unconfirmable.fixture);
        assert.equal(reply.status, provider.ack.retry.status, reply.body);
        assert.equal(reply.body, provider.ack.retry.body);
        assert.equal(rec.events.length, 0);
        assert.equal(store.calls.claim, 0);
      }),
    );
  }
}

/**
 * Why the default tamper (one digit of the body changed) can be accepted by a genuine provider: the
 * gateway signs only some fields (Midtrans: order_id, status_code, gross_amount and the server key)
 * and the digit was in another one, which the provider rightly ignores or confirms elsewhere.
 */
function partlySignedHint(reply: { status: number; body: string }): string {
  return (
    `expected 401, got ${reply.status}: ${reply.body}. The default tamper changes the last digit ` +
    'of the body, and the provider accepted it: if the gateway signs only part of the body, that ' +
    'digit may be in an unsigned field. Give the fixtures a `tamper` that changes a signed field ' +
    '(see "Gateways that sign part of the body" in docs/writing-a-provider.md)'
  );
}

/** A provider with a maximum age refuses a hub that would forget its deliveries sooner. */
function mountTests({ h, fixtures }: Suite): void {
  const maxAgeMs = fixtures.provider().maxAgeMs;
  if (maxAgeMs === undefined) return;
  h.it('it cannot be mounted on a hub that forgets sooner than its maximum age', async () => {
    const hub = createPaymentHub({
      retentionMs: maxAgeMs,
      leaseMs: Math.min(maxAgeMs, 30_000),
      handlerTimeoutMs: Math.min(maxAgeMs - 1, 8_000),
    });
    assert.throws(() => createWebhookMiddleware(hub, fixtures.provider()), /retentionMs/);
  });
}
