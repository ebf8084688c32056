/**
 * Issue 14, item 3: a stalled Redis must not leave claims nobody owns. The test's own redis-server
 * is frozen (SIGSTOP) while the first deliveries of 120 payments arrive: each claim times out on the
 * client (the gateway hears its retry body within about commandTimeoutMs), but its SET NX still sits
 * in Redis's socket and lands when Redis resumes (SIGCONT). Nobody will dispatch, commit or release
 * it: the hub answered "retry". The store remembers each such claim with the token it generated and
 * releases it by that token once Redis answers again, so the first redelivery after the resume is
 * processed, on either instance, instead of waiting out the 30 s lease.
 * `PAYHOOK_TEST_REPORT=1` prints the counts.
 */
import { Agent } from 'node:http';
import { Redis } from 'ioredis';
import { createPaymentHub, StoreError, type Logger, type PaymentErrorLike } from '@payhook/core';
import {
  createTestProvider,
  postKeepAlive,
  reportCounts,
  signedDelivery,
  startTestServer,
  type TestServer,
} from '@payhook/core/testing';
import { createRedisStore, DONE, type RedisStore } from '@payhook/redis-store';
import { CuttingProxy, deletePrefix, freePort, ScratchRedis, testPrefix } from './support/redis';

const provider = createTestProvider();
const OK = provider.ack.ok;
const RETRY = provider.ack.retry;
const PAYMENTS = 120;
const FROZEN_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Line {
  level: string;
  msg: string;
  obj: unknown;
}
function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void =>
      void lines.push({ level, msg: msg ?? String(obj), obj });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** How many DELs the server ran (a release that found its token is the only DEL here). */
