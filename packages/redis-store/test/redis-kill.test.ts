/**
 * Issue 14, item 2 on Redis: a commit that fails after a successful dispatch must not re-run the
 * listener. Two separate Node processes (support/instance.ts: an Express app with its own hub) share
 * a redis-server this test starts on a port of its own. 1,000 payments are delivered, 3 to 5 copies
 * each at once over both instances, by a gateway that redelivers until it hears its success body.
 * Mid-run the Redis is killed (SIGKILL) and started again on the same port about 0.5 s later.
 *
 * The hub retries a failed commit (backoff, commitRetryMs: 5 s here) and never releases the claim,
 * so the redeliveries that arrive meanwhile get "busy"; a claim whose answer was lost with the
 * connection is released by its token when the client is ready again. With `appendonly yes` the
 * restarted Redis has every claim and done marker it acknowledged. With `appendonly no` it starts
 * empty: claims held at the kill are gone, and a redelivery during the commit retry can claim and
 * dispatch the payment again (a persistence property: the count is reported, not asserted).
 * `PAYHOOK_TEST_REPORT=1` prints the counts.
 */
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createTestProvider, reportCounts, signedDelivery } from '@payhook/core/testing';
import { freePort, ScratchRedis, testPrefix } from './support/redis';
import {
  createPoster,
  dispatchTotals,
  ROOT,
  startInstance,
  stats as readStats,
  stopInstance,
  type Instance,
} from './support/instances';

const provider = createTestProvider();
const PAYMENTS = 1_000;
const PAYMENTS_IN_FLIGHT = 25;
/** The kill comes when this many payments have started. */
const KILL_AT = 350;
const DOWN_MS = 500;
/** A copy is "lost" if it is still refused this long after it was first sent. */
const GIVE_UP_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisServers: ScratchRedis[] = [];
const children: Instance[] = [];
const poster = createPoster(128);

afterAll(async () => {
  for (const child of children.splice(0)) await stopInstance(child);
  for (const server of redisServers.splice(0)) await server.cleanup();
  poster.destroy();
});

interface Outcome {
  label: string;
  twice: number;
  lost: number;
  acknowledged: number;
  copies: number;
  distinct: number;
  dispatchedTotal: number;
  errors: string[];
  lostClaims: number;
  unacknowledged: number;
}

