import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { deletePrefix, REDIS_URL, testPrefix } from './support/redis';
import {
  createPoster,
  dispatchTotals,
  ROOT,
  startInstance as startChild,
  stats as readStats,
  stopInstance,
  type Instance,
} from './support/instances';
import { createTestProvider, signedDelivery, reportCounts } from '@payhook/core/testing';

/**
 * Two separate Node processes, each an Express app with its own hub, share one Redis. The same
 * 1,000 payments are each delivered several times to both at once, and the "gateway" redelivers
 * whatever was answered with its retry body. Every payment must be dispatched exactly once in total.
 */
const PAYMENTS = 1_000;
const COPIES_PER_INSTANCE = 3;
const PAYMENTS_IN_FLIGHT = 25;
const MAX_ATTEMPTS = 200;
const provider = createTestProvider();
const prefix = testPrefix('cross-process');

const children: Instance[] = [];
let admin: Redis;
const { post, destroy: destroyAgent } = createPoster();

async function startInstance(name: string): Promise<Instance> {
  const child = await startChild(name, { redisUrl: REDIS_URL, prefix });
  children.push(child);
  return child;
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterAll(async () => {
  for (const child of children.splice(0)) await stopInstance(child);
  await deletePrefix(admin, prefix);
  await admin.quit();
  destroyAgent();
});

it('two processes on one Redis dispatch each of 1,000 payments exactly once', async () => {
  const started = Date.now();
  const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
  for (const child of [a, b]) {
    expect(child.ready.core).toBe(resolve(ROOT, 'packages/core/src/index.ts'));
    expect(child.ready.redisStore).toBe(resolve(ROOT, 'packages/redis-store/src/index.ts'));
  }
  expect(a.ready.pid).not.toBe(b.ready.pid);
  const startedDeliveries = Date.now();

  let deliveries = 0;
  let retried = 0;
  const answers = { ok: 0, retry: 0 };
  /** The gateway: POSTs one copy and redelivers it until it gets the success body. */
  const deliver = async (
    url: string,
    fixture: ReturnType<typeof signedDelivery>,
  ): Promise<void> => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      deliveries++;
      if (attempt > 1) retried++;
      const reply = await post(url, fixture);
      if (reply.status === provider.ack.ok.status && reply.body === provider.ack.ok.body) {
        answers.ok++;
        return;
      }
      expect([reply.status, reply.body]).toEqual([
        provider.ack.retry.status,
        provider.ack.retry.body,
      ]);
      answers.retry++;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 15)));
    }
    throw new Error(`a delivery was still refused after ${MAX_ATTEMPTS} attempts`);
  };

  const ids = Array.from({ length: PAYMENTS }, (_, i) => `X${String(i).padStart(4, '0')}`);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const fixture = signedDelivery({ txn: ids[next++]! });
      const copies: Array<Promise<void>> = [];
      for (let c = 0; c < COPIES_PER_INSTANCE; c++)
        copies.push(deliver(a.url, fixture), deliver(b.url, fixture));
      await Promise.all(copies);
    }
  };
  await Promise.all(Array.from({ length: PAYMENTS_IN_FLIGHT }, worker));

  const deliveryMs = Date.now() - startedDeliveries;
  const stats = await Promise.all([a, b].map(readStats));
  const { total, perInstance } = dispatchTotals(stats);
  const dispatchedTotal = perInstance.reduce((x, y) => x + y, 0);
  const twice = [...total].filter(([, n]) => n !== 1);
  const elapsed = Date.now() - started;

  reportCounts(
    [
      `cross-process: ${PAYMENTS} payments, ${COPIES_PER_INSTANCE} copies to each of 2 processes`,
      `HTTP deliveries ${deliveries} (${retried} gateway retries): ${answers.ok} success answers, ${answers.retry} retry answers`,
      ...stats.map(
        (s, i) =>
          `instance ${s.name} (pid ${s.pid}): dispatched ${perInstance[i]}, outcomes ${JSON.stringify(s.outcomes)}, errors ${s.errors.length}`,
      ),
      `dispatched in total ${dispatchedTotal}, distinct payments ${total.size}, dispatched more than once ${twice.length}`,
      `elapsed ${elapsed} ms (deliveries ${deliveryMs} ms)`,
    ].join('\n'),
  );

  expect(total.size).toBe(PAYMENTS);
  expect(twice).toEqual([]);
  expect(dispatchedTotal).toBe(PAYMENTS);
  expect([...total.keys()].sort()).toEqual(ids.map((id) => `test-gateway:${id}:paid`).sort());
  expect(answers.ok).toBe(PAYMENTS * COPIES_PER_INSTANCE * 2);
  for (const s of stats) expect(s.errors).toEqual([]);
  // Both processes did part of the work: the store, not luck, kept them apart.
  expect(perInstance.every((n) => n > 0)).toBe(true);

  for (const child of children.splice(0)) expect(await stopInstance(child)).toBe(0);
}, 60_000);
