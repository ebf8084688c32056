import express from 'express';
import request from 'supertest';
import { ProviderConfigError } from '@payhook/core';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import {
  createLailaolabMiddleware,
  createLailaolabProvider,
  createLailaolabSource,
  type LailaolabMiddlewareOptions,
  type LailaolabSource,
} from '../src';
import { SECRET, startTestSource, testHub } from './helpers';

/**
 * Test and live mode (issue 26). Lailaolab signs nothing, so no key can tag a delivery: the
 * mount's `mode` is that of its keys, and every event has it. The gateway's sandbox is a second
 * simulator here, with a key of its own: the status API of each environment knows only its own
 * transactions, as the real one does.
 */

const SANDBOX_SECRET = '$2b$10$Sandbox/Only.Key0qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68';
/** One id in both environments: a test transaction must never pass for the live one. */
const TXN = 'b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
const SANDBOX_ONLY = 'c8f2d3e4-5a6b-4c7d-9e8f-0a1b2c3d4e5f';
const PAID_AT = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

let live: LailaolabSimulator;
let sandbox: LailaolabSimulator;
let body: { live: string; sandbox: string; sandboxOnly: string };
beforeAll(async () => {
  live = await startLailaolabSimulator({ secretKey: SECRET });
  sandbox = await startLailaolabSimulator({ secretKey: SANDBOX_SECRET });
  const paid = (sim: LailaolabSimulator, id: string) => {
    sim.createTransaction({ transactionId: id, amount: 5000 });
    return JSON.stringify(sim.pay(id, { emit: false, at: PAID_AT }));
  };
  body = {
    live: paid(live, TXN),
    sandbox: paid(sandbox, TXN),
    sandboxOnly: paid(sandbox, SANDBOX_ONLY),
  };
});
afterAll(async () => {
  await live.close();
  await sandbox.close();
});

const liveMount = (): LailaolabMiddlewareOptions => ({
  secretKey: SECRET,
  statusQuery: { baseUrl: live.apiBase },
});
const testMount = (): LailaolabMiddlewareOptions => ({
  secretKey: SANDBOX_SECRET,
  statusQuery: { baseUrl: sandbox.apiBase },
  mode: 'test',
});

/** One hub, with a webhook mount per entry of `mounts` at /<name>. */
function webhooks(mounts: Record<string, LailaolabMiddlewareOptions>) {
  const t = testHub();
  const app = express();
  for (const [name, options] of Object.entries(mounts))
    app.use(`/${name}`, createLailaolabMiddleware(t.hub, options));
  const post = (path: string, text: string) =>
    request(app).post(`/${path}`).set('content-type', 'application/json').send(text);
  return { ...t, post };
}

describe('the webhook: the mount decides the mode, asking the status API with its own key', () => {
  it('a sandbox notice posted to a live mount is asked about with the live key and refused', async () => {
    const w = webhooks({ live: liveMount() });
    const liveAsked = live.statusRequests.length;
    const sandboxAsked = sandbox.statusRequests.length;
    const res = await w.post('live', body.sandboxOnly);
    expect(res.status).toBe(409);
    expect(JSON.parse(res.text).error.code).toBe('ERR_STATUS_MISMATCH');
    expect(w.rec.events).toHaveLength(0);
    expect(w.store.calls.claim).toBe(0);
    for (const id of [
      `lailaolab:${SANDBOX_ONLY}:completed`,
      `lailaolab:test:${SANDBOX_ONLY}:completed`,
    ])
      expect((await w.store.claim(id, 1_000)).state).toBe('claimed');
    expect(live.statusRequests.slice(liveAsked)).toEqual([
      { transactionId: SANDBOX_ONLY, authorized: true },
    ]);
    expect(sandbox.statusRequests.length).toBe(sandboxAsked);
  });

  it("a mode: 'test' mount emits test events, with ids of their own", async () => {
    const w = webhooks({ sandbox: testMount() });
    expect((await w.post('sandbox', body.sandbox)).status).toBe(200);
    expect(w.rec.events).toHaveLength(1);
    expect(w.rec.events[0]).toMatchObject({
      id: `lailaolab:test:${TXN}:completed`,
      mode: 'test',
      verification: 'status-query',
    });
  });

  it('a live and a test mount on one hub keep the same transaction id apart', async () => {
    const w = webhooks({ live: liveMount(), sandbox: testMount() });
    expect((await w.post('sandbox', body.sandbox)).status).toBe(200);
    expect((await w.post('live', body.live)).status).toBe(200);
    expect(w.rec.events.map((e) => [e.id, e.mode])).toEqual([
      [`lailaolab:test:${TXN}:completed`, 'test'],
      [`lailaolab:${TXN}:completed`, 'live'],
    ]);
    expect(w.rec.duplicates).toHaveLength(0);
    // Both were processed and recorded, each under its own key.
    for (const id of [`lailaolab:test:${TXN}:completed`, `lailaolab:${TXN}:completed`])
      expect((await w.store.claim(id, 1_000)).state).toBe('done');
  });
});

