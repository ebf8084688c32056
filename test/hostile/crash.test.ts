/**
 * Crash: a merchant process is killed with SIGKILL while its listener is running, on the real
 * Redis store. Its claim stays in Redis until the lease (1.5 s) runs out; meanwhile a second
 * process answers the gateway's redeliveries with the retry body; after the lease, the redelivery
 * is processed by the second process exactly once, and later ones are duplicates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { buildCashyMessage } from '@payhook/payin/signing';
import { CASHY_API_KEY, CASHY_MERCHANT } from './support-crash/constants';
import { agent, cashyPayment, post, sleep, type Wire } from './support';
import { reportCounts } from '@payhook/core/testing';

const ROOT = resolve(__dirname, '../..');
const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `payhook-test:hostile-crash:${process.pid}:${randomBytes(4).toString('hex')}:`;
const OK = { status: 200, body: 'SUCCESS' };
const RETRY = { status: 500, body: 'FAIL' };

interface Instance {
  child: ChildProcess;
  url: string;
  pid: number;
  listenerCalls: string[];
}
const children: ChildProcess[] = [];
let admin: Redis;

function start(mode: 'hang' | 'ok'): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/hostile/support-crash/instance.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
        REDIS_URL,
        PREFIX: prefix,
        MODE: mode,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const listenerCalls: string[] = [];
  return new Promise((resolveStart, reject) => {
    let buffer = '';
    let instance: Instance | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (line.ready) {
          expect(line.core).toBe(resolve(ROOT, 'packages/core/src/index.ts'));
          instance = {
            child,
            url: `http://127.0.0.1:${line.port}/`,
            pid: line.pid as number,
            listenerCalls,
          };
          resolveStart(instance);
        } else if (typeof line.listener === 'string') listenerCalls.push(line.listener);
      }
    });
    child.once('exit', (code) => {
      if (!instance) reject(new Error(`instance exited with ${code}: ${stderr}`));
    });
  });
}

const until = async (check: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  agent.destroy();
});

it('a process killed (SIGKILL) inside a listener: after the lease, a second process processes the redelivery exactly once', async () => {
  const delivery: Wire = buildCashyMessage(cashyPayment(424242), {
    merchantId: CASHY_MERCHANT,
    apiKey: CASHY_API_KEY,
  });
  const eventId = `cashy:PAYIN${String(424242).padStart(12, '0')}:completed`;
  const key = `${prefix}${eventId}`;

  // Both processes up first, so the redelivery below surely lands inside the dead one's lease.
  const [a, b] = await Promise.all([start('hang'), start('ok')]);
  const inFlight = post(a.url, delivery).then(
    (reply) => ({ reply }),
    (error: Error) => ({ error }),
  );
  await until(() => a.listenerCalls.length === 1, 'the listener of process A to start');
  expect(a.listenerCalls).toEqual([eventId]);
  const claim = await admin.get(key);
  expect(claim).not.toBeNull();
  expect(claim).not.toBe('done');

  const exited = once(a.child, 'exit');
  a.child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  expect([code, signal]).toEqual([null, 'SIGKILL']);
  // The gateway saw the connection drop, not a success: it will redeliver.
  const outcome = await inFlight;
  expect('error' in outcome).toBe(true);

  expect(b.pid).not.toBe(a.pid);
  // While the dead process's lease holds, the redelivery is told to retry, and nothing runs.
  const leaseLeft = await admin.pttl(key);
  const early = await post(b.url, delivery);
  expect(early).toEqual(RETRY);
  expect(b.listenerCalls).toEqual([]);

  await until(
    async () => (await admin.exists(key)) === 0,
    'the lease of the killed process to expire',
  );
  // The gateway's redeliveries, several at once: exactly one is processed.
  const replies = await Promise.all(Array.from({ length: 5 }, () => post(b.url, delivery)));
  const later = await post(b.url, delivery);
  expect(b.listenerCalls).toEqual([eventId]);
  expect(
    replies.filter((r) => r.status === OK.status && r.body === OK.body).length,
  ).toBeGreaterThanOrEqual(1);
  for (const r of replies) expect([OK, RETRY]).toContainEqual(r);
  expect(later).toEqual(OK);
  expect(await admin.get(key)).toBe('done');
  reportCounts(
    `killed pid ${a.pid} in its listener; lease left ${leaseLeft} ms; pid ${b.pid}: early redelivery ${early.status}, ` +
      `after the lease ${replies.map((r) => r.status).join(',')} then ${later.status}; listener calls in B: ${b.listenerCalls.length}`,
  );
}, 30_000);
