import { readFileSync } from 'node:fs';
import { join } from 'node:path';
/**
 * Issue 23, item 5: every junk webhook with a new well-formed id used to cost one authenticated
 * status query. A budget (`unwatchedQueriesPerMinute`) now bounds the queries for transactions
 * nobody awaits; beyond it such webhooks get the retry body without a query, with their own code.
 * Real HTTP to the middleware, the Lailaolab simulator as the status API, its requests counted.
 */
import express from 'express';
import request from 'supertest';
import {
  createMemoryAwaitedList,
  createPaymentHub,
  ProviderConfigError,
  type AwaitedList,
  type ReceiveResult,
} from '@payhook/core';
import { createCountingStore } from '@payhook/core/testing';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import {
  createLailaolabMiddleware,
  createLailaolabProvider,
  createLailaolabSource,
  DEFAULT_UNWATCHED_QUERIES_PER_MINUTE,
  type LailaolabMiddlewareOptions,
  type LailaolabSource,
} from '../src';
import { record, SECRET, startTestSource } from './helpers';

let sim: LailaolabSimulator;
let sources: LailaolabSource[] = [];
let seq = 0;
const txn = (name: string): string => `${name}-${++seq}`;

beforeAll(async () => {
  sim = await startLailaolabSimulator({ secretKey: SECRET });
});
afterEach(async () => {
  for (const s of sources) await s.close();
  sources = [];
});
afterAll(() => sim.close());

/** A completion notice as the portal webhook sends it, for a transaction of any id. */
const notice = (transactionId: string, amount = 1000) => ({
  message: 'SUCCESS',
  status: 'PAYMENT_COMPLETED',
  transactionId,
  txnAmount: amount,
  sourceCurrency: 'LAK',
});

function app(hub: ReturnType<typeof createPaymentHub>, options: LailaolabMiddlewareOptions) {
  const results: ReceiveResult[] = [];
  const server = express();
  const middleware = createLailaolabMiddleware(hub, {
    ...options,
    onResult: (r) => void results.push(r),
  });
  server.use('/lailaolab', middleware);
  const post = (body: unknown) =>
    request(server)
      .post('/lailaolab')
      .set('content-type', 'application/json')
      .send(JSON.stringify(body));
  return { post, results, provider: middleware.provider };
}

const HOUR = 3_600_000;

const queriesFor = (ids: readonly string[]): number =>
  sim.statusRequests.filter((r) => ids.includes(r.transactionId)).length;

describe('unwatchedQueriesPerMinute: junk ids beyond the budget cost no query', () => {
  it('12 junk ids, budget 5: exactly 5 queries; the other 7 get 500 RETRY with ERR_STATUS_BUDGET', async () => {
    const hub = createPaymentHub({ store: createCountingStore() });
    const rec = record(hub);
    const { post, results } = app(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      unwatchedQueriesPerMinute: 5,
    });
    const junk = Array.from({ length: 12 }, () => txn('JUNK'));
    const answers: Array<[number, string]> = [];
    for (const id of junk) {
      const res = await post(notice(id));
      answers.push([res.status, res.text]);
    }
    expect(queriesFor(junk)).toBe(5);
    // Within the budget: asked, unknown to the gateway, refused (409). Beyond: not asked, retried.
    expect(answers.slice(0, 5).every(([status]) => status === 409)).toBe(true);
    expect(answers.slice(5)).toEqual(Array.from({ length: 7 }, () => [500, 'RETRY']));
    expect(results.slice(5).map((r) => r.error?.code)).toEqual(
      Array.from({ length: 7 }, () => 'ERR_STATUS_BUDGET'),
    );
    expect(rec.errors.filter((e) => e.code === 'ERR_STATUS_BUDGET')).toHaveLength(7);
    expect(rec.events).toHaveLength(0);

    // A repeat of an id already asked about is answered from the cache: no query, no budget.
    const again = await post(notice(junk[0]!));
    expect(again.status).toBe(409);
    expect(queriesFor(junk)).toBe(5);
  });

  it('a watched transaction still gets its query once the budget is spent, and is credited', async () => {
    // A socket that never connects: the sweep after a connect would confirm the paid watched
    // transaction itself, and only the webhook's query is under test here.
    const { hub, rec } = startTestSource(
      { socketBase: 'http://127.0.0.1:9/', apiBase: sim.apiBase },
      sources,
      {
        unwatchedQueriesPerMinute: 3,
      },
    );
    const source = sources[0]!;
    const { post } = app(hub, { source });
    const paid = txn('AWAITED');
    sim.createTransaction({ transactionId: paid, amount: 25000 });
    await source.watch(paid);
    sim.pay(paid, { emit: false });
    const junk = Array.from({ length: 6 }, () => txn('FLOOD'));
    for (const id of junk) await post(notice(id));
    expect(queriesFor(junk)).toBe(3);
    const res = await post(notice(paid, 25000));
    expect([res.status, res.text]).toEqual([200, 'OK']);
    expect(queriesFor([paid])).toBe(1);
    expect(source.status().state).not.toBe('connected');
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ transactionId: paid, amount: '25000' });
  });

  it('a genuine but unwatched payment in a spent budget is retried, not lost to a refusal', async () => {
    const hub = createPaymentHub({ store: createCountingStore() });
    const rec = record(hub);
    const { post } = app(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      unwatchedQueriesPerMinute: 0,
    });
    const paid = txn('UNWATCHED');
    sim.createTransaction({ transactionId: paid, amount: 5000 });
    sim.pay(paid, { emit: false });
    const res = await post(notice(paid, 5000));
    expect([res.status, res.text]).toEqual([500, 'RETRY']);
    expect(queriesFor([paid])).toBe(0);
    expect(rec.events).toHaveLength(0);
  });
});