async function dels(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_del:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

let redis: ScratchRedis;
let admin: Redis;
const stores: RedisStore[] = [];
const servers: TestServer[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

beforeAll(async () => {
  redis = new ScratchRedis(await freePort());
  await redis.start();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  redis?.thaw();
  for (const server of servers.splice(0)) await server.close();
  for (const store of stores.splice(0)) await store.close();
  await admin?.quit().catch(() => undefined);
  agent.destroy();
  await redis?.cleanup();
});

// 1,000 ms (the default): the releases the store sends at each timeout are answered in time when
// Redis resumes. 400 ms: their answers are lost too, and the releases still run, queued behind the
// claims, before any redelivery's claim.
it.each([1_000, 400])(
  'Redis frozen (SIGSTOP) for 2 s under the first deliveries of 120 payments, commandTimeoutMs %i: the first redelivery after SIGCONT processes each',
  async (COMMAND_TIMEOUT_MS) => {
    const prefix = testPrefix(`stall-${COMMAND_TIMEOUT_MS}`);
    const lines: Line[] = [];
    const runs = new Map<string, number>();
    const errors: PaymentErrorLike[] = [];
    /** Two instances, each its own hub, store and Redis connection (defaults: lease 30 s). */
    const instances = await Promise.all(
      ['A', 'B'].map(async (name) => {
        const store = createRedisStore({
          url: redis.url,
          prefix,
          commandTimeoutMs: COMMAND_TIMEOUT_MS,
          logger: recordingLogger(lines),
        });
        stores.push(store);
        await store.ready();
        const hub = createPaymentHub({ store });
        hub.on('payment.completed', async (event) => {
          runs.set(event.orderId!, (runs.get(event.orderId!) ?? 0) + 1);
        });
        hub.on('error', (error) => void errors.push(error));
        const server = await startTestServer(provider, { hub });
        servers.push(server);
        return { name, server };
      }),
    );
    const fixtures = Array.from({ length: PAYMENTS }, (_, i) =>
      signedDelivery({ txn: `STALL-${i}`, order: `O-STALL-${i}` }),
    );
    const post = (i: number, instance: number) =>
      postKeepAlive(instances[instance % 2]!.server.url, fixtures[i]!, agent);
    const isOk = (r: { status: number; body: string }) =>
      r.status === OK.status && r.body === OK.body;

    // A live server: each instance has processed a payment, so Redis has the claim script cached (a
    // fresh server answers NOSCRIPT to the first EVALSHA, and the frozen claims would never land).
    for (const [i, { server }] of instances.entries()) {
      const warm = await postKeepAlive(server.url, signedDelivery({ txn: `WARM-${i}` }), agent);
      expect([warm.status, warm.body]).toEqual([OK.status, OK.body]);
    }
    runs.clear();
    const delsBefore = await dels(admin);
    // 1. Frozen: the first delivery of each payment, spread over both instances.
    redis.freeze();
    const frozenAt = Date.now();
    const first = await Promise.all(
      fixtures.map(async (_, i) => {
        const sent = Date.now();
        const reply = await post(i, i);
        return { reply, ms: Date.now() - sent };
      }),
    );
    const slowestFirstMs = Math.max(...first.map((f) => f.ms));
    const firstRetry = first.filter((f) => !isOk(f.reply)).length;
    for (const { reply } of first)
      expect([reply.status, reply.body]).toEqual([RETRY.status, RETRY.body]);
    // The answer came within the command timeout (plus HTTP), not after the stall.
    expect(slowestFirstMs).toBeLessThan(COMMAND_TIMEOUT_MS + 700);
    expect(runs.size).toBe(0);

    // 2. Resume after about 2 s; every first delivery has been answered by now.
    await sleep(Math.max(0, frozenAt + FROZEN_MS - Date.now()));
    redis.thaw();
    const frozenMs = Date.now() - frozenAt;
    expect(await admin.ping()).toBe('PONG');

    // 3. The first redelivery of each payment after the resume, on the other instance.
    const resumed = Date.now();
    const second = await Promise.all(fixtures.map((_, i) => post(i, i + 1)));
    const processedFirst = second.filter(isOk).length;
    const blocked = second.map((r, i) => (isOk(r) ? -1 : i)).filter((i) => i >= 0);

    // 4. Whatever is still blocked is redelivered every second, for up to 35 s (the lease is 30 s),
    // so that a failing run says how long the claims held.
    let laterRetries = 0;
    let blockedUntilMs = 0;
    await Promise.all(
      blocked.map(async (i) => {
        for (let attempt = 0; Date.now() - resumed < 35_000; attempt++) {
          await sleep(1_000);
          laterRetries++;
          if (isOk(await post(i, attempt))) {
            blockedUntilMs = Math.max(blockedUntilMs, Date.now() - resumed);
            return;
          }
        }
      }),
    );

    const total = [...runs.values()].reduce((a, b) => a + b, 0);
    const twice = [...runs.values()].filter((n) => n > 1).length;
    const storeLines = lines.filter((l) => /claims whose answer was lost/.test(l.msg));
    // Claims that landed after the stall and were released by their token, counted by Redis itself.
    const releasedOnRedis = (await dels(admin)) - delsBefore;
    const keys = fixtures.map((_, i) => `${prefix}test-gateway:STALL-${i}:paid`);
    const states = await admin.mget(...keys);
    reportCounts(
      `stalled Redis (SIGSTOP), commandTimeoutMs ${COMMAND_TIMEOUT_MS}`,
      `payments ${PAYMENTS}, frozen ${frozenMs} ms, commandTimeoutMs ${COMMAND_TIMEOUT_MS}: ` +
        `first deliveries answered retry ${firstRetry} (slowest ${slowestFirstMs} ms); ` +
        `first redelivery after SIGCONT: processed ${processedFirst}, blocked ${blocked.length}` +
        (blocked.length > 0
          ? ` (until ${blockedUntilMs} ms after resume, ${laterRetries} more retries)`
          : '') +
        `; markPaid runs ${total}, ran twice ${twice}; ` +
        `orphaned claims released on Redis (DEL by token) ${releasedOnRedis}; ` +
        `store log: ${storeLines.map((l) => l.msg.replace('@payhook/redis-store: ', '')).join(' | ')}; errors ${[...new Set(errors.map((e) => e.code))].join(',')} x${errors.length}`,
    );

    expect(processedFirst).toBe(PAYMENTS);
    expect(blocked).toEqual([]);
    expect(runs.size).toBe(PAYMENTS);
    expect(twice).toBe(0);
    expect(total).toBe(PAYMENTS);
    expect(new Set(states)).toEqual(new Set([DONE]));
    // The claims did land when Redis resumed: the store released them, none was left to its lease.
    expect(releasedOnRedis).toBe(PAYMENTS);
    expect(errors.every((e) => e.code === 'ERR_STORE_UNAVAILABLE')).toBe(true);
  },
  60_000,
);

/**
 * Through a proxy in front of the test's Redis: Redis is frozen while `keys` are claimed, so the
 * claims wait in its socket; the proxy then drops the connection instead of forwarding the answers
 * and Redis resumes. Every claim ran, every answer was lost with the connection, and the releases
 * the store tries at once are refused (the client is reconnecting): only the reconnect can settle them.
 */
async function claimsWithLostAnswers(store: RedisStore, proxy: CuttingProxy, keys: string[]) {
  redis.freeze();
  let pending: Array<Promise<unknown>>;
  try {
    pending = keys.map((key) => store.claim(key, 60_000).catch((e: unknown) => e));
    await sleep(100);
    proxy.cutNextReply();
  } finally {
    redis.thaw();
  }
  return Promise.all(pending);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within 5 s`);
    await sleep(20);
  }
}

it('a claim whose answer is lost with the connection is released by its token once the client is ready again', async () => {
  const proxy = new CuttingProxy(redis.port);
  await proxy.start();
  const prefix = testPrefix('lost-answer');
  const lines: Line[] = [];
  const store = createRedisStore({ url: proxy.url, prefix, logger: recordingLogger(lines) });
  stores.push(store);
  try {
    await store.ready();
    const delsBefore = await dels(admin);
    const [error] = await claimsWithLostAnswers(store, proxy, ['cut:1']);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('ERR_STORE_UNAVAILABLE');
    await until(async () => (await admin.exists(`${prefix}cut:1`)) === 0, 'not released');
    expect(store.client.status).toBe('ready');
    // It had landed (Redis deleted it by its token), and the store says so.
    expect((await dels(admin)) - delsBefore).toBe(1);
    // The report is logged once Redis's answer to the release is read, which can come after the
    // key is already gone (seen once in CI): wait for it rather than read it at once.
    const settled =
      '@payhook/redis-store: 1 claims whose answer was lost are settled (1 still held, released now)';
    await until(async () => lines.some((l) => l.msg === settled), 'the settle report');
    expect(lines.filter((l) => l.msg === settled)).toHaveLength(1);
    expect((await store.claim('cut:1', 60_000)).state).toBe('claimed');
  } finally {
    await store.close();
    await proxy.close();
    await deletePrefix(admin, prefix);
  }
});

it('maxOrphanedClaims bounds what is remembered: the oldest are forgotten, with a log line, and keep their lease', async () => {
  const proxy = new CuttingProxy(redis.port);
  await proxy.start();
  const prefix = testPrefix('lost-answer-cap');
  const lines: Line[] = [];
  const store = createRedisStore({
    url: proxy.url,
    prefix,
    maxOrphanedClaims: 3,
    logger: recordingLogger(lines),
  });
  stores.push(store);
  try {
    await store.ready();
    const keys = [1, 2, 3, 4, 5].map((i) => `cap:${i}`);
    const results = await claimsWithLostAnswers(store, proxy, keys);
    for (const r of results) expect(r).toBeInstanceOf(StoreError);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      '@payhook/redis-store: more than 3 claims without an answer; forgetting the oldest, whose keys then stay claimed until their lease ends',
    ]);
    await until(
      async () => (await admin.exists(...keys.slice(2).map((k) => prefix + k))) === 0,
      'the three remembered claims were not released',
    );
    // The two oldest landed too, and were forgotten: they hold their keys for the whole lease.
    expect(await admin.exists(`${prefix}cap:1`, `${prefix}cap:2`)).toBe(2);
    expect(await admin.pttl(`${prefix}cap:1`)).toBeGreaterThan(50_000);
    expect(lines.map((l) => l.msg)).toContain(
      '@payhook/redis-store: 3 claims whose answer was lost are settled (3 still held, released now); 2 more were forgotten (maxOrphanedClaims)',
    );
  } finally {
    await store.close();
    await proxy.close();
    await deletePrefix(admin, prefix);
  }
});
