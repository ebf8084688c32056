/**
 * Lailaolab portal webhook under attack (issue 13). The webhook is unsigned (no scheme is public:
 * the barlus-developer/phajay-payment-gateway README on
 * https://payment-doc.lailaolab.com/v1/verify-webhook-signature), so anyone can POST to it, and
 * every POST that names a transaction could cost the merchant a status query on its own key
 * (https://payment-doc.lailaolab.com/v1/check-transaction-status). The attacks: credit another
 * order with one's own payment; read a transaction's real amount and status from the refusal;
 * make the merchant's server call the status API once per junk POST, all at once, or at another
 * path of the gateway's API. Runs against the real middleware on a listening server, with the
 * simulator as the status API (its `statusRequests` and `apiRequests` count the calls).
 */
import { createPaymentHub } from '@payhook/core';
import { createCountingStore, recordHub } from '@payhook/core/testing';
import {
  createLailaolabMiddleware,
  createLailaolabStatusClient,
  STATUS_PATH,
  type LailaolabMiddlewareOptions,
} from '@payhook/lailaolab-socket';
import { buildLailaolabMessage, type LailaolabSimulator } from '@payhook/testing';
import {
  agent,
  LAILAOLAB_SECRET,
  listen,
  post,
  sleep,
  startGateway,
  startSimulator,
  type Reply,
  type Wire,
} from './support';

let sim: LailaolabSimulator;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  sim = await startSimulator();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  sim.statusApiLatencyMs = 0;
});
afterAll(async () => {
  await sim.close();
  agent.destroy();
});

let seq = 0;
const txn = (name: string): string => `${name}-${process.pid}-${++seq}`;
const wire = (body: unknown): Wire => ({
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: {},
});

/** The Lailaolab middleware with its own hub, on a listening server. */
async function gateway(options: Partial<LailaolabMiddlewareOptions> = {}) {
  const store = createCountingStore();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 5_000 });
  const rec = recordHub(hub);
  const server = await listen(
    createLailaolabMiddleware(hub, {
      secretKey: LAILAOLAB_SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      ...options,
    }),
  );
  closers.push(server.close);
  return { url: server.url, hub, rec, store };
}

/** Status queries (and API requests of any path) made while `fn` runs. */
async function counting<T>(fn: () => Promise<T>) {
  const status = sim.statusRequests.length;
  const api = sim.apiRequests.length;
  const result = await fn();
  return {
    result,
    statusQueries: sim.statusRequests.length - status,
    apiRequests: sim.apiRequests.slice(api),
  };
}

it('paying one order and posting the webhook first with another orderNo credits neither order wrongly', async () => {
  const gw = await startGateway('lailaolab', { simulator: sim });
  closers.push(gw.close);
  const id = txn('SWAP');
  sim.createTransaction({ transactionId: id, amount: 50000, orderNo: 'A-1' });
  const genuine = sim.pay(id, { emit: false });
  const forged = await post(gw.url, wire({ ...genuine, orderNo: 'B-2' }));
  expect(forged.status).toBe(409);
  expect(gw.rec.events).toHaveLength(0);
  const real = await post(gw.url, wire(genuine));
  expect([real.status, real.body]).toEqual([200, gw.ok.body]);
  expect(gw.rec.events.map((e) => [e.orderId, e.amount, e.currency])).toEqual([
    ['A-1', '50000', 'LAK'],
  ]);
});

it('a refusal tells the caller nothing about the transaction: the details go to the error channel', async () => {
  const gw = await gateway();
  const paid = txn('ORACLE-PAID');
  const waiting = txn('ORACLE-WAITING');
  sim.createTransaction({ transactionId: paid, amount: 73125 });
  sim.pay(paid, { emit: false });
  sim.createTransaction({ transactionId: waiting, amount: 73125 });
  const replies: Reply[] = [];
  for (const [transactionId, amount] of [
    [paid, 1], // the real amount is 73125
    [waiting, 73125], // not paid
    [txn('ORACLE-UNKNOWN'), 1], // no such transaction
  ] as const)
    replies.push(await post(gw.url, wire(buildLailaolabMessage({ transactionId, amount }))));
  expect(replies.map((r) => r.status)).toEqual([409, 409, 409]);
  // The same body for a wrong amount, an unpaid and an unknown transaction.
  expect(new Set(replies.map((r) => r.body)).size).toBe(1);
  const body = replies[0]!.body;
  expect(JSON.parse(body).error.code).toBe('ERR_STATUS_MISMATCH');
  for (const secret of ['73125', 'WAITING', 'PAYMENT_COMPLETED', paid, waiting, 'status API'])
    expect(body).not.toContain(secret);
  // The merchant still learns what happened, from its own error channel and log.
  expect(gw.rec.errors).toHaveLength(3);
  expect(gw.rec.errors[0]!.message).toMatch(/73125/);
  expect(gw.rec.errors[1]!.message).toMatch(/WAITING/);
});

