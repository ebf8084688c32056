import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { reportCounts } from '@payhook/core/testing';
import {
  createGatewayFixtures,
  startStatusApis,
  type GatewayDelivery,
  type MadePayment,
  type StatusApiGateway,
  type StatusApiSimulator,
} from '@payhook/testing';
import type { MerchantConfig } from './support/merchant';

/**
 * The merchant app is down for longer than each gateway's whole retry schedule while payments are
 * made (each schedule scaled to fit the test), then comes back. Nothing but the awaited payments'
 * sweeper can recover them: every gateway has given up. Run with the memory list while the process
 * survives (its webhook port closed), and with the Redis and PostgreSQL lists across a SIGKILL and
 * a restart, one instance and two sharing the list. `PAYHOOK_TEST_REPORT=1` prints the counts.
 */
jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../..');
const REDIS_URL = 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PER_GATEWAY = Number(process.env.PAYHOOK_OUTAGE_PAYMENTS ?? 25);
const GATEWAYS: readonly StatusApiGateway[] = ['newpay', 'signed-param', 'cashy'];
const ROUTES: Record<StatusApiGateway, string> = {
  newpay: '/webhooks/newpay',
  'signed-param': '/webhooks/paycools',
  cashy: '/webhooks/cashy',
};
/**
 * Each gateway's retry schedule after the first delivery, in ms. NewPay v2: 10 s, 5 min, 30 min,
 * then stops (scaled 1:1000). Cashy: 1, 2, 4 … 512 min, ten times (scaled 1:10,000, about 6 s in
 * all). PayCools publishes none: NewPay's, assumed.
 */
const RETRIES: Record<StatusApiGateway, number[]> = {
  newpay: [10, 300, 1_800],
  'signed-param': [10, 300, 1_800],
  cashy: [6, 12, 24, 48, 96, 192, 384, 768, 1_536, 3_072],
};

const fixtures = createGatewayFixtures();
let apis: StatusApiSimulator;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  apis = await startStatusApis(fixtures);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await apis.close();
  // What the runs left on the shared servers: their schemas and keys.
  const pool = new Pool({ connectionString: DATABASE_URL });
  for (const run of ['po1', 'po2'])
    await pool.query(`DROP SCHEMA IF EXISTS "outage_${run}_${process.pid}" CASCADE`);
  await pool.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`payhook-outage-*-${process.pid}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

interface Merchant {
  child: ChildProcess;
  control: string;
  events: string[];
  overdue: string[];
}

const freePort = (): Promise<number> =>
  new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

function startMerchant(config: MerchantConfig): Promise<Merchant> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/outage/support/merchant.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
      OUTAGE_CONFIG: JSON.stringify(config),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const merchant: Merchant = { child, control: '', events: [], overdue: [] };
  return new Promise((ready, fail) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (line.ready) {
          merchant.control = `http://127.0.0.1:${line.control}`;
          ready(merchant);
        } else if (typeof line.event === 'string') merchant.events.push(line.event);
        else if (typeof line.overdue === 'string') merchant.overdue.push(line.overdue);
      }
    });
    child.once('exit', (code) => fail(new Error(`merchant exited ${code}: ${stderr}`)));
  });
}

async function kill(merchant: Merchant): Promise<void> {
  merchant.child.kill('SIGKILL');
  if (merchant.child.exitCode === null) await new Promise((r) => merchant.child.once('exit', r));
  children.delete(merchant.child);
}