async function run(appendonly: boolean): Promise<Outcome> {
  const label = `appendonly ${appendonly ? 'yes' : 'no'}`;
  const redis = new ScratchRedis(await freePort(), { appendonly });
  redisServers.push(redis);
  await redis.start();
  const prefix = testPrefix(`redis-kill-${appendonly ? 'aof' : 'noaof'}`);
  const started = Date.now();
  const [a, b] = await Promise.all(
    ['A', 'B'].map((name) => startInstance(name, { redisUrl: redis.url, prefix })),
  );
  children.push(a!, b!);
  for (const child of [a!, b!]) {
    expect(child.ready.core).toBe(resolve(ROOT, 'packages/core/src/index.ts'));
    expect(child.ready.redisStore).toBe(resolve(ROOT, 'packages/redis-store/src/index.ts'));
  }
  const urls = [a!.url, b!.url];

  let deliveries = 0;
  let retryAnswers = 0;
  let acknowledged = 0;
  let unacknowledged = 0;
  let copies = 0;
  /** The gateway: one copy, redelivered 5-20 ms after each retry answer until it hears success. */
  const deliver = async (url: string, fixture: ReturnType<typeof signedDelivery>) => {
    const first = Date.now();
    while (Date.now() - first < GIVE_UP_MS) {
      deliveries++;
      let reply: { status: number; body: string };
      try {
        reply = await poster.post(url, fixture);
      } catch {
        reply = { status: 0, body: '' };
      }
      if (reply.status === provider.ack.ok.status && reply.body === provider.ack.ok.body) {
        acknowledged++;
        return;
      }
      expect([reply.status, reply.body]).toEqual([
        provider.ack.retry.status,
        provider.ack.retry.body,
      ]);
      retryAnswers++;
      await sleep(5 + Math.floor(Math.random() * 15));
    }
    unacknowledged++;
  };

  const ids = Array.from({ length: PAYMENTS }, (_, i) => `K${String(i).padStart(4, '0')}`);
  let next = 0;
  let killedAt = 0;
  let restartedAt = 0;
  let outage: Promise<void> | undefined;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const i = next++;
      if (i === KILL_AT)
        outage = (async () => {
          killedAt = Date.now();
          await redis.stop();
          await sleep(DOWN_MS);
          await redis.start();
          restartedAt = Date.now();
        })();
      const fixture = signedDelivery({ txn: ids[i]! });
      // 3 to 5 copies at once, alternating between the two instances.
      const n = 3 + (i % 3);
      copies += n;
      await Promise.all(Array.from({ length: n }, (_, c) => deliver(urls[(i + c) % 2]!, fixture)));
    }
  };
  await Promise.all(Array.from({ length: PAYMENTS_IN_FLIGHT }, worker));
  await outage;
  const deliveryMs = Date.now() - started;

  const all = await Promise.all([a!, b!].map(readStats));
  const { total, perInstance } = dispatchTotals(all);
  const dispatchedTotal = perInstance.reduce((x, y) => x + y, 0);
  const twice = [...total.values()].filter((n) => n > 1).length;
  const expected = ids.map((id) => `test-gateway:${id}:paid`);
  const lost = expected.filter((id) => !total.has(id)).length;
  const errors = all.flatMap((s) => s.errors);
  const errorCounts: Record<string, number> = {};
  for (const code of errors) errorCounts[code] = (errorCounts[code] ?? 0) + 1;
  const lostClaims = all.reduce(
    (n, s) => n + Object.values(s.lostClaims).reduce((x, y) => x + y, 0),
    0,
  );
  const admin = new Redis(redis.url);
  const info = await admin.info('persistence');
  await admin.quit();
  const storeLines = all.flatMap((s) =>
    s.storeLog
      .filter((l) => /answer was lost/.test(l))
      .map((l) => `${s.name}: ${l.replace('@payhook/redis-store: ', '')}`),
  );

  reportCounts(
    `Redis killed mid-run (${label})`,
    [
      `${PAYMENTS} payments, 3-5 copies each over 2 processes (${copies} copies); redis-server SIGKILLed when payment ${KILL_AT} started, ` +
        `down ${restartedAt - killedAt} ms (restart included), aof_enabled ${/aof_enabled:(\d)/.exec(info)?.[1]}`,
      `HTTP deliveries ${deliveries} (${retryAnswers} retry answers), acknowledged copies ${acknowledged}/${copies}, never acknowledged ${unacknowledged}`,
      ...all.map(
        (s, i) =>
          `instance ${s.name}: dispatched ${perInstance[i]}, outcomes ${JSON.stringify(s.outcomes)}, ` +
          `errors ${JSON.stringify(s.errors.length)}, lost claims ${JSON.stringify(s.lostClaims)}`,
      ),
      `errors by code ${JSON.stringify(errorCounts)}; store: ${storeLines.join(' | ') || 'no claim answers lost'}`,
      `dispatched in total ${dispatchedTotal}, distinct payments ${total.size}, dispatched twice ${twice}, lost ${lost}; ${deliveryMs} ms`,
    ].join('\n'),
  );
  for (const child of [a!, b!]) expect(await stopInstance(child)).toBe(0);
  children.splice(0);
  await redis.cleanup();
  return {
    label,
    twice,
    lost,
    acknowledged,
    copies,
    distinct: total.size,
    dispatchedTotal,
    errors,
    lostClaims,
    unacknowledged,
  };
}

it('Redis SIGKILLed and restarted mid-run with appendonly yes: 1,000 payments, none dispatched twice, none lost', async () => {
  const outcome = await run(true);
  expect(outcome.lost).toBe(0);
  expect(outcome.unacknowledged).toBe(0);
  expect(outcome.acknowledged).toBe(outcome.copies);
  expect(outcome.distinct).toBe(PAYMENTS);
  expect(outcome.twice).toBe(0);
  expect(outcome.dispatchedTotal).toBe(PAYMENTS);
  expect(outcome.lostClaims).toBe(0);
  // The outage was seen (claims refused while Redis was away), and every commit got through.
  expect(outcome.errors.length).toBeGreaterThan(0);
  expect(new Set(outcome.errors)).toEqual(new Set(['ERR_STORE_UNAVAILABLE']));
}, 45_000);

it('the same with appendonly no: none lost; what a restart that forgot its claims dispatches again is counted', async () => {
  const outcome = await run(false);
  expect(outcome.lost).toBe(0);
  expect(outcome.unacknowledged).toBe(0);
  expect(outcome.acknowledged).toBe(outcome.copies);
  expect(outcome.distinct).toBe(PAYMENTS);
  expect(outcome.errors).not.toContain('ERR_COMMIT_FAILED');
}, 45_000);
