import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMemoryAwaitedList,
  createMemoryInbox,
  createMemoryStore,
  createPaymentHub,
  createWebhookMiddleware,
  type AwaitedList,
  type IdempotencyStore,
} from '@payhook/core';
import { notifyHub } from '@payhook/core/plugin';
import { createTestProvider, postDelivery, signedDelivery } from '@payhook/core/testing';
import { postFixture } from '@payhook/testing';
import { createPayhookMetrics, METRIC_NAMES } from '../src';
import { AWAITED_COUNTS_TIMEOUT_MS } from '../src/metrics/create-metrics';
import { createStatusGateway, startShop, type Shop } from './helpers';

const ZERO = { provider: 'test-gateway', outcome: 'processed', code: 'none' };

/** One sample of the exposition text (labels in the order given), or undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const inner = open < 0 ? '' : line.slice(open + 1, line.lastIndexOf('}'));
    const have = inner ? inner.split(',') : [];
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length)
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics over real HTTP', () => {
  let shop: Shop;
  const scrape = async (): Promise<{ status: number; type: string | null; text: string }> => {
    const response = await fetch(`${shop.url}/metrics`);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  };
  beforeAll(async () => {
    shop = await startShop();
  });
  afterAll(() => shop.close());

  it('exposes every counter at zero before the first delivery', async () => {
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const zero = { provider: 'cashy', outcome: 'processed', code: 'none' };
    expect(sample(text, 'payhook_deliveries_total', zero)).toBe(0);
    expect(
      sample(text, 'payhook_deliveries_total', {
        provider: 'cashy',
        outcome: 'rejected',
        code: 'ERR_SIGNATURE_INVALID',
      }),
    ).toBe(0);
    expect(
      sample(text, 'payhook_errors_total', {
        provider: 'test-gateway',
        code: 'ERR_PAYLOAD_INVALID',
      }),
    ).toBe(0);
    expect(
      sample(text, 'payhook_store_errors_total', {
        provider: 'cashy',
        code: 'ERR_STORE_UNAVAILABLE',
      }),
    ).toBe(0);
    expect(
      sample(text, 'payhook_delivery_duration_seconds_count', {
        provider: 'cashy',
        outcome: 'processed',
      }),
    ).toBe(0);
    expect(sample(text, 'payhook_listeners_in_flight')).toBe(0);
  });

  it('counts deliveries by provider, outcome and code, and times them and the listeners', async () => {
    const good = signedDelivery({ txn: 'M-1', order: 'MO-1' });
    expect((await postDelivery(`${shop.url}/webhooks/test`, good)).status).toBe(200);
    expect((await postDelivery(`${shop.url}/webhooks/test`, good)).status).toBe(200);
    const refused = await postFixture(
      `${shop.url}/webhooks/cashy`,
      shop.cashy.payin({ mchOrderNo: 'MC-1' }),
    );
    expect(refused.status).toBe(401);
    const { text } = await scrape();
    const count = (provider: string, outcome: string, code = 'none') =>
      sample(text, 'payhook_deliveries_total', { provider, outcome, code });
    expect(count('test-gateway', 'processed')).toBe(1);
    expect(count('test-gateway', 'duplicate')).toBe(1);
    expect(count('cashy', 'rejected', 'ERR_SIGNATURE_INVALID')).toBe(1);
    expect(count('cashy', 'processed')).toBe(0);
    expect(
      sample(text, 'payhook_errors_total', { provider: 'cashy', code: 'ERR_SIGNATURE_INVALID' }),
    ).toBe(1);
    expect(
      sample(text, 'payhook_delivery_duration_seconds_count', {
        provider: 'test-gateway',
        outcome: 'processed',
      }),
    ).toBe(1);
    expect(
      sample(text, 'payhook_listener_duration_seconds_count', {
        provider: 'test-gateway',
        type: 'payment.completed',
        result: 'ok',
      }),
    ).toBe(1);
    expect(sample(text, 'payhook_listeners_in_flight')).toBe(0);
  });
});

describe('metrics from the hub channels and the queue', () => {
  it('store errors, sources up and down, queue gauges read at each scrape', async () => {
    const failing: IdempotencyStore = {
      ...createMemoryStore(),
      claim: () => Promise.reject(new Error('connection refused')),
    };
    let stats = { depth: 3, oldestPendingAgeMs: 1500 as number | null, dead: 1 };
    const metrics = createPayhookMetrics({
      providers: ['test-gateway'],
      sources: ['lailaolab'],
      queue: { stats: async () => stats },
    });
    const hub = createPaymentHub({ store: failing, inbox: metrics.inbox(createMemoryInbox()) });
    metrics.watch(hub);
    hub.on('payment.completed', async () => undefined);
    const middleware = createWebhookMiddleware(hub, createTestProvider());
    const server = createServer((req, res) => middleware(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const text0 = await metrics.registry.metrics();
      expect(sample(text0, 'payhook_source_up', { provider: 'lailaolab' })).toBe(0);
      expect(sample(text0, 'payhook_queue_depth')).toBe(3);
      expect(sample(text0, 'payhook_queue_oldest_pending_age_seconds')).toBe(1.5);
      expect((await postDelivery(url, signedDelivery())).status).toBe(503);
      notifyHub(hub, 'source.up', { provider: 'lailaolab' });
      notifyHub(hub, 'source.down', { provider: 'lailaolab', detail: 'transport close' });
      notifyHub(hub, 'source.up', { provider: 'lailaolab' });
      stats = { depth: 0, oldestPendingAgeMs: null, dead: 2 };
      const text = await metrics.registry.metrics();
      expect(
        sample(text, 'payhook_store_errors_total', {
          provider: 'test-gateway',
          code: 'ERR_STORE_UNAVAILABLE',
        }),
      ).toBe(1);
      expect(
        sample(text, 'payhook_deliveries_total', {
          provider: 'test-gateway',
          outcome: 'failed',
          code: 'ERR_STORE_UNAVAILABLE',
        }),
      ).toBe(1);
      expect(sample(text, 'payhook_source_up', { provider: 'lailaolab' })).toBe(1);
      expect(sample(text, 'payhook_source_down_total', { provider: 'lailaolab' })).toBe(1);
      expect(sample(text, 'payhook_queue_depth')).toBe(0);
      expect(sample(text, 'payhook_queue_oldest_pending_age_seconds')).toBe(0);
      expect(sample(text, 'payhook_queue_dead')).toBe(2);
      // With a queue source, the registry holds exactly the documented metrics.
      const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).sort();
      expect(names).toEqual([...METRIC_NAMES].sort());
    } finally {
      metrics.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses options it cannot use, at construction', () => {
    expect(() => createPayhookMetrics({ providers: 'cashy' } as never)).toThrow(/providers/);
    expect(() => createPayhookMetrics({ providers: [], queue: {} as never })).toThrow(
      /queue\.stats/,
    );
  });
});

describe('awaited-payment metrics', () => {
  const later = () => Date.now() + 3_600_000;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('gauges read the counts at each scrape; recovered counts status queries only; overdue counted', async () => {
    const metrics = createPayhookMetrics({ providers: ['test-gateway'] });
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
    hub.on('payment.completed', async () => undefined);
    metrics.watch(hub);
    const gateway = createStatusGateway();
    const scrape = () => metrics.registry.metrics();
    try {
      const text0 = await scrape();
      expect(sample(text0, 'payhook_awaited_payments', { state: 'awaiting' })).toBe(0);
      expect(sample(text0, 'payhook_awaited_payments', { state: 'overdue' })).toBe(0);
      for (const by of ['webhook', 'socket', 'status-query', 'replay'])
        expect(
          sample(text0, 'payhook_awaited_settled_total', { provider: 'test-gateway', by }),
        ).toBe(0);
      expect(sample(text0, 'payhook_awaited_recovered_total', { provider: 'test-gateway' })).toBe(
        0,
      );
      expect(sample(text0, 'payhook_awaited_overdue_total', { provider: 'test-gateway' })).toBe(0);

      for (const orderId of ['MW-1', 'MR-1', 'MA-1'])
        await hub.expectPayment(gateway.provider, { orderId, until: later() });
      await hub.expectPayment(gateway.provider, { orderId: 'ML-1', until: Date.now() + 30 });
      const text1 = await scrape();
      expect(sample(text1, 'payhook_awaited_payments', { state: 'awaiting' })).toBe(4);
      expect(sample(text1, 'payhook_awaited_payments', { state: 'overdue' })).toBe(0);

      // Settled by its webhook: counted as settled, not as recovered.
      const { body, headers } = signedDelivery({ txn: 'MT-W', order: 'MW-1' });
      const result = await hub.receive(gateway.provider, {
        body: Buffer.from(body),
        headers,
        transport: 'http',
        receivedAt: new Date(),
      });
      expect(result.outcome).toBe('processed');
      await wait(50);
      // ML-1's until has passed: overdue in the gauge before any sweep closes it.
      const text2 = await scrape();
      expect(sample(text2, 'payhook_awaited_payments', { state: 'awaiting' })).toBe(2);
      expect(sample(text2, 'payhook_awaited_payments', { state: 'overdue' })).toBe(1);
      const settled = (t: string, by: string) =>
        sample(t, 'payhook_awaited_settled_total', { provider: 'test-gateway', by });
      const recovered = (t: string) =>
        sample(t, 'payhook_awaited_recovered_total', { provider: 'test-gateway' });
      expect([settled(text2, 'webhook'), recovered(text2)]).toEqual([1, 0]);

      // The webhook of MR-1 is lost; a sweep asks the gateway and recovers it; ML-1 goes overdue.
      gateway.paid('MT-R', 'MR-1');
      const report = await hub.sweep();
      expect([report.recovered, report.overdue]).toEqual([1, 1]);
      const text3 = await scrape();
      expect([settled(text3, 'webhook'), settled(text3, 'status-query'), recovered(text3)]).toEqual(
        [1, 1, 1],
      );
      expect(sample(text3, 'payhook_awaited_overdue_total', { provider: 'test-gateway' })).toBe(1);
      expect(sample(text3, 'payhook_awaited_payments', { state: 'awaiting' })).toBe(1);
      expect(sample(text3, 'payhook_awaited_payments', { state: 'overdue' })).toBe(1);
      expect(sample(text3, 'payhook_awaited_count_errors_total')).toBe(0);

      // Detached on close: no more counting, and the list is no longer read.
      metrics.close();
      gateway.paid('MT-A', 'MA-1');
      expect((await hub.sweep()).recovered).toBe(1);
      const text4 = await scrape();
      expect(recovered(text4)).toBe(1);
      expect(sample(text4, 'payhook_awaited_payments', { state: 'awaiting' })).toBeUndefined();
      expect(text4).toContain('# TYPE payhook_awaited_payments gauge');
    } finally {
      metrics.close();
      await hub.close();
    }
  });

  it('a failing or hanging list leaves the gauge out and counts the error; the scrape still answers', async () => {
    const warnings: unknown[] = [];
    let counts: AwaitedList['counts'] = () => Promise.reject(new Error('list down'));
    const list = createMemoryAwaitedList();
    const hub = createPaymentHub({
      awaited: { list: { ...list, counts: (now) => counts(now) }, sweepEveryMs: 0 },
      logger: { debug() {}, info() {}, warn: (o: unknown) => void warnings.push(o), error() {} },
    });
    const metrics = createPayhookMetrics({ providers: ['test-gateway'], hub });
    const server = createServer((req, res) => metrics.handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      const failed = await fetch(url);
      expect(failed.status).toBe(200);
      const text = await failed.text();
      expect(sample(text, 'payhook_awaited_payments', { state: 'awaiting' })).toBeUndefined();
      expect(sample(text, 'payhook_awaited_count_errors_total')).toBe(1);
      expect(sample(text, 'payhook_deliveries_total', ZERO)).toBe(0);
      expect(warnings).toHaveLength(1);

      counts = list.counts;
      const back = await (await fetch(url)).text();
      expect(sample(back, 'payhook_awaited_payments', { state: 'awaiting' })).toBe(0);
      expect(sample(back, 'payhook_awaited_count_errors_total')).toBe(1);

      // A list that never answers: the scrape waits AWAITED_COUNTS_TIMEOUT_MS, no longer.
      counts = () => new Promise(() => undefined);
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const pending = metrics.registry.metrics();
      await jest.advanceTimersByTimeAsync(AWAITED_COUNTS_TIMEOUT_MS);
      const hung = await pending;
      expect(sample(hung, 'payhook_awaited_payments', { state: 'overdue' })).toBeUndefined();
      expect(sample(hung, 'payhook_awaited_count_errors_total')).toBe(2);
    } finally {
      jest.useRealTimers();
      metrics.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