describe("the socket source: a mode: 'test' source emits test events", () => {
  const sources: LailaolabSource[] = [];
  afterAll(async () => {
    for (const s of sources) await s.close();
  });

  it('confirmed through the sandbox status API, with its key', async () => {
    const t = startTestSource(sandbox, sources, { secretKey: SANDBOX_SECRET, mode: 'test' });
    await t.rec.until((r) => r.up.length === 1, 'source.up');
    await t.source.sweep();
    const id = 'd9a3e4f5-6b7c-4d8e-af90-1b2c3d4e5f60';
    sandbox.createTransaction({ transactionId: id, amount: 7000 });
    sandbox.pay(id, { at: PAID_AT });
    await t.rec.until((r) => r.events.length === 1, 'payment event');
    expect(t.rec.events[0]).toMatchObject({ id: `lailaolab:test:${id}:completed`, mode: 'test' });
    expect(t.source.provider.mode).toBe('test');
    expect(sandbox.statusRequests).toContainEqual({ transactionId: id, authorized: true });
  });
});

describe('mode options are checked at construction', () => {
  const optionOf = (build: () => unknown): string | undefined => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ProviderConfigError);
      return (error as ProviderConfigError).option;
    }
    return undefined;
  };
  const cases = [
    ["mode: 'staging'", 'mode', { mode: 'staging' }],
    ["allowTestMode: 'yes'", 'allowTestMode', { allowTestMode: 'yes' }],
    ['allowTestMode: true (nothing it could act on)', 'allowTestMode', { allowTestMode: true }],
  ] as const;

  it.each(cases)(
    '%s is a ProviderConfigError naming %s, from the provider, the middleware and the source',
    (_what, option, given) => {
      const options = { ...liveMount(), ...(given as object) } as LailaolabMiddlewareOptions & {
        secretKey: string;
      };
      expect(optionOf(() => createLailaolabProvider(options))).toBe(option);
      expect(optionOf(() => createLailaolabMiddleware(testHub().hub, options))).toBe(option);
      // Refused before any socket opens.
      const connections = live.connectedClients();
      expect(
        optionOf(() => createLailaolabSource(testHub().hub, { ...options, url: live.socketBase })),
      ).toBe(option);
      expect(live.connectedClients()).toBe(connections);
    },
  );

  it("a middleware given a source and another mode than the source's is refused", async () => {
    const t = startTestSource(sandbox, [], { secretKey: SANDBOX_SECRET, mode: 'test' });
    try {
      expect(
        optionOf(() => createLailaolabMiddleware(t.hub, { source: t.source, mode: 'live' })),
      ).toBe('mode');
      const same = createLailaolabMiddleware(t.hub, { source: t.source, mode: 'test' });
      expect(same.provider.mode).toBe('test');
    } finally {
      await t.source.close();
    }
  });
});
