/**
 * Exactly once under a slow listener, a failing commit, a missing listener and a burst, over real
 * HTTP with a gateway that redelivers until it gets its success body. Each test counts how often
 * the merchant's side effect ran; `PAYHOOK_TEST_REPORT=1` prints the counts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  ConfigError,
  createMemoryStore,
  createPaymentHub,
  type IdempotencyStore,
  type PaymentErrorLike,
  type PaymentHub,
  type UnhandledDelivery,
} from '../src';
import {
  createTestProvider,
  postDelivery,
  reportCounts,
  signedDelivery,
  startTestServer,
  type TestServer,
} from '../src/testing';

const provider = createTestProvider();
const OK = provider.ack.ok.body;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A gateway that redelivers every `everyMs` until it hears its success body (bounded). */
async function deliverUntilAcknowledged(
  server: TestServer,
  txn: string,
  everyMs = 40,
  maxAttempts = 100,
): Promise<number> {
  const fixture = signedDelivery({ txn, order: `O-${txn}` });
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await postDelivery(server.url, fixture);
    if (reply.body === OK) return attempt;
    await sleep(everyMs);
  }
  throw new Error(`${txn} was never acknowledged`);
}

describe('a listener slower than handlerTimeoutMs', () => {
  it('200 payments with a listener that outlives the timeout and the lease run markPaid once each', async () => {
    // The listener takes 4x the handler timeout and more than the lease: only renewal keeps the
    // claim, and only the claim stops the redeliveries from running it again.
    // The lease is renewed every leaseMs / 3; 400 ms leaves room for the event loop stalls of a
    // loaded 2-core CI machine (at 120 ms, stalls of 80 ms let leases lapse: 4 of 200 ran twice).
    const server = await startTestServer(provider, {
      hubOptions: { handlerTimeoutMs: 50, leaseMs: 400, commitRetryMs: 60 },
    });
    const runs = new Map<string, number>();
    server.hub.on('payment.completed', async (event) => {
      runs.set(event.orderId!, (runs.get(event.orderId!) ?? 0) + 1);
      await sleep(600);
    });
    try {
      const attempts = await Promise.all(
        Array.from({ length: 200 }, (_, i) => deliverUntilAcknowledged(server, `SLOW-${i}`, 100)),
      );
      const twice = [...runs.values()].filter((n) => n > 1).length;
      reportCounts(
        'slow listener (memory store)',
        `payments 200, markPaid runs ${[...runs.values()].reduce((a, b) => a + b, 0)}, ran twice ${twice}, ` +
          `deliveries ${attempts.reduce((a, b) => a + b, 0)}`,
      );
      expect(runs.size).toBe(200);
      expect(twice).toBe(0);
      expect(Math.min(...attempts)).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('a slow listener that finally rejects releases its claim, and the redelivery runs it again', async () => {
    const server = await startTestServer(provider, {
      hubOptions: { handlerTimeoutMs: 30, leaseMs: 90, commitRetryMs: 40 },
    });
    let calls = 0;
    server.hub.on('payment.completed', async () => {
      calls++;
      await sleep(150);
      if (calls === 1) throw new Error('database down');
    });
    try {
      const fixture = signedDelivery({ txn: 'REJ-1' });
      expect((await postDelivery(server.url, fixture)).body).not.toBe(OK);
      // While the first run is still going, a redelivery is told to retry and runs nothing.
      await sleep(60);
      expect((await postDelivery(server.url, fixture)).body).not.toBe(OK);
      expect(calls).toBe(1);
      await sleep(150);
      const attempts = await deliverUntilAcknowledged(server, 'REJ-1');
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(calls).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe('a timed-out listener when the gateway has stopped retrying', () => {
  /** 50 payments; the gateway tries 3 times, 400 ms apart, then gives up (about 0.8 s). */
  async function run(honoursAbort: boolean): Promise<{ processed: number; acknowledged: number }> {
    const server = await startTestServer(provider, {
      hubOptions: { handlerTimeoutMs: 200, leaseMs: 2_000 },
    });
    const processed = new Set<string>();
    server.hub.on('payment.completed', async (event, { signal }) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 1_500);
        if (honoursAbort)
          signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)));
      });
      processed.add(event.transactionId);
    });
    let acknowledged = 0;
    try {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const fixture = signedDelivery({ txn: `GIVEUP-${honoursAbort}-${i}` });
          for (let attempt = 0; attempt < 3; attempt++) {
            if ((await postDelivery(server.url, fixture)).body === OK) return void acknowledged++;
            await sleep(400);
          }
        }),
      );
      await sleep(1_600); // the listeners that ignore their signal finish meanwhile
    } finally {
      await server.close();
    }
    return { processed: processed.size, acknowledged };
  }

  it('one that honours its abort signal is never processed (sync mode: use the async mode for slow listeners); one that ignores it finishes and is recorded', async () => {
    const honours = await run(true);
    const ignores = await run(false);
    reportCounts(
      'timed-out listener, gateway gave up after 3 tries in 0.8 s',
      `honours abort: ${honours.processed} of 50 processed; ignores abort: ${ignores.processed} of 50 processed; acknowledged ${honours.acknowledged} and ${ignores.acknowledged}`,
    );
    expect(honours).toEqual({ processed: 0, acknowledged: 0 });
    expect(ignores).toEqual({ processed: 50, acknowledged: 0 });
  }, 30_000);
});

