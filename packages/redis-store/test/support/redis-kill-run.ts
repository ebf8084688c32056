/**
 * One run of the Redis-kill scenario (redis-kill.test.ts, redis-kill-aof.test.ts): two app
 * processes (support/instance.ts) on a redis-server of the run's own, 1,000 payments delivered
 * 3 to 5 copies each at once over both instances by a gateway that redelivers until it hears its
 * success body; the Redis is SIGKILLed when payment KILL_AT starts and started again on the same
 * port DOWN_MS later. With `trace`, every store call of both instances is recorded and the AOF is
 * copied between the kill and the restart, so what Redis acknowledged can be compared with what it
 * had written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { readAofCommands, snapshotAof, writesByKey } from './aof';
import {
  createPoster,
  dispatchTotals,
  ROOT,
  startInstance,
  stats as readStats,
  stopInstance,
  traceOf,
  type Instance,
  type Stats,
} from './instances';
import { freePort, ScratchRedis, testPrefix } from './redis';
import { SlowFsync } from './slow-fsync';
import type { TraceEntry } from './trace-store';

const provider = createTestProvider();
export const PAYMENTS = 1_000;
const PAYMENTS_IN_FLIGHT = 25;
/** The kill comes when this many payments have started. */
export const KILL_AT = 350;
const DOWN_MS = 500;
/** A copy is "lost" if it is still refused this long after it was first sent. */
const GIVE_UP_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface KillRunOptions {
  appendonly: boolean;
  appendfsync?: 'everysec' | 'always';
  /** Record the store calls and copy the AOF at the kill (see `analysis`). */
  trace?: boolean;
  /**
   * A slow disk at the kill (support/slow-fsync.ts): the server's fsync is delayed this long, and
   * the SIGKILL comes 300 ms after Redis reports a background fsync in progress.
   */
  slowFsyncMs?: number;
}

/** The gateway's side of a run. */
interface Gateway {
  deliveries: number;
  retryAnswers: number;
  acknowledged: number;
  unacknowledged: number;
  copies: number;
  /** Answers that were neither the success nor the retry body. */
  unexpected: string[];
  /** POSTs that got no answer (a connection error): redelivered, like a retry answer. */
  networkErrors: number;
}

/** Times (Date.now()) around the outage: SIGKILL sent, server gone, restarted. */
export interface OutageTimes {
  killedAt: number;
  goneAt: number;
  restartedAt: number;
  /** INFO persistence read just before the kill. */
  persistenceBefore: string;
}

export interface KillRunOutcome {
  label: string;
  gateway: Gateway;
  outage: OutageTimes;
  stats: Stats[];
  /** Listener runs per event id, over both instances. */
  runs: Map<string, number>;
  twice: string[];
  lost: number;
  dispatchedTotal: number;
  errorCounts: Record<string, number>;
  lostClaims: number;
  deliveryMs: number;
  aofEnabled: string | undefined;
  analysis?: KillAnalysis;
}

/** One delivered copy: posted until the success body, or GIVE_UP_MS. */
async function deliverCopy(
  gateway: Gateway,
  post: ReturnType<typeof createPoster>['post'],
  url: string,
  fixture: ReturnType<typeof signedDelivery>,
): Promise<void> {
  const first = Date.now();
  while (Date.now() - first < GIVE_UP_MS) {
    gateway.deliveries++;
    let reply: { status: number; body: string };
    try {
      reply = await post(url, fixture);
    } catch {
      reply = { status: 0, body: '' };
    }
    if (reply.status === provider.ack.ok.status && reply.body === provider.ack.ok.body) {
      gateway.acknowledged++;
      return;
    }
    if (reply.status === 0) gateway.networkErrors++;
    else if (reply.status !== provider.ack.retry.status || reply.body !== provider.ack.retry.body)
      gateway.unexpected.push(`${reply.status} ${reply.body}`);
    gateway.retryAnswers++;
    await sleep(5 + Math.floor(Math.random() * 15));
  }
  gateway.unacknowledged++;
}

/** With `slowFsyncMs`: strace delays the fsync; resolves 300 ms into a background fsync. */
async function slowDisk(redis: ScratchRedis, admin: Redis, slowFsyncMs: number) {
  const slow = new SlowFsync(redis.pid!, slowFsyncMs);
  await slow.start();
  const deadline = Date.now() + 5_000;
  while (!/aof_pending_bio_fsync:1/.test(await admin.info('persistence'))) {
    if (Date.now() > deadline) throw new Error('no background fsync within 5 s');
    await sleep(10);
  }
  await sleep(300);
  return slow;
}

