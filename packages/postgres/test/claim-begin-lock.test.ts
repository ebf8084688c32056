import net from 'node:net';
import { Pool } from 'pg';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import { createPostgresInbox, createPostgresStore } from '../src';
import { dropSchema, setUpSchema, testPool, testSchema } from './support/db';
import { deliver, sleep } from './support/deliver';
import { createTestProvider, signedDelivery, type TestPayload } from '@payhook/core/testing';

// Hostile review of the claim's one simple query `BEGIN; SELECT pg_try_advisory_xact_lock(...)`:
// a connection that freezes or dies during it, and keys that would need quoting.

type Mode = 'pass' | 'drop-query' | 'freeze-answer' | 'kill-after-send';

/** A TCP proxy to PostgreSQL that misbehaves on the connection that sends the BEGIN+lock query. */
function startProxy(): Promise<{ port: number; mode: Mode; close(): void }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, mode: 'pass' as Mode, close: () => undefined as void };
  const server = net.createServer((client) => {
    const upstream = net.connect(5432, '127.0.0.1');
    sockets.add(client).add(upstream);
    let frozen = false;
    client.on('data', (chunk) => {
      if (frozen) return;
      const isLock = chunk.includes('BEGIN; SELECT pg_try_advisory_xact_lock');
      if (isLock && state.mode === 'drop-query') {
        frozen = true;
        return;
      }
      upstream.write(chunk);
      if (isLock && state.mode === 'freeze-answer') frozen = true;
      if (isLock && state.mode === 'kill-after-send') {
        frozen = true;
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 20);
      }
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    // A frozen network: the client closing does not reach the server (its backend lives on).
    client.on('close', () => {
      if (!frozen || state.mode === 'kill-after-send') upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      state.port = (server.address() as net.AddressInfo).port;
      state.close = () => {
        for (const s of sockets) s.destroy();
        server.close();
      };
      resolve(state);
    }),
  );
}

let admin: Pool;
const schema = testSchema('review_beginlock');
beforeAll(async () => {
  admin = testPool();
  await setUpSchema(admin, schema);
});
afterAll(async () => {
  await dropSchema(admin, schema);
  await admin.end();
});

describe('the BEGIN+lock simple query under a misbehaving connection', () => {
  it.each<Mode>(['drop-query', 'freeze-answer', 'kill-after-send'])(
    '%s: the claim fails within its deadline, and the redelivery is processed (no lock left behind)',
    async (mode) => {
      const proxy = await startProxy();
      const pool = new Pool({
        connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
        max: 4,
      });
      pool.on('error', () => undefined);
      const store = createPostgresStore({
        pool,
        schema,
        statementTimeoutMs: 300,
        connectTimeoutMs: 300,
      });
      const inbox = createPostgresInbox({ pool: admin, schema });
      const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 1_000, leaseMs: 5_000 });
      hub.on('error', () => undefined);
      hub.on('payment.completed', () => undefined);
      try {
        await store.ready();
        proxy.mode = mode;
        const txn = `T-BL-${mode}`;
        const started = Date.now();
        const first = await deliver(hub as unknown as PaymentHub, { txn, order: 'O' });
        const took = Date.now() - started;
        proxy.mode = 'pass';
        expect(first.outcome).toBe('failed');
        expect(took).toBeLessThan(1_500);
        // The backend that took the lock (if it got the query) is terminated or rolled back.
        let again = await deliver(hub as unknown as PaymentHub, { txn, order: 'O' });
        for (let i = 0; i < 20 && again.outcome === 'busy'; i++) {
          await sleep(100);
          again = await deliver(hub as unknown as PaymentHub, { txn, order: 'O' });
        }
        expect(again.outcome).toBe('processed');
        expect(store.openClaims).toBe(0);
        const entry = await inbox.get(first.inboxId!);
        expect(entry?.outcome).toBe('failed');
      } finally {
        await store.close();
        await pool.end().catch(() => undefined);
        proxy.close();
      }
    },
  );
});

/** The test gateway, verified over the UTF-8 body (the reference verifies latin1 bytes). */
const utf8Gateway = {
  ...createTestProvider(),
  verify: (d: { body: Buffer }) => JSON.parse(d.body.toString('utf8')),
};
function deliverUtf8(hub: PaymentHub, payload: Partial<TestPayload>) {
  const fixture = signedDelivery(payload);
  return hub.receive(utf8Gateway as never, {
    body: Buffer.from(fixture.body, 'utf8'),
    headers: fixture.headers,
    transport: 'http',
    receivedAt: new Date(),
  });
}

describe('keys that would need quoting', () => {
  it.each([
    `O'Brien"; SELECT pg_sleep(10); --`,
    'ünïcødé-🙂-支払い',
    'semi;colon BEGIN; COMMIT',
    '\\x00-backslash-\\',
  ])('txn %j: processed once, then duplicate; entry recorded', async (txn) => {
    const store = createPostgresStore({ pool: admin, schema });
    const inbox = createPostgresInbox({ pool: admin, schema });
    const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    let runs = 0;
    hub.on('payment.completed', () => void runs++);
    const a = await deliverUtf8(hub as unknown as PaymentHub, { txn, order: txn });
    const b = await deliverUtf8(hub as unknown as PaymentHub, { txn, order: txn });
    expect([a.outcome, b.outcome, runs]).toEqual(['processed', 'duplicate', 1]);
    const entry = await inbox.get(a.inboxId!);
    expect(entry?.events[0]?.transactionId).toBe(txn);
    expect((await inbox.get(b.inboxId!))?.events[0]?.attempt).toBe(2);
  });

  it('a NUL in the event id: refused once (400 ERR_PAYLOAD_INVALID), recorded, nothing claimed or run, rather than a retry answer forever', async () => {
    const store = createPostgresStore({ pool: admin, schema });
    const inbox = createPostgresInbox({ pool: admin, schema });
    const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    hub.on('error', () => undefined);
    let runs = 0;
    hub.on('payment.completed', () => void runs++);
    const results = [
      await deliver(hub as unknown as PaymentHub, { txn: 'T-NUL\u0000x', order: 'O' }),
      await deliver(hub as unknown as PaymentHub, { txn: 'T-LONE\ud800x', order: 'O' }),
    ];
    // The lone surrogate never gets as far: core's JSON parser refuses it in the body.
    expect(results.map((r) => [r.outcome, r.reply.status, r.error?.code])).toEqual([
      ['rejected', 400, 'ERR_PAYLOAD_INVALID'],
      ['rejected', 400, 'ERR_PAYLOAD_MALFORMED'],
    ]);
    expect(runs).toBe(0);
    expect(store.openClaims).toBe(0);
    for (const r of results) expect((await inbox.get(r.inboxId!))?.outcome).toBe('rejected');
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM "${schema}".processed WHERE key LIKE '%T-NUL%' OR key LIKE '%T-LONE%'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
