import assert from 'node:assert/strict';
import { createServer, request, type Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PaymentEvent } from '../events';
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
  /**
   * A fresh provider configured with the test keys; called once per test, and once more when the
   * tests are registered (to read its `maxAgeMs`), before any hook of your test file has run: it
   * must not depend on something a `beforeAll`/`before` hook sets up.
   */
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
  /**
   * Changes `valid` so that its signature no longer matches: the suite posts the result and expects
   * 401 with nothing emitted or stored. By default (`flipLastDigit`) the last digit of the body is
   * changed, which breaks any signature over the whole body. A gateway that signs only some fields
   * (Midtrans signs `order_id + status_code + gross_amount + server key`) must give its own, one
   * that edits a signed field and keeps the signature; otherwise the changed digit may sit in an
   * unsigned field, the genuine provider accepts the delivery, and the test fails with "expected
   * 401, got 200" and a pointer here. Without `wrongKey` the tampered test runs only when
   * `tamper` is given.
   *
   * @example
   * tamper: (valid) => {
   *   const notice = JSON.parse(String(valid.body)) as Record<string, unknown>;
   *   return { ...valid, body: JSON.stringify({ ...notice, gross_amount: '1.00' }) };
   * },
   */
  tamper?: (valid: DeliveryFixture) => DeliveryFixture;
  /**
   * For providers whose keys have modes (`{ key, mode: 'test' }`): a mount that takes sandbox
   * deliveries (a live mount with `allowTestMode: true`, or a test mount) holding the sandbox key,
   * and a genuine delivery signed with that key. Its events must have `mode: 'test'` and ids with
   * `:test:` after the provider id: a plugin that reads tagged keys but forgets to pass `keyModes`
   * to defineProvider would emit sandbox money as live, and fails here.
   */
  testMode?: { provider: () => AnyPaymentProvider; valid: DeliveryFixture };
  /** The content type used when the fixture has none (default application/json). */
  contentType?: string;
}

/**
 * The `describe`/`it` the conformance suite registers its tests with. Typed loosely enough that
 * jest's, vitest's and node:test's own functions fit under strict TypeScript (`{ describe, it }`
 * imported from any of them); the suite uses no hooks.
 */
export interface ConformanceHarness {
  describe: (name: string, fn: () => void) => unknown;
  it: (name: string, fn: () => Promise<void>) => unknown;
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

export { runProviderConformance } from './conformance';
export { runStoreConformance } from './store-conformance';
export { newAwaitedEntry, runAwaitedListConformance } from './awaited-conformance';
export type { AwaitedListConformanceFixtures } from './awaited-conformance';
export type {
  HeldClaim,
  OptionalStoreMethod,
  StoreClaimContext,
  StoreConformanceFixtures,
  StoreConformanceHarness,
  TransactionalFixtures,
} from './store-conformance';

export {
  createTestProvider,
  createStatusTestGateway,
  signedDelivery,
  sign,
  TEST_SECRET,
} from './test-gateway';
export type { StatusTestGateway, TestPayload, TestProviderOptions } from './test-gateway';

/**
 * Prints a test's measured counts when asked (`PAYHOOK_TEST_REPORT=1 npm test`), so the figures a
 * fault or property test measures can be read without `npm test` printing them on every run.
 */
export function reportCounts(label: string, ...values: unknown[]): void {
  if (!process.env.PAYHOOK_TEST_REPORT) return;
  const text = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
  process.stderr.write(`[report] ${label}: ${text}\n`);
}
