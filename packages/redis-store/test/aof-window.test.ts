/**
 * Issue 22, item 6: why payments ran twice after a SIGKILL of a Redis with `appendonly yes`.
 *
 * With `appendfsync everysec`, Redis fsyncs the AOF in a background thread once a second. While
 * that fsync is still running (a busy or shared disk), Redis postpones writing its AOF buffer to
 * the file, for up to 2 s, but goes on executing commands and answering them. A SIGKILL in that
 * window loses writes that Redis had acknowledged: a claim the hub was told it holds (another
 * instance then claims and dispatches the same payment after the restart), or a done marker (a
 * later redelivery is dispatched again). This is Redis's persistence, not the store: no store
 * call can tell an acknowledged write from a durable one on Redis 7.0. `appendfsync always`
 * writes and fsyncs before answering, and closes the window (each write waits for the disk).
 *
 * The slow disk is made on demand (support/slow-fsync.ts: strace delays the server's fdatasync),
 * so both cases are deterministic. redis-kill-aof.test.ts measures the same window without it.
 */
import { Redis } from 'ioredis';
import { createRedisStore, type RedisStore } from '../src';
import { freePort, ScratchRedis, testPrefix } from './support/redis';
import { hasStrace, SlowFsync } from './support/slow-fsync';
import { ensureDebianProgram } from '../../../test/support/debian';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASE_MS = 30_000;
const TTL_MS = 60_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes (not store keys) until Redis reports a background fsync in progress. */
async function untilBackgroundFsync(admin: Redis): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (let i = 0; Date.now() < deadline; i++) {
    await admin.set('warm-up', String(i));
    if (/aof_pending_bio_fsync:1/.test(await admin.info('persistence'))) return;
    await sleep(20);
  }
  throw new Error('no background fsync started within 5 s');
}

/**
 * Instance A claims one payment and processes another (claim + commit), on a Redis whose fsync
 * takes `fsyncMs`; the Redis is SIGKILLed right after A's answers and restarted on its directory.
 * Resolves with what instance B's claims of the two payments get from the restarted Redis.
 */
async function killAfterAcknowledged(appendfsync: 'everysec' | 'always', fsyncMs: number) {
  const redis = new ScratchRedis(await freePort(), { appendonly: true, appendfsync });
  cleanups.push(() => redis.cleanup());
  await redis.start();
  const prefix = testPrefix(`aof-window-${appendfsync}`);
  const store = (): RedisStore => {
    const s = createRedisStore({ url: redis.url, prefix });
    cleanups.push(() => s.close());
    return s;
  };
  const [a, b] = [store(), store()];
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  cleanups.push(async () => admin.disconnect());
  await Promise.all([a.ready(), b.ready(), admin.ping()]);

  const slow = new SlowFsync(redis.pid!, fsyncMs);
  // A test that fails midway still detaches the tracer first: a killed server that is still
  // traced is never reaped, and the server's cleanup would wait for it forever.
  cleanups.push(() => slow.stop());
  await slow.start();
  if (appendfsync === 'everysec') await untilBackgroundFsync(admin);
  const held = await a.claim('evt:held', LEASE_MS);
  const processed = await a.claim('evt:processed', LEASE_MS);
  if (processed.state === 'claimed') await a.commit('evt:processed', processed.token, TTL_MS);
  // SIGKILL first (sent synchronously by stop()), then the tracer, so the delayed fsync never runs.
  const killed = redis.stop();
  await slow.stop();
  await killed;

  await redis.start();
  await b.ready();
  return {
    a: { held: held.state, processed: processed.state },
    b: {
      held: (await b.claim('evt:held', LEASE_MS)).state,
      processed: (await b.claim('evt:processed', LEASE_MS)).state,
    },
  };
}

// At load, outside any test's timeout: a new machine gets Debian's strace first (never a skip).
if (!hasStrace()) ensureDebianProgram('/usr/bin/strace', 'strace');

function needsStrace(name: string, fn: () => Promise<void>, timeout: number): void {
  it(
    name,
    async () => {
      if (!hasStrace()) throw new Error('this test needs strace (apt-get install strace)');
      await fn();
    },
    timeout,
  );
}

needsStrace(
  'appendfsync everysec, fsync slow: a SIGKILL loses a claim and a done marker Redis acknowledged, and another instance claims both payments again',
  async () => {
    const outcome = await killAfterAcknowledged('everysec', 5_000);
    expect(outcome.a).toEqual({ held: 'claimed', processed: 'claimed' });
    // Both were acknowledged to A; the restarted Redis has neither: B would dispatch both again.
    expect(outcome.b).toEqual({ held: 'claimed', processed: 'claimed' });
  },
  20_000,
);

needsStrace(
  'appendfsync always, fsync slow: what Redis acknowledged survives the SIGKILL: B gets busy and done',
  async () => {
    const outcome = await killAfterAcknowledged('always', 300);
    expect(outcome.a).toEqual({ held: 'claimed', processed: 'claimed' });
    expect(outcome.b).toEqual({ held: 'busy', processed: 'done' });
  },
  20_000,
);