/** SIGKILL, copy the AOF when asked, wait DOWN_MS, start again on the same port and directory. */
async function killAndRestart(
  redis: ScratchRedis,
  snapshotTo?: string,
  slowFsyncMs?: number,
): Promise<OutageTimes> {
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  const slow = slowFsyncMs ? await slowDisk(redis, admin, slowFsyncMs) : undefined;
  const persistenceBefore = await admin.info('persistence');
  admin.disconnect();
  const killedAt = Date.now();
  // SIGKILL first (stop() sends it at once), then the tracer: the delayed fsync must never run.
  const stopped = redis.stop();
  await slow?.stop();
  await stopped;
  const goneAt = Date.now();
  if (snapshotTo && redis.directory) snapshotAof(redis.directory, snapshotTo);
  await sleep(DOWN_MS - (Date.now() - goneAt));
  await redis.start();
  return { killedAt, goneAt, restartedAt: Date.now(), persistenceBefore };
}

/** The payments through the two instances, with the outage when payment KILL_AT starts. */
async function deliverAll(
  urls: string[],
  redis: ScratchRedis,
  snapshotTo: string | undefined,
  slowFsyncMs: number | undefined,
): Promise<{ gateway: Gateway; outage: OutageTimes }> {
  const gateway: Gateway = {
    deliveries: 0,
    retryAnswers: 0,
    acknowledged: 0,
    unacknowledged: 0,
    copies: 0,
    unexpected: [],
    networkErrors: 0,
  };
  const poster = createPoster(128);
  const ids = Array.from({ length: PAYMENTS }, (_, i) => `K${String(i).padStart(4, '0')}`);
  let next = 0;
  let outage: Promise<OutageTimes> | undefined;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const i = next++;
      if (i === KILL_AT) outage = killAndRestart(redis, snapshotTo, slowFsyncMs);
      const fixture = signedDelivery({ txn: ids[i]! });
      // 3 to 5 copies at once, alternating between the two instances.
      const n = 3 + (i % 3);
      gateway.copies += n;
      await Promise.all(
        Array.from({ length: n }, (_, c) =>
          deliverCopy(gateway, poster.post, urls[(i + c) % 2]!, fixture),
        ),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: PAYMENTS_IN_FLIGHT }, worker));
    return { gateway, outage: await outage! };
  } finally {
    poster.destroy();
  }
}

/** Runs the scenario once, end to end; the servers and processes are gone when it resolves. */
export async function runRedisKill(options: KillRunOptions): Promise<KillRunOutcome> {
  const { appendonly, appendfsync } = options;
  const label = appendonly
    ? `appendonly yes, appendfsync ${appendfsync ?? 'everysec'}`
    : 'appendonly no';
  const redis = new ScratchRedis(await freePort(), { appendonly, appendfsync });
  const snapshot = options.trace ? mkdtempSync(join(tmpdir(), 'payhook-aof-at-kill-')) : undefined;
  const children: Instance[] = [];
  try {
    await redis.start();
    const prefix = testPrefix(`redis-kill-${options.appendonly ? 'aof' : 'noaof'}`);
    const started = Date.now();
    for (const name of ['A', 'B']) {
      const child = await startInstance(name, {
        redisUrl: redis.url,
        prefix,
        trace: options.trace,
      });
      children.push(child);
      // The children must run the workspace sources, not a stale build.
      const sources = [child.ready.core, child.ready.redisStore].join(' ');
      if (
        sources !==
        ['core', 'redis-store'].map((p) => resolve(ROOT, `packages/${p}/src/index.ts`)).join(' ')
      )
        throw new Error(`instance ${name} runs ${sources}`);
    }
    const { gateway, outage } = await deliverAll(
      children.map((c) => c.url),
      redis,
      snapshot,
      options.slowFsyncMs,
    );
    const deliveryMs = Date.now() - started;
    const outcome = await collect(label, children, gateway, outage, deliveryMs, redis);
    if (snapshot) outcome.analysis = await analyse(children, prefix, snapshot, outcome);
    for (const child of children.splice(0)) {
      const code = await stopInstance(child);
      if (code !== 0) throw new Error(`instance exited with ${code}: ${child.stderr()}`);
    }
    return outcome;
  } finally {
    for (const child of children) await stopInstance(child);
    await redis.cleanup();
    if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  }
}