it('300 POSTs naming one unknown transaction cost one status query', async () => {
  const gw = await gateway();
  const junk = wire(buildLailaolabMessage({ transactionId: txn('JUNK'), amount: 1 }));
  const { result, statusQueries } = await counting(() =>
    Promise.all(Array.from({ length: 300 }, () => post(gw.url, junk))),
  );
  expect(new Set(result.map((r) => r.status))).toEqual(new Set([409]));
  expect(statusQueries).toBe(1);
  expect(gw.rec.events).toHaveLength(0);
});

it('replays of a genuine webhook within the cache time cost one status query; after it, one more', async () => {
  const gw = await gateway({ statusCacheMs: 300 });
  const id = txn('CACHED');
  sim.createTransaction({ transactionId: id, amount: 1000 });
  const genuine = wire(sim.pay(id, { emit: false }));
  const first = await counting(async () => {
    for (let i = 0; i < 20; i++) expect((await post(gw.url, genuine)).status).toBe(200);
  });
  expect(first.statusQueries).toBe(1);
  await sleep(400);
  const later = await counting(() => post(gw.url, genuine));
  expect(later.statusQueries).toBe(1);
  expect(gw.rec.events).toHaveLength(1);
  expect(gw.rec.duplicates).toHaveLength(20);
});

it('300 POSTs with transaction ids that are not the gateway format cost no status query', async () => {
  const gw = await gateway();
  const shapes = [
    '..',
    '.',
    '../../link/payment-link',
    '%2e%2e',
    'a b',
    'a/b',
    'a?b=c',
    'a#b',
    'ü',
    'x'.repeat(65),
    '',
  ];
  const { result, statusQueries, apiRequests } = await counting(() =>
    Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        post(
          gw.url,
          wire({
            message: 'SUCCESS',
            status: 'PAYMENT_COMPLETED',
            transactionId: i < shapes.length ? shapes[i] : `junk.${i}`,
            txnAmount: 1,
          }),
        ),
      ),
    ),
  );
  expect(new Set(result.map((r) => r.status))).toEqual(new Set([400]));
  expect(statusQueries).toBe(0);
  expect(apiRequests).toEqual([]);
  expect(gw.store.calls.claim).toBe(0);
});

it('a transactionId of ".." never moves the status call up a path level', async () => {
  const gw = await gateway();
  const { apiRequests } = await counting(async () => {
    await post(
      gw.url,
      wire({ message: 'SUCCESS', status: 'PAYMENT_COMPLETED', transactionId: '..', txnAmount: 1 }),
    );
    const client = createLailaolabStatusClient({ apiKey: LAILAOLAB_SECRET, apiBase: sim.apiBase });
    for (const id of ['..', '.', '../x', '%2e%2e'])
      await expect(client.check(id)).rejects.toThrow(/transactionId/);
  });
  for (const r of apiRequests) expect(r.path.startsWith(STATUS_PATH)).toBe(true);
  expect(apiRequests).toEqual([]);
});

it('status queries in flight are capped: beyond the cap the gateway is asked to retry, and nothing is emitted', async () => {
  const gw = await gateway({ maxStatusQueries: 4 });
  sim.statusApiLatencyMs = 150;
  sim.statusPeakConcurrency = 0;
  const { result, statusQueries } = await counting(() =>
    Promise.all(
      Array.from({ length: 40 }, () =>
        post(gw.url, wire(buildLailaolabMessage({ transactionId: txn('FLOOD'), amount: 1 }))),
      ),
    ),
  );
  expect(sim.statusPeakConcurrency).toBeLessThanOrEqual(4);
  expect(statusQueries).toBeLessThanOrEqual(4);
  const retried = result.filter((r) => r.status === 500 && r.body === 'RETRY').length;
  const refused = result.filter((r) => r.status === 409).length;
  expect(retried + refused).toBe(40);
  expect(retried).toBeGreaterThanOrEqual(36);
  expect(gw.rec.events).toHaveLength(0);
  expect(gw.store.calls.claim).toBe(0);
  // Once the flood is over, a genuine payment goes through.
  sim.statusApiLatencyMs = 0;
  const id = txn('AFTER-FLOOD');
  sim.createTransaction({ transactionId: id, amount: 10 });
  expect((await post(gw.url, wire(sim.pay(id, { emit: false })))).status).toBe(200);
});
