/**
 * What a merchant app restart does to replay protection (issue 14, item 5): 200 payments are
 * processed by one process, the process is stopped (SIGTERM, then SIGKILL), a new one starts on
 * the same store, and the same 200 genuine deliveries are replayed. The memory store forgot them;
 * Redis did not. The reference test gateway signs no time, so only the store stands in the way.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { reportCounts, signedDelivery } from '@payhook/core/testing';
import {
  createPoster,
  startInstance,
  stats,
  stopInstance,
  type Instance,
} from '../../packages/redis-store/test/support/instances';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PAYMENTS = 200;
const deliveries = Array.from({ length: PAYMENTS }, (_, i) =>
  signedDelivery({ txn: `RESTART-${i}`, order: `O-${i}` }),
);

async function kill(instance: Instance, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (signal === 'SIGTERM') return void (await stopInstance(instance));
  const exited = once(instance.process, 'exit');
  instance.process.kill('SIGKILL');
  await exited;
}

async function dispatchedAfterRestart(
  store: 'memory' | 'redis',
  signal: 'SIGTERM' | 'SIGKILL',
): Promise<{ first: number; replayed: number; acknowledged: number }> {
  const prefix = `payhook:test:restart:${randomBytes(6).toString('hex')}:`;
  const options = { redisUrl: REDIS_URL, prefix, store };
  const poster = createPoster(16);
  try {
    const before = await startInstance('before', options);
    await Promise.all(deliveries.map((d) => poster.post(before.url, d)));
    const first = Object.keys((await stats(before)).dispatched).length;
    await kill(before, signal);
    const after = await startInstance('after', options);
    const replies = await Promise.all(deliveries.map((d) => poster.post(after.url, d)));
    const replayed = Object.keys((await stats(after)).dispatched).length;
    await stopInstance(after);
    return { first, replayed, acknowledged: replies.filter((r) => r.status === 200).length };
  } finally {
    poster.destroy();
    if (store === 'redis') {
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  }
}

it.each([
  ['memory', 'SIGTERM', PAYMENTS],
  ['memory', 'SIGKILL', PAYMENTS],
  ['redis', 'SIGTERM', 0],
  ['redis', 'SIGKILL', 0],
] as const)(
  '%s store, app stopped with %s: %i of the replays after the restart are processed again',
  async (store, signal, expected) => {
    const counts = await dispatchedAfterRestart(store, signal);
    reportCounts(
      `restart (${store}, ${signal})`,
      `${PAYMENTS} payments processed ${counts.first}; after the restart, replays processed again ${counts.replayed}, acknowledged ${counts.acknowledged}`,
    );
    expect(counts.first).toBe(PAYMENTS);
    expect(counts.replayed).toBe(expected);
    expect(counts.acknowledged).toBe(PAYMENTS);
  },
  30_000,
);

it('two instances, each with its own memory store, both process every payment', async () => {
  const options = { redisUrl: REDIS_URL, prefix: 'unused:', store: 'memory' as const };
  const poster = createPoster(16);
  const [a, b] = await Promise.all([startInstance('a', options), startInstance('b', options)]);
  try {
    const some = deliveries.slice(0, 100);
    await Promise.all(some.flatMap((d) => [poster.post(a.url, d), poster.post(b.url, d)]));
    const perInstance = [await stats(a), await stats(b)].map(
      (s) => Object.keys(s.dispatched).length,
    );
    reportCounts(
      'two memory-store instances',
      `100 payments, one copy to each: dispatched ${perInstance.join(' + ')}`,
    );
    expect(perInstance).toEqual([100, 100]);
  } finally {
    poster.destroy();
    await Promise.all([stopInstance(a), stopInstance(b)]);
  }
}, 30_000);