describe('unwatchedQueriesPerMinute: 0, confirm only awaited transactions', () => {
  it("without a source: the middleware reads the hub's awaited list; an awaited payment is asked about and credited, junk ids and ended ones cost no query", async () => {
    const hub = createPaymentHub({ store: createCountingStore(), awaited: { sweepEveryMs: 0 } });
    const rec = record(hub);
    const { post, results, provider } = app(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      unwatchedQueriesPerMinute: 0,
    });
    const awaited = txn('EXPECTED');
    const ended = txn('ENDED');
    for (const id of [awaited, ended]) {
      sim.createTransaction({ transactionId: id, amount: 3000 });
      await hub.expectPayment(provider, { reference: id, until: Date.now() + HOUR });
      sim.pay(id, { emit: false });
    }
    // The merchant stopped awaiting it (source.unwatch does this): it is junk to the budget now.
    await hub.awaited.expire(`lailaolab:ref:${ended}`, Date.now(), 'unwatched');
    const junk = Array.from({ length: 5 }, () => txn('JUNK-ZERO'));
    const answers: Array<[number, string]> = [];
    for (const id of [...junk, ended]) {
      const res = await post(notice(id, 3000));
      answers.push([res.status, res.text]);
    }
    expect(answers).toEqual(Array.from({ length: 6 }, () => [500, 'RETRY']));
    expect(results.map((r) => r.error?.code)).toEqual(
      Array.from({ length: 6 }, () => 'ERR_STATUS_BUDGET'),
    );
    expect(queriesFor([...junk, ended])).toBe(0);

    const res = await post(notice(awaited, 3000));
    expect([res.status, res.text]).toEqual([200, 'OK']);
    expect(queriesFor([awaited])).toBe(1);
    expect(rec.events).toEqual([expect.objectContaining({ transactionId: awaited })]);
    expect(await hub.awaited.get(`lailaolab:ref:${awaited}`)).toMatchObject({
      state: 'settled',
      settledBy: 'webhook',
    });
  });

  it('an awaited list that cannot be read awaits nothing: the id is counted, never let through free', async () => {
    const memory = createMemoryAwaitedList();
    const broken: AwaitedList = {
      ...memory,
      get: () => Promise.reject(new Error('list backend down')),
    };
    const hub = createPaymentHub({ awaited: { list: broken, sweepEveryMs: 0 } });
    const { post, provider } = app(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      unwatchedQueriesPerMinute: 0,
    });
    const id = txn('UNREADABLE');
    sim.createTransaction({ transactionId: id, amount: 700 });
    await hub.expectPayment(provider, { reference: id, until: Date.now() + HOUR });
    sim.pay(id, { emit: false });
    const res = await post(notice(id, 700));
    expect([res.status, res.text]).toEqual([500, 'RETRY']);
    expect(queriesFor([id])).toBe(0);
    await hub.close();
  });
});

describe('unwatchedQueriesPerMinute is checked at boot', () => {
  it.each([-1, 1.5, '60', Number.NaN])('%p: ProviderConfigError naming it', (value) => {
    const options = { secretKey: SECRET, unwatchedQueriesPerMinute: value as number };
    expect(() => createLailaolabProvider(options)).toThrow(ProviderConfigError);
    const hub = createPaymentHub();
    expect(() => createLailaolabMiddleware(hub, options)).toThrow(/unwatchedQueriesPerMinute/);
    expect(() =>
      createLailaolabSource(hub, {
        ...options,
        url: sim.socketBase,
        statusQuery: { baseUrl: sim.apiBase },
      }),
    ).toThrow(/unwatchedQueriesPerMinute/);
  });

  it('the README documents the default the code uses', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain(
      `| \`unwatchedQueriesPerMinute\` | \`${DEFAULT_UNWATCHED_QUERIES_PER_MINUTE}\` |`,
    );
  });
});