describe('a listener that never settles', () => {
  it('past hardTimeoutMs its claim is released (ERR_LISTENER_ABANDONED) and the redelivery runs it; the hung run changes nothing after', async () => {
    const server = await startTestServer(provider, {
      hubOptions: { handlerTimeoutMs: 50, hardTimeoutMs: 300, leaseMs: 400 },
    });
    const errors: string[] = [];
    server.hub.on('error', (error) => void errors.push(error.code));
    let calls = 0;
    server.hub.on('payment.completed', async () => {
      // The first run hangs for good, ignoring its abort signal.
      if (++calls === 1) await new Promise<never>(() => undefined);
    });
    try {
      const fixture = signedDelivery({ txn: 'HANG-1' });
      const started = Date.now();
      expect((await postDelivery(server.url, fixture)).body).not.toBe(OK);
      // Under the cap the claim holds: a redelivery runs nothing.
      expect((await postDelivery(server.url, fixture)).body).not.toBe(OK);
      expect(calls).toBe(1);
      while (!errors.includes('ERR_LISTENER_ABANDONED') && Date.now() - started < 3_000)
        await sleep(20);
      expect(errors).toContain('ERR_LISTENER_ABANDONED');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(await deliverUntilAcknowledged(server, 'HANG-1')).toBe(1);
      expect(calls).toBe(2);
      // Done: a further redelivery is a duplicate.
      expect((await postDelivery(server.url, fixture)).body).toBe(OK);
      expect(calls).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe('a commit that fails after a successful dispatch', () => {
  /** A memory store whose commit throws the first `failures` times. */
  function flakyCommitStore(failures: number): IdempotencyStore & { releases: number } {
    const inner = createMemoryStore();
    let left = failures;
    const store = {
      releases: 0,
      claim: inner.claim.bind(inner),
      renew: inner.renew!.bind(inner),
      async commit(key: string, token: string, ttl: number) {
        if (left-- > 0) throw new Error('connection reset');
        return inner.commit(key, token, ttl);
      },
      async release(key: string, token: string) {
        store.releases++;
        return inner.release(key, token);
      },
    };
    return store;
  }

  it('is retried with backoff: the listener runs once and the gateway hears success', async () => {
    const store = flakyCommitStore(4);
    const server = await startTestServer(provider, { hubOptions: { store, commitRetryMs: 2_000 } });
    let calls = 0;
    server.hub.on('payment.completed', async () => void calls++);
    try {
      const first = await postDelivery(server.url, signedDelivery({ txn: 'C-1' }));
      expect(first.body).toBe(OK);
      const again = await postDelivery(server.url, signedDelivery({ txn: 'C-1' }));
      expect(again.body).toBe(OK);
      expect(calls).toBe(1);
      expect(store.releases).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('past commitRetryMs it is reported as ERR_COMMIT_FAILED and the claim is never released', async () => {
    const store = flakyCommitStore(1_000);
    const server = await startTestServer(provider, {
      hubOptions: { store, commitRetryMs: 150, leaseMs: 5_000, handlerTimeoutMs: 2_000 },
    });
    const errors: PaymentErrorLike[] = [];
    server.hub.on('error', (e) => void errors.push(e));
    let calls = 0;
    server.hub.on('payment.completed', async () => void calls++);
    try {
      const first = await postDelivery(server.url, signedDelivery({ txn: 'C-2' }));
      expect(first.body).toBe(OK);
      expect(errors.map((e) => e.code)).toEqual(['ERR_COMMIT_FAILED']);
      expect(store.releases).toBe(0);
      // The claim still holds: a redelivery within the lease runs nothing.
      const again = await postDelivery(server.url, signedDelivery({ txn: 'C-2' }));
      expect(again.body).not.toBe(OK);
      expect(calls).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('a type with no listener', () => {
  function hubWithUnhandled(options: Parameters<typeof createPaymentHub>[0] = {}) {
    const hub = createPaymentHub(options);
    const unhandled: UnhandledDelivery[] = [];
    hub.on('unhandled', (u) => void unhandled.push(u));
    return { hub, unhandled };
  }

  it('is never marked done: the gateway retries, and once the listener is added it is processed', async () => {
    const { hub, unhandled } = hubWithUnhandled();
    const server = await startTestServer(provider, { hub });
    try {
      const fixture = signedDelivery({ txn: 'F-1', status: 'FAILED' });
      const first = await postDelivery(server.url, fixture);
      expect(first.status).toBe(503);
      expect(unhandled.map((u) => [u.reason, u.event?.id, u.verified])).toEqual([
        [
          'no listener for payment.failed; the gateway is asked to retry until one is added',
          'test-gateway:F-1:failed',
          true,
        ],
      ]);
      const failed: string[] = [];
      hub.on('payment.failed', async (event) => void failed.push(event.id));
      const second = await postDelivery(server.url, fixture);
      expect(second.body).toBe(OK);
      expect(failed).toEqual(['test-gateway:F-1:failed']);
    } finally {
      await server.close();
    }
  });

  it('declared ignored, it is acknowledged and reported as ignored', async () => {
    const { hub, unhandled } = hubWithUnhandled({ ignore: ['payment.failed'] });
    const server = await startTestServer(provider, { hub });
    try {
      const reply = await postDelivery(
        server.url,
        signedDelivery({ txn: 'F-2', status: 'FAILED' }),
      );
      expect(reply.body).toBe(OK);
      expect(unhandled[0]!.reason).toMatch(/ignored/);
      expect((await hub.store.claim('test-gateway:F-2:failed', 1_000)).state).toBe('claimed');
    } finally {
      await server.close();
    }
  });

  it('unknown event names are a ConfigError at on, once and off', () => {
    const hub: PaymentHub = createPaymentHub();
    const on = hub.on as (name: string, fn: () => void) => PaymentHub;
    const once = hub.once as (name: string, fn: () => void) => PaymentHub;
    const off = hub.off as (name: string, fn: () => void) => PaymentHub;
    expect(() => on('payment.complete', () => {})).toThrow(ConfigError);
    expect(() => once('payment.refund', () => {})).toThrow(/not an event of the hub/);
    expect(() => off('complete', () => {})).toThrow(ConfigError);
    expect(() => createPaymentHub({ ignore: ['payment.fail' as never] })).toThrow(/ignore/);
  });
});

it('maxInFlight: deliveries beyond the cap get the retry body at once, without a claim', async () => {
  const server = await startTestServer(provider, {
    hubOptions: { maxInFlight: 2, handlerTimeoutMs: 2_000, leaseMs: 5_000 },
  });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  server.hub.on('payment.completed', async () => {
    calls++;
    await gate;
  });
  try {
    const held = [1, 2].map((i) => postDelivery(server.url, signedDelivery({ txn: `B-${i}` })));
    await sleep(100);
    const started = Date.now();
    const third = await postDelivery(server.url, signedDelivery({ txn: 'B-3' }));
    expect(third.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(2);
    release();
    expect((await Promise.all(held)).map((r) => r.body)).toEqual([OK, OK]);
    expect((await postDelivery(server.url, signedDelivery({ txn: 'B-3' }))).body).toBe(OK);
    expect(calls).toBe(3);
  } finally {
    await server.close();
  }
});

it('warns once, with NODE_ENV=production, that the memory store forgets on restart', () => {
  const script =
    "const { createPaymentHub } = require('./packages/core/src');" +
    'createPaymentHub(); createPaymentHub();';
  const run = (env: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: path.join(__dirname, '..', '..', '..'),
      env: { ...process.env, NODE_ENV: env },
      encoding: 'utf8',
    });
  const production = run('production');
  expect(production.status).toBe(0);
  expect(production.stderr.match(/PAYHOOK_MEMORY_STORE/g)).toHaveLength(1);
  expect(production.stderr).toMatch(/forgets every processed event when the process restarts/);
  expect(run('development').stderr).not.toMatch(/PAYHOOK_MEMORY_STORE/);
});

it('a failure notice that arrives while the completion is being processed waits, and is superseded', async () => {
  const server = await startTestServer(provider, {
    hubOptions: { handlerTimeoutMs: 2_000, leaseMs: 5_000 },
  });
  const seen: string[] = [];
  server.hub.on('payment.completed', async () => {
    seen.push('completed:start');
    await sleep(300);
    seen.push('completed:end');
  });
  server.hub.on('payment.failed', async () => void seen.push('failed'));
  try {
    const completion = postDelivery(server.url, signedDelivery({ txn: 'RACE-1', status: 'PAID' }));
    await sleep(50);
    const failure = await postDelivery(
      server.url,
      signedDelivery({ txn: 'RACE-1', status: 'FAILED' }),
    );
    expect(failure.body).not.toBe(OK);
    expect((await completion).body).toBe(OK);
    const redelivered = await postDelivery(
      server.url,
      signedDelivery({ txn: 'RACE-1', status: 'FAILED' }),
    );
    expect(redelivered.body).toBe(OK);
    expect(seen).toEqual(['completed:start', 'completed:end']);
  } finally {
    await server.close();
  }
});

it('maxInFlight holds on a store whose claims take a round trip', async () => {
  const inner = createMemoryStore();
  const slow: IdempotencyStore = {
    ...inner,
    claim: async (key, leaseMs) => {
      await sleep(30);
      return inner.claim(key, leaseMs);
    },
    commit: inner.commit.bind(inner),
    release: inner.release.bind(inner),
  };
  const server = await startTestServer(provider, {
    hubOptions: { store: slow, maxInFlight: 1, handlerTimeoutMs: 2_000, leaseMs: 5_000 },
  });
  let running = 0;
  let peak = 0;
  server.hub.on('payment.completed', async () => {
    peak = Math.max(peak, ++running);
    await sleep(100);
    running--;
  });
  try {
    const replies = await Promise.all(
      [1, 2, 3, 4].map((i) => postDelivery(server.url, signedDelivery({ txn: `CAP-${i}` }))),
    );
    expect(peak).toBe(1);
    expect(replies.filter((r) => r.body === OK)).toHaveLength(1);
  } finally {
    await server.close();
  }
});

describe('a transactional store and the completion marker', () => {
  it('an event whose completion marker is already recorded commits and is acknowledged, not reported rolled back', async () => {
    // A transactional store in the shape of @payhook/postgres: the marker is joined into the
    // event's transaction, and a claim of its own would need a second connection (here: none).
    const done = new Set<string>();
    let next = 0;
    const store: IdempotencyStore = {
      transactional: true,
      async claim(key, _leaseMs, options) {
        // A claim of its own needs a connection of its own, and the pool has none free.
        if (key.startsWith('#completed') && !options?.join)
          throw new Error("the pool's 1 connection is in use");
        if (done.has(key)) return { state: 'done' };
        return { state: 'claimed', token: `t${++next}` };
      },
      async commit(key) {
        done.add(key);
      },
      async release() {},
    };
    const hub = createPaymentHub({ store });
    const errors: string[] = [];
    hub.on('error', (error) => void errors.push(error.code));
    hub.on('payment.completed', async () => {});
    const provider = createTestProvider();
    const d = signedDelivery({ txn: 'TX-1' });
    // The marker of TX-1 was recorded by an earlier completion of it (another event id): the join
    // finds it done, so this event's COMMIT is the only write left.
    done.add(`#completed:${provider.id}:TX-1`);
    const result = await hub.receive(provider, {
      body: Buffer.from(d.body),
      headers: d.headers,
      transport: 'replay',
      receivedAt: new Date(),
    });
    expect(result.outcome).toBe('processed');
    expect(result.reply.body).toBe(OK);
    expect(done.has(`${provider.id}:TX-1:paid`)).toBe(true);
    expect(errors).toEqual([]);
  });
});