/** The counts of both instances after the run. */
async function collect(
  label: string,
  children: Instance[],
  gateway: Gateway,
  outage: OutageTimes,
  deliveryMs: number,
  redis: ScratchRedis,
): Promise<KillRunOutcome> {
  const all = await Promise.all(children.map(readStats));
  const { total, perInstance } = dispatchTotals(all);
  const errorCounts: Record<string, number> = {};
  for (const code of all.flatMap((s) => s.errors)) errorCounts[code] = (errorCounts[code] ?? 0) + 1;
  const expected = Array.from(
    { length: PAYMENTS },
    (_, i) => `test-gateway:K${String(i).padStart(4, '0')}:paid`,
  );
  const admin = new Redis(redis.url);
  const info = await admin.info('persistence');
  await admin.quit();
  return {
    label,
    gateway,
    outage,
    stats: all,
    runs: total,
    twice: [...total].filter(([, n]) => n > 1).map(([id]) => id),
    lost: expected.filter((id) => !total.has(id)).length,
    dispatchedTotal: perInstance.reduce((x, y) => x + y, 0),
    errorCounts,
    lostClaims: all.reduce((n, s) => n + Object.values(s.lostClaims).reduce((x, y) => x + y, 0), 0),
    deliveryMs,
    aofEnabled: /aof_enabled:(\d)/.exec(info)?.[1],
  };
}

/** What the traces and the AOF copied at the kill say. */
export interface KillAnalysis {
  /** Store writes answered before the kill (claims that took the key, commits, markDone). */
  acknowledgedWrites: number;
  /** ...of which the AOF at the kill had no trace: acknowledged, then lost with the process. */
  acknowledgedNotInAof: Array<{ key: string; op: string; token?: string; msBeforeKill: number }>;
  /**
   * Payments run twice with no known cause: no acknowledged write on their key missing from the
   * AOF, and no commit given up (ERR_COMMIT_FAILED, after which the claim lapses by design).
   */
  unexplained: string[];
  /** For each payment run twice: both instances' store calls on its key and what the AOF held. */
  doubled: Array<{ key: string; trace: Array<TraceEntry & { instance: string }>; aof: string[] }>;
}

/** The completion marker the hub keeps beside a test-gateway payment's event id. */
const markerOf = (eventId: string): string =>
  eventId.replace(/^test-gateway:(.*):paid$/, '#completed:test-gateway:$1');

async function analyse(
  children: Instance[],
  prefix: string,
  snapshot: string,
  outcome: KillRunOutcome,
): Promise<KillAnalysis> {
  const traces = await Promise.all(
    children.map(async (c) => (await traceOf(c)).map((e) => ({ ...e, instance: c.ready.name }))),
  );
  const all = traces.flat().sort((x, y) => x.t - y.t);
  const aof = writesByKey(readAofCommands(snapshot));
  const { goneAt, killedAt } = outcome.outage;
  // Written by Redis if answered before the server was gone: SET NX of a claim, markDone's SET.
  const writes = all.filter(
    (e) =>
      e.t <= goneAt &&
      ((e.op === 'claim' && e.result === 'claimed') ||
        ((e.op === 'commit' || e.op === 'markDone') && e.result === 'ok')),
  );
  const inAof = (e: TraceEntry): boolean => {
    const values = aof.get(prefix + e.key) ?? [];
    return e.op === 'claim' ? values.includes(e.token!) : values.includes('done');
  };
  const missing = writes
    .filter((e) => !inAof(e))
    .map((e) => ({ key: e.key, op: e.op, token: e.token, msBeforeKill: killedAt - e.t }));
  const doubled = outcome.twice.map((key) => ({
    key,
    trace: all.filter((e) => e.key === key || e.key === markerOf(key)),
    aof: aof.get(prefix + key) ?? [],
  }));
  const lostKeys = new Set(missing.map((m) => m.key));
  const failedCommits = new Set(outcome.stats.flatMap((s) => s.failedCommits));
  const unexplained = outcome.twice.filter((k) => !lostKeys.has(k) && !failedCommits.has(k));
  return { acknowledgedWrites: writes.length, acknowledgedNotInAof: missing, unexplained, doubled };
}
