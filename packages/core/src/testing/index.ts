import assert from 'node:assert/strict';
import { createServer, request, type Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv from 'ajv';
import { paymentEventSchema, type PaymentEvent } from '../events';
import { createWebhookMiddleware, type WebhookMiddlewareOptions } from '../express';
import {
  createPaymentHub,
  type PaymentHub,
  type PaymentHubOptions,
  type SourceStatus,
  type UnhandledDelivery,
} from '../hub';
import type { PaymentErrorLike } from '../errors';
import type { AnyPaymentProvider } from '../provider';
import { createMemoryStore, type IdempotencyStore } from '../store';

/** A delivery as the gateway would put it on the wire. */
export interface DeliveryFixture {
  body: string | Buffer;
  headers?: Record<string, string>;
}

export interface ConformanceFixtures {
  /** Shown in the test titles. */
  name?: string;
  /** A fresh provider configured with the test keys; called once per test. */
  provider: () => AnyPaymentProvider;
  /** A genuine delivery that carries at least one payment event. */
  valid: DeliveryFixture;
  /** Fields every event of `valid` must have, in order. */
  expected: Array<Partial<PaymentEvent>>;
  /** The same kind of delivery signed with a key that is not the gateway's (signed gateways). */
  wrongKey?: DeliveryFixture;
  /**
   * For gateways with no signature, whose authenticity is proven by asking the gateway (a status
   * query): deliveries the gateway contradicts, with the status each must get. They replace the
   * wrong-key and tampered cases, which have nothing to break there.
   */
  contradicted?: Array<{ fixture: DeliveryFixture; status: number }>;
  /**
   * For providers with a `confirm` step: a delivery whose confirmation cannot be had right now
   * (the status API is down), with a hook that brings the API down before it is posted. It must get
   * the gateway's retry body and change nothing.
   */
  unconfirmable?: { fixture: DeliveryFixture; before(): void | Promise<void> };
  /**
   * For providers with `maxAgeMs`: a genuinely signed (or confirmed) delivery whose time is older
   * than the maximum age. It must be refused with 401 ERR_DELIVERY_STALE and change nothing.
   */
  stale?: DeliveryFixture;
  /** Correctly authenticated, but not a payload the gateway could have sent. */
  malformed: DeliveryFixture;
  /** A genuine delivery that is not a payment event (payout, unknown event...), when the gateway has one. */
  notPaymentEvent?: DeliveryFixture;
  /** Changes `valid` so that its signature no longer matches; by default one digit of the body. */
  tamper?: (valid: DeliveryFixture) => DeliveryFixture;
  /** The content type used when the fixture has none (default application/json). */
  contentType?: string;
}

type Fn = (name: string, fn: () => unknown) => void;
export interface ConformanceHarness {
  describe: Fn;
  it: Fn;
}

export interface TestServer {
  url: string;
  hub: PaymentHub;
  close(): Promise<void>;
}

/** A real listening HTTP server on 127.0.0.1 with the provider's middleware on every path. */
export async function startTestServer(
  provider: AnyPaymentProvider,
  options: {
    hub?: PaymentHub;
    hubOptions?: PaymentHubOptions;
    middleware?: WebhookMiddlewareOptions;
  } = {},
): Promise<TestServer> {
  const hub = options.hub ?? createPaymentHub(options.hubOptions);
  const middleware = createWebhookMiddleware(hub, provider, options.middleware);
  const server: Server = createServer((req, res) => middleware(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hub,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface PostedReply {
  status: number;
  body: string;
  headers: Headers;
}

/** POSTs a fixture the way the gateway would. */
export async function postDelivery(
  url: string,
  fixture: DeliveryFixture,
  contentType = 'application/json',
): Promise<PostedReply> {
  const headers: Record<string, string> = { 'content-type': contentType, ...fixture.headers };
  const response = await fetch(url, { method: 'POST', headers, body: fixture.body });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/**
 * POSTs a fixture over node:http on a keep-alive agent: for tests that send thousands of deliveries
 * (properties, chaos, cross-process runs), where fetch or supertest per request costs far more.
 */
export function postKeepAlive(
  url: string,
  fixture: DeliveryFixture,
  agent: Agent,
  contentType = 'application/json',
): Promise<{ status: number; body: string }> {
  const body = typeof fixture.body === 'string' ? Buffer.from(fixture.body, 'utf8') : fixture.body;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': contentType, ...fixture.headers, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Changes the last digit of the body: enough to break any signature over it. */
export function flipLastDigit(fixture: DeliveryFixture): DeliveryFixture {
  const text = Buffer.isBuffer(fixture.body) ? fixture.body.toString('utf8') : fixture.body;
  const index = text.search(/\d(?=\D*$)/);
  if (index < 0)
    throw new Error('flipLastDigit: the body has no digit to change; give the fixture a tamper()');
  const digit = Number(text[index]);
  return {
    ...fixture,
    body: text.slice(0, index) + String((digit + 1) % 10) + text.slice(index + 1),
  };
}

/** Counts what a store is asked, so a test can show that bad input never reached it. */
export function createCountingStore(
  inner: IdempotencyStore = createMemoryStore(),
): IdempotencyStore & {
  calls: { claim: number; commit: number; release: number; renew: number };
} {
  const calls = { claim: 0, commit: 0, release: 0, renew: 0 };
  return {
    calls,
    claim: (key, leaseMs) => (calls.claim++, inner.claim(key, leaseMs)),
    commit: (key, token, ttl) => (calls.commit++, inner.commit(key, token, ttl)),
    release: (key, token) => (calls.release++, inner.release(key, token)),
    // Renewal is passed through (a timed-out listener keeps its claim); markDone is left out on
    // purpose, so every write goes through the counted claim/commit.
    ...(inner.renew
      ? {
          renew: (key: string, token: string, leaseMs: number) => (
            calls.renew++,
            inner.renew!(key, token, leaseMs)
          ),
        }
      : {}),
  };
}

let validateEvent: (((e: unknown) => boolean) & { errors?: unknown }) | undefined;

/** Everything a hub emitted, for assertions: payment events, notices, errors, source reports. */
export interface HubRecording {
  events: PaymentEvent[];
  unhandled: UnhandledDelivery[];
  duplicates: PaymentEvent[];
  superseded: PaymentEvent[];
  errors: PaymentErrorLike[];
  sources: Array<{ channel: 'source.up' | 'source.down' | 'source.error'; status: SourceStatus }>;
  /** Resolves once `check` holds (checked after every emission), rejects after `timeoutMs`. */
  until(check: (r: HubRecording) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Records what a hub emits. Payment listeners it adds resolve at once, so they never fail a delivery. */
export function recordHub(hub: PaymentHub): HubRecording {
  const waiters = new Set<() => void>();
  const poke = (): void => waiters.forEach((w) => w());
  const r: HubRecording = {
    events: [],
    unhandled: [],
    duplicates: [],
    superseded: [],
    errors: [],
    sources: [],
    until(check, what, timeoutMs = 10_000) {
      if (check(r)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          if (!check(r)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
  hub.onAny((e) => void (r.events.push(e), poke()));
  hub.on('unhandled', (u) => void (r.unhandled.push(u), poke()));
  hub.on('duplicate', (e) => void (r.duplicates.push(e), poke()));
  hub.on('superseded', (e) => void (r.superseded.push(e), poke()));
  hub.on('error', (e) => void (r.errors.push(e), poke()));
  for (const channel of ['source.up', 'source.down', 'source.error'] as const) {
    hub.on(channel, (status) => void (r.sources.push({ channel, status }), poke()));
  }
  return r;
}

/** What a refused delivery must look like: its answer, and nothing emitted or stored. */
export interface RefusalExpectation {
  status: number;
  /** The error code of the JSON error body and of the one `error` report, when checked. */
  code?: string;
  /** The gateway's success body, which a refused delivery must never get. */
  ackBody: string;
}

/**
 * The check behind every "bad input changes nothing" test: the reply has the status (and code), it
 * is not the success body, no event or unhandled notice was emitted, the store was never asked,
 * and the refusal was reported once on `error`. Framework-free (node:assert), like the suite.
 */
export function assertRefused(
  reply: { status: number; body: string },
  seen: { recording: HubRecording; store: { calls: { claim: number } } },
  expected: RefusalExpectation,
): void {
  const { recording, store } = seen;
  const { status, code, ackBody } = expected;
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.body}`);
  assert.notEqual(reply.body, ackBody, 'a refused delivery must not get the success body');
  if (code !== undefined) {
    const body = JSON.parse(reply.body) as { error?: { code?: string } };
    assert.equal(body.error?.code, code, `expected the error code ${code}: ${reply.body}`);
  }
  assert.equal(recording.events.length, 0, 'a refused delivery must emit no event');
  assert.equal(recording.unhandled.length, 0, 'a refused delivery is not an unhandled notice');
  assert.equal(store.calls.claim, 0, 'a refused delivery must not touch the store');
  assert.deepEqual(
    recording.errors.map((e) => e.code),
    [code ?? recording.errors[0]?.code],
    'a refused delivery is reported once on the error channel',
  );
}

/**
 * The shared conformance suite: every provider, ours and the users', must pass it. It registers
 * tests with the host framework's `describe`/`it` (jest, vitest, mocha; pass `harness` for
 * node:test) and drives the provider through real HTTP.
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
  const contentType = fixtures.contentType ?? 'application/json';
  const withServer = async (
    fn: (
      server: TestServer,
      store: ReturnType<typeof createCountingStore>,
      rec: HubRecording,
      provider: AnyPaymentProvider,
    ) => Promise<void>,
  ): Promise<void> => {
    const provider = fixtures.provider();
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
  const expectRefused = async (fixture: DeliveryFixture, status: number): Promise<void> =>
    withServer(async (server, store, recording, provider) => {
      const reply = await postDelivery(server.url, fixture, contentType);
      assertRefused(reply, { recording, store }, { status, ackBody: provider.ack.ok.body });
    });

  h.describe(`payhook provider conformance${fixtures.name ? `: ${fixtures.name}` : ''}`, () => {
    h.it(
      'a genuine delivery is acknowledged with the gateway success body and emits the expected events',
      () =>
        withServer(async (server, _store, rec, provider) => {
          const reply = await postDelivery(server.url, fixtures.valid, contentType);
          assert.equal(reply.status, provider.ack.ok.status, reply.body);
          assert.equal(reply.body, provider.ack.ok.body);
          assert.equal(rec.events.length, fixtures.expected.length);
          validateEvent ??= new Ajv({ strict: false, allowUnionTypes: true }).compile(
            paymentEventSchema,
          );
          fixtures.expected.forEach((expected, i) => {
            const event = rec.events[i]!;
            assert.ok(
              validateEvent!(event),
              `event ${i} does not match the PaymentEvent schema: ${JSON.stringify(validateEvent!.errors)}`,
            );
            assert.equal(event.provider, provider.id);
            assert.ok(event.id.startsWith(`${provider.id}:`));
            for (const [key, value] of Object.entries(expected)) {
              assert.deepEqual(
                (event as unknown as Record<string, unknown>)[key],
                value,
                `event ${i}: ${key}`,
              );
            }
          });
        }),
    );

    h.it('a duplicate delivery is acknowledged and dispatched once', () =>
      withServer(async (server, _store, rec, provider) => {
        const first = await postDelivery(server.url, fixtures.valid, contentType);
        const second = await postDelivery(server.url, fixtures.valid, contentType);
        assert.equal(first.body, provider.ack.ok.body);
        assert.equal(second.status, provider.ack.ok.status);
        assert.equal(second.body, provider.ack.ok.body);
        assert.equal(rec.events.length, fixtures.expected.length, 'listeners ran once per event');
        assert.equal(rec.duplicates.length, fixtures.expected.length);
      }),
    );

    const wrongKey = fixtures.wrongKey;
    if (wrongKey || fixtures.tamper) {
      h.it('a tampered delivery is refused with 401 and changes nothing', () =>
        expectRefused((fixtures.tamper ?? flipLastDigit)(fixtures.valid), 401),
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

    if (fixtures.stale) {
      const stale = fixtures.stale;
      h.it('a delivery older than the maximum age is refused with 401 and changes nothing', () =>
        expectRefused(stale, 401),
      );
    }

    const maxAgeMs = fixtures.provider().maxAgeMs;
    if (maxAgeMs !== undefined) {
      h.it('it cannot be mounted on a hub that forgets sooner than its maximum age', () => {
        const hub = createPaymentHub({
          retentionMs: maxAgeMs,
          leaseMs: Math.min(maxAgeMs, 30_000),
          handlerTimeoutMs: Math.min(maxAgeMs - 1, 8_000),
        });
        assert.throws(() => createWebhookMiddleware(hub, fixtures.provider()), /retentionMs/);
      });
    }

    if (fixtures.unconfirmable) {
      const { fixture, before } = fixtures.unconfirmable;
      h.it(
        'a delivery that cannot be confirmed now gets the retry answer and changes nothing',
        () =>
          withServer(async (server, store, rec, provider) => {
            assert.ok(provider.confirm, '`unconfirmable` is for providers with a confirm step');
            await before();
            const reply = await postDelivery(server.url, fixture, contentType);
            assert.equal(reply.status, provider.ack.retry.status, reply.body);
            assert.equal(reply.body, provider.ack.retry.body);
            assert.equal(rec.events.length, 0);
            assert.equal(store.calls.claim, 0);
          }),
      );
    }

    h.it('a failing listener gets the gateway retry answer, and the redelivery is processed', () =>
      withServer(async (server, _store, rec, provider) => {
        let calls = 0;
        server.hub.onAny(() => {
          calls++;
          if (calls === 1) throw new Error('database down');
        });
        const first = await postDelivery(server.url, fixtures.valid, contentType);
        assert.equal(first.status, provider.ack.retry.status);
        assert.equal(first.body, provider.ack.retry.body);
        assert.equal(rec.errors.length, 1);
        const second = await postDelivery(server.url, fixtures.valid, contentType);
        assert.equal(second.status, provider.ack.ok.status);
        assert.equal(second.body, provider.ack.ok.body);
        assert.ok(calls >= 2, 'the redelivery reached the listener again');
      }),
    );

    if (fixtures.notPaymentEvent) {
      const notPayment = fixtures.notPaymentEvent;
      h.it(
        'a genuine delivery that is not a payment event is acknowledged and emitted on unhandled',
        () =>
          withServer(async (server, store, rec, provider) => {
            const reply = await postDelivery(server.url, notPayment, contentType);
            assert.equal(reply.status, provider.ack.ok.status, reply.body);
            assert.equal(reply.body, provider.ack.ok.body);
            assert.equal(rec.events.length, 0);
            assert.equal(rec.unhandled.length, 1);
            assert.equal(store.calls.claim, 0);
          }),
      );
    }
  });
}

export { createTestProvider, signedDelivery, sign, TEST_SECRET } from './test-gateway';
export type { TestPayload } from './test-gateway';

/**
 * Prints a test's measured counts when asked (`PAYHOOK_TEST_REPORT=1 npm test`), so the figures a
 * fault or property test measures can be read without `npm test` printing them on every run.
 */
export function reportCounts(label: string, ...values: unknown[]): void {
  if (!process.env.PAYHOOK_TEST_REPORT) return;
  const text = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
  process.stderr.write(`[report] ${label}: ${text}\n`);
}