const control = async (merchant: Merchant, path: string, body: object = {}): Promise<void> => {
  const res = await fetch(`${merchant.control}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
};

/** The gateway's sender: the first delivery, then its retries; true when the app acknowledged one. */
async function deliverWithRetries(
  url: string,
  gateway: StatusApiGateway,
  webhook: GatewayDelivery,
) {
  for (const wait of [0, ...RETRIES[gateway]]) {
    await new Promise((r) => setTimeout(r, wait));
    try {
      const res = await fetch(url, {
        method: 'POST',
        body: webhook.body,
        headers: webhook.headers,
      });
      const text = await res.text();
      if (res.status === webhook.successAck.status && text === webhook.successAck.body) return true;
    } catch {
      // Connection refused: the app is down. The gateway tries again on its schedule.
    }
  }
  return false;
}

const orderIds = (run: string) =>
  GATEWAYS.flatMap((gateway) =>
    Array.from({ length: PER_GATEWAY }, (_, i) => ({ gateway, orderId: `${run}-${gateway}-${i}` })),
  );

/** What the run came to: every payment's events, status queries, and the webhooks that got through. */
function tally(run: string, made: MadePayment[], merchants: Merchant[], acknowledged: number) {
  const events = merchants.flatMap((m) => m.events);
  const perEvent = new Map<string, number>();
  for (const id of events) perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
  const refs = new Set(made.map((p) => p.reference));
  const orders = new Set(made.map((p) => p.orderId));
  const asked = apis.asked.filter((q) => refs.has(q.key) || orders.has(q.key));
  const perPayment = new Map<string, number>();
  for (const q of asked) perPayment.set(q.key, (perPayment.get(q.key) ?? 0) + 1);
  const counts = {
    payments: made.length,
    webhooksAcknowledged: acknowledged,
    emitted: perEvent.size,
    doubled: [...perEvent.values()].filter((n) => n > 1).length,
    statusQueries: asked.length,
    mostQueriesForOnePayment: Math.max(0, ...perPayment.values()),
    overdue: merchants.reduce((n, m) => n + m.overdue.length, 0),
  };
  reportCounts(`merchant down (${run})`, counts);
  return counts;
}

async function waitForEvents(merchants: Merchant[], n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (merchants.reduce((sum, m) => sum + m.events.length, 0) < n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  // A little longer: a second emission of any payment would show now.
  await new Promise((r) => setTimeout(r, 1_000));
}

/** The outage: orders awaited, the app down, payments made and their webhooks given up on. */
async function outage(
  run: string,
  url: string,
  down: () => Promise<void>,
): Promise<{ made: MadePayment[]; acknowledged: number }> {
  await down();
  const made = orderIds(run).map(({ gateway, orderId }) => apis.pay(gateway, { orderId }));
  const delivered = await Promise.all(
    made.map((p) => deliverWithRetries(`${url}${ROUTES[p.gateway]}`, p.gateway, p.webhook)),
  );
  return { made, acknowledged: delivered.filter(Boolean).length };
}

function configFor(list: MerchantConfig['list'], webhookPort: number, run: string): MerchantConfig {
  return {
    list,
    webhookPort,
    redisUrl: REDIS_URL,
    prefix: `payhook-outage-${run}-${process.pid}:`,
    databaseUrl: DATABASE_URL,
    schema: `outage_${run}_${process.pid}`,
    sweepEveryMs: 250,
    // The gateways' own schedules, scaled like their retries: first check after 1 s, at most 2 s apart.
    schedule: Object.fromEntries(
      GATEWAYS.map((g) => [g, { firstCheckMs: 1_000, maxIntervalMs: 2_000 }]),
    ),
    options: {
      newpay: { ...fixtures.newpay.providerOptions, ...apis.providerOptions.newpay },
      cashy: { ...fixtures.cashy.providerOptions, ...apis.providerOptions.cashy },
      signedParam: { ...fixtures.signedParam.providerOptions, ...apis.providerOptions.signedParam },
    },
  };
}

const awaitAll = async (merchant: Merchant, run: string) => {
  for (const { gateway, orderId } of orderIds(run))
    await control(merchant, '/orders', { gateway, orderId, untilMs: 600_000 });
};

it('memory list, the process survives (its port closed): every payment emitted once', async () => {
  const port = await freePort();
  const merchant = await startMerchant(configFor('memory', port, 'mem'));
  try {
    await awaitAll(merchant, 'mem');
    const { made, acknowledged } = await outage('mem', `http://127.0.0.1:${port}`, () =>
      control(merchant, '/down'),
    );
    await control(merchant, '/up');
    await waitForEvents([merchant], made.length, 30_000);
    const counts = tally('memory', made, [merchant], acknowledged);
    expect(counts).toMatchObject({
      webhooksAcknowledged: 0,
      emitted: made.length,
      doubled: 0,
      overdue: 0,
    });
    expect(counts.mostQueriesForOnePayment).toBeLessThanOrEqual(3);
  } finally {
    await kill(merchant);
  }
});

