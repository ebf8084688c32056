/**
 * One merchant app process for the watch-list tests, run with `node --import tsx` and driven over
 * IPC: a hub and a Lailaolab socket source against the simulator of the test process.
 * Environment: SECRET, SOCKET_URL, API_BASE, INSTANCE_NAME; AWAITED_LIST=redis (with REDIS_URL and
 * PREFIX: a Redis store and the hub's `awaited.list`, `createRedisAwaitedList({ store, name:
 * 'lailaolab' })`) or memory (the defaults: memory store, memory awaited list). The hub has no
 * sweep timer (`awaited.sweepEveryMs: 0`): only the connect's sweep and `stats` ask. It watches
 * nothing at boot.
 *
 * Messages in: { type: 'watch', ids }, { type: 'watching' }, { type: 'stats' } (runs a sweep,
 * which waits for one in flight, then answers). Out: { type: 'ready' } after the first connect, and one
 * answer per message.
 */
import {
  createMemoryStore,
  createPaymentHub,
  type AwaitedList,
  type IdempotencyStore,
} from '@payhook/core';
import { createLailaolabSource } from '@payhook/lailaolab-socket';
import { createRedisAwaitedList, createRedisStore, type RedisStore } from '@payhook/redis-store';

type Incoming = { type: 'watch'; ids: string[] } | { type: 'watching' } | { type: 'stats' };

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`merchant-app: ${name} is required`);
    return value;
  };
  const name = env('INSTANCE_NAME');
  const redis = env('AWAITED_LIST') === 'redis';
  let redisStore: RedisStore | undefined;
  let store: IdempotencyStore;
  let list: AwaitedList | undefined;
  if (redis) {
    redisStore = createRedisStore({ url: env('REDIS_URL'), prefix: env('PREFIX') });
    await redisStore.ready();
    store = redisStore;
    list = createRedisAwaitedList({ store: redisStore, name: 'lailaolab' });
  } else store = createMemoryStore();

  const hub = createPaymentHub({
    store,
    handlerTimeoutMs: 2_000,
    leaseMs: 5_000,
    awaited: { list, sweepEveryMs: 0 },
  });
  const dispatched: Record<string, number> = {};
  const sourceErrors: string[] = [];
  hub.onAny((event) => {
    const id = event.transactionId ?? event.id;
    dispatched[id] = (dispatched[id] ?? 0) + 1;
  });
  hub.on('source.error', (s) => void sourceErrors.push(s.detail ?? ''));
  const up = new Promise<void>((resolve) => hub.once('source.up', () => resolve()));
  const source = createLailaolabSource(hub, {
    secretKey: env('SECRET'),
    url: env('SOCKET_URL'),
    statusQuery: { baseUrl: env('API_BASE') },
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  const send = (message: Record<string, unknown>): void => void process.send!(message);

  process.on('message', (message: Incoming) => {
    void (async () => {
      if (message.type === 'watch') {
        const stored = await Promise.all(message.ids.map((id) => source.watch(id)));
        send({ type: 'watched', stored: stored.filter(Boolean).length });
      } else if (message.type === 'watching') {
        send({ type: 'watching', ids: await source.watching(), watched: source.status().watched });
      } else if (message.type === 'stats') {
        // A sweep asked for now runs after the source's one in flight (the connect's).
        const sweep = await source.sweep();
        send({ type: 'stats', name, pid: process.pid, dispatched, sourceErrors, sweep });
      }
    })().catch((error: unknown) => send({ type: 'error', message: String(error) }));
  });
  process.once('disconnect', () => {
    void source.close().then(async () => {
      await hub.close();
      await redisStore?.close();
      process.exit(0);
    });
  });

  await up;
  send({ type: 'ready', name, pid: process.pid });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
