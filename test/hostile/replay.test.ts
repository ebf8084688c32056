/**
 * Replays of an old, genuine delivery after it was processed. Within the store's retention, every
 * replay is acknowledged with the gateway's success body and never dispatched again. After it, the
 * same bytes are a new delivery, unless the gateway signs a time: signed-param (returnTime), NewPay
 * (timestamp, paytime) and Cashy (completionTime) refuse a signed time older than their maxAgeMs, which must be shorter than
 * the retention, so that the forgotten replay is a 401 ERR_DELIVERY_STALE instead; so does
 * Lailaolab, whose unsigned webhook is bounded by the paid time of the status record it confirms.
 * Shown with a short retention (5 s, maxAgeMs 4 s) on the memory store for every HTTP gateway, and
 * on the real Redis store for one of them.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { LailaolabSimulator } from '@payhook/testing';
import { createRedisStore, type RedisStore } from '@payhook/redis-store';
import {
  agent,
  HTTP_GATEWAYS,
  post,
  sleep,
  startGateway,
  startSimulator,
  type Gateway,
  type GatewayName,
} from './support';
import { reportCounts } from '@payhook/core/testing';

const RETENTION_MS = 5_000;
/**
 * For the gateways that sign a time: shorter than the retention (the hub requires it at mount), and
 * longer than the age of the last replay below (its time is truncated to the second when signed).
 */
const MAX_AGE_MS = 4_000;
const CLOCK_SKEW_MS = 500;
// Lailaolab signs nothing, but the status record's paid time bounds a confirmed webhook the same way.
const SIGNS_A_TIME: ReadonlySet<GatewayName> = new Set([
  'signed-param',
  'newpay',
  'cashy',
  'lailaolab',
]);
/** Replay times, from the first processing: all well inside the retention. */
const REPLAYS_AT = [0, 500, 1_000, 1_500, 2_000];
/** Well past it (lru-cache and Redis both expire on read, so no purge timing is involved). */
const AFTER_EXPIRY_AT = RETENTION_MS + 800;
const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `payhook-test:hostile-replay:${process.pid}:${randomBytes(4).toString('hex')}:`;

let sim: LailaolabSimulator;
let redisStore: RedisStore;
let admin: Redis;
const gateways: Gateway[] = [];

beforeAll(async () => {
  sim = await startSimulator();
  admin = new Redis(REDIS_URL);
  redisStore = createRedisStore({ url: REDIS_URL, prefix });
  await redisStore.ready();
});
afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await sim.close();
  await redisStore.close();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  agent.destroy();
});

interface Trace {
  name: string;
  signsATime: boolean;
  replies: Array<{ at: number; status: number; ok: boolean }>;
  dispatchesInRetention: number;
  duplicates: number;
  afterExpiry: { status: number; dispatches: number };
}

async function replayScenario(name: GatewayName, store?: RedisStore): Promise<Trace> {
  const gw = await startGateway(name, {
    simulator: sim,
    store,
    hubOptions: { retentionMs: RETENTION_MS, leaseMs: 1_000, handlerTimeoutMs: 500 },
    maxAgeMs: SIGNS_A_TIME.has(name) ? MAX_AGE_MS : undefined,
    // maxAgeMs + clockSkewMs must stay under the retention (checked at mount).
    clockSkewMs: SIGNS_A_TIME.has(name) ? CLOCK_SKEW_MS : undefined,
  });
  gateways.push(gw);
  const delivery = gw.genuine(7);
  const first = await post(gw.url, delivery);
  expect([first.status, first.body]).toEqual([gw.ok.status, gw.ok.body]);
  expect(gw.rec.events).toHaveLength(1);
  const processedAt = Date.now();
  const replies: Trace['replies'] = [];
  for (const at of REPLAYS_AT) {
    await sleep(Math.max(0, processedAt + at - Date.now()));
    const reply = await post(gw.url, delivery);
    replies.push({
      at: Date.now() - processedAt,
      status: reply.status,
      ok: reply.body === gw.ok.body,
    });
  }
  // Every replay landed inside the retention (checked, not assumed).
  expect(Math.max(...replies.map((r) => r.at))).toBeLessThan(RETENTION_MS - 500);
  const dispatchesInRetention = gw.rec.events.length;
  const duplicates = gw.rec.duplicates.length;
  await sleep(Math.max(0, processedAt + AFTER_EXPIRY_AT - Date.now()));
  const late = await post(gw.url, delivery);
  return {
    name: store ? `${name} (redis)` : name,
    signsATime: SIGNS_A_TIME.has(name),
    replies,
    dispatchesInRetention,
    duplicates,
    afterExpiry: { status: late.status, dispatches: gw.rec.events.length - dispatchesInRetention },
  };
}

it('a replayed genuine delivery is acknowledged and never dispatched again while the store retains it', async () => {
  const traces = await Promise.all([
    ...HTTP_GATEWAYS.map((name) => replayScenario(name)),
    replayScenario('cashy', redisStore),
  ]);
  for (const t of traces) {
    for (const r of t.replies) expect([t.name, r.status, r.ok]).toEqual([t.name, 200, true]);
    expect([t.name, t.dispatchesInRetention]).toEqual([t.name, 1]);
    expect([t.name, t.duplicates]).toEqual([t.name, REPLAYS_AT.length]);
    // After the retention the same bytes are new again when the gateway signs no time (the
    // documented limit: retention must outlive its retry window); a signed time older than
    // maxAgeMs is refused instead, and nothing is dispatched.
    expect([t.name, t.afterExpiry]).toEqual([
      t.name,
      t.signsATime ? { status: 401, dispatches: 0 } : { status: 200, dispatches: 1 },
    ]);
  }
  reportCounts(
    traces
      .map(
        (t) =>
          `${t.name}: ${t.replies.length} replays at ${t.replies.map((r) => r.at).join('/')} ms -> ${t.replies.map((r) => r.status).join(',')}, ` +
          `dispatched ${t.dispatchesInRetention}x within ${RETENTION_MS} ms; replay at ${AFTER_EXPIRY_AT} ms dispatched ${t.afterExpiry.dispatches}x`,
      )
      .join('\n'),
  );
});