it('without awaiting them, the same outage loses every payment (the gateways gave up)', async () => {
  const port = await freePort();
  const merchant = await startMerchant(configFor('memory', port, 'none'));
  try {
    const { made, acknowledged } = await outage('none', `http://127.0.0.1:${port}`, () =>
      control(merchant, '/down'),
    );
    await control(merchant, '/up');
    await waitForEvents([merchant], made.length, 3_000);
    const counts = tally('memory, nothing awaited', made, [merchant], acknowledged);
    expect(counts).toMatchObject({ webhooksAcknowledged: 0, emitted: 0, statusQueries: 0 });
  } finally {
    await kill(merchant);
  }
});

it('status API down, then slow, after a restart (Redis list): backoff respected, nothing lost', async () => {
  const port = await freePort();
  const run = 'slow';
  const config = configFor('redis', port, run);
  const first = await startMerchant(config);
  await awaitAll(first, run);
  const { made, acknowledged } = await outage(run, `http://127.0.0.1:${port}`, () => kill(first));
  apis.state.down = true;
  const second = await startMerchant(config);
  try {
    const downFor = 4_000;
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, downFor));
    const askedWhileDown = tally(`${run}, while down`, made, [second], acknowledged);
    reportCounts('status API down for', { ms: Date.now() - downAt });
    apis.state.down = false;
    apis.state.delayMs = 300;
    await waitForEvents([second], made.length, 40_000);
    apis.state.delayMs = 0;
    const counts = tally(`${run}, after`, made, [first, second], acknowledged);
    expect(counts).toMatchObject({ emitted: made.length, doubled: 0, overdue: 0 });
    // Backoff: first check at once (long due), then 0.5–1 s, 1–2 s, 1–2 s … apart; a failed query
    // also stops that gateway's queries for the rest of its sweep. So at most 5 per payment in 4 s.
    expect(askedWhileDown.mostQueriesForOnePayment).toBeLessThanOrEqual(5);
    expect(askedWhileDown.emitted).toBe(0);
  } finally {
    apis.state.down = false;
    apis.state.delayMs = 0;
    await kill(second);
  }
});

describe.each(['redis', 'postgres'] as const)('%s list, across a SIGKILL and a restart', (list) => {
  it('one instance: every payment emitted once', async () => {
    const port = await freePort();
    const run = `${list.slice(0, 2)}1`;
    const config = configFor(list, port, run);
    const first = await startMerchant(config);
    await awaitAll(first, run);
    const { made, acknowledged } = await outage(run, `http://127.0.0.1:${port}`, () => kill(first));
    const second = await startMerchant(config);
    try {
      await waitForEvents([second], made.length, 30_000);
      const counts = tally(`${list}, restart`, made, [first, second], acknowledged);
      expect(counts).toMatchObject({
        webhooksAcknowledged: 0,
        emitted: made.length,
        doubled: 0,
        overdue: 0,
      });
      expect(counts.mostQueriesForOnePayment).toBeLessThanOrEqual(3);
    } finally {
      await kill(second);
    }
  });

  it('two instances sharing the list: 0 doubled status handling', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const run = `${list.slice(0, 2)}2`;
    const a = await startMerchant(configFor(list, portA, run));
    const b = await startMerchant(configFor(list, portB, run));
    await awaitAll(a, run);
    const { made, acknowledged } = await outage(run, `http://127.0.0.1:${portA}`, async () => {
      await Promise.all([kill(a), kill(b)]);
    });
    const [a2, b2] = await Promise.all([
      startMerchant(configFor(list, portA, run)),
      startMerchant(configFor(list, portB, run)),
    ]);
    try {
      await waitForEvents([a2, b2], made.length, 30_000);
      const counts = tally(`${list}, two instances`, made, [a, b, a2, b2], acknowledged);
      expect(counts).toMatchObject({
        webhooksAcknowledged: 0,
        emitted: made.length,
        doubled: 0,
        overdue: 0,
        // Each payment asked about once: one sweeper held it, and its answer settled it.
        mostQueriesForOnePayment: 1,
      });
      reportCounts(`${list}, two instances: emitted by each`, {
        first: a2.events.length,
        second: b2.events.length,
      });
    } finally {
      await Promise.all([kill(a2), kill(b2)]);
    }
  });
});
