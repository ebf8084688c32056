/**
 * Test and live mode (issue 26): every event says which of the gateway's environments it comes
 * from, decided by the key that verified it (or by verify itself); a mount refuses the other
 * mode's deliveries (403, nothing emitted or stored) unless a live mount allows test ones, which
 * then have ids of their own and never settle a live awaited payment.
 */
import { testDelivery } from './support/deliveries';
import { createPaymentHub, ModeMismatchError, ProviderConfigError, type PaymentMode } from '../src';
import {
  createCountingStore,
  createStatusTestGateway,
  createTestProvider,
  recordHub,
  TEST_SECRET,
  type TestPayload,
} from '../src/testing';
import { defineProvider, splitKeyModes, validatePaymentEvent, verified } from '../src/plugin';

const SANDBOX = 'sandbox-secret-do-not-use';

const delivery = testDelivery;

function setup() {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  return { hub, rec: recordHub(hub), store };
}

/** A gateway whose signature says the mode itself (PayMongo's te=/li=): the body's `mode` field here. */
function selfDeclaring(mount: { mode?: PaymentMode; allowTestMode?: boolean }) {
  const base = createTestProvider();
  return defineProvider<TestPayload>({
    id: base.id,
    source: base.source,
    schema: base.schema,
    normalize: base.normalize,
    ...mount,
    verify(d) {
      const payload = base.verify(d) as TestPayload & { mode?: PaymentMode };
      return verified(payload, { mode: payload.mode });
    },
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
  });
}

describe('a live mount', () => {
  const both = createTestProvider({
    secret: [TEST_SECRET, { key: SANDBOX, mode: 'test' }],
    allowTestMode: true,
  });

  it('refuses a test-mode delivery: 403 ERR_MODE_MISMATCH, nothing emitted or stored', async () => {
    const { hub, rec, store } = setup();
    const provider = selfDeclaring({});
    const r = await hub.receive(
      provider,
      delivery({ txn: 'T-0', mode: 'test' } as never, TEST_SECRET),
    );
    expect([r.outcome, r.reply.status, r.error?.code]).toEqual([
      'rejected',
      403,
      'ERR_MODE_MISMATCH',
    ]);
    expect(r.error).toBeInstanceOf(ModeMismatchError);
    expect(JSON.parse(r.reply.body)).toMatchObject({ error: { code: 'ERR_MODE_MISMATCH' } });
    expect([rec.events.length, rec.unhandled.length, store.calls.claim]).toEqual([0, 0, 0]);
    expect(rec.errors.map((e) => e.code)).toEqual(['ERR_MODE_MISMATCH']);
    // The same delivery saying live passes: the refusal was the mode's, not the signature's.
    const live = await hub.receive(
      provider,
      delivery({ txn: 'T-0', mode: 'live' } as never, TEST_SECRET),
    );
    expect([live.outcome, rec.events[0]?.mode]).toEqual(['processed', 'live']);
  });

  it('with allowTestMode: a sandbox-key delivery is a test event with an id of its own', async () => {
    const { hub, rec } = setup();
    const test = await hub.receive(both, delivery({ txn: 'T-1', order: 'O-1' }, SANDBOX));
    const live = await hub.receive(both, delivery({ txn: 'T-1', order: 'O-1' }, TEST_SECRET));
    expect([test.outcome, live.outcome]).toEqual(['processed', 'processed']);
    expect(rec.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      ['test-gateway:test:T-1:paid', 'test', 1],
      ['test-gateway:T-1:paid', 'live', 0],
    ]);
    expect(rec.events.every((e) => validatePaymentEvent(e))).toBe(true);
  });

  it('a test completion does not make the live failure of the same transaction id superseded', async () => {
    const { hub, rec } = setup();
    await hub.receive(both, delivery({ txn: 'T-2' }, SANDBOX));
    const failed = await hub.receive(both, delivery({ txn: 'T-2', status: 'FAILED' }, TEST_SECRET));
    expect([failed.outcome, rec.superseded.length]).toEqual(['processed', 0]);
    expect(rec.events.map((e) => `${e.mode} ${e.type}`)).toEqual([
      'test payment.completed',
      'live payment.failed',
    ]);
  });

  it('one sandbox key, verify naming no index: the key still makes the event test', async () => {
    const { hub, rec } = setup();
    const one = createTestProvider({ secret: { key: SANDBOX, mode: 'test' }, allowTestMode: true });
    await hub.receive(one, delivery({ txn: 'T-3' }, SANDBOX));
    expect(rec.events.map((e) => [e.id, e.mode, e.keyIndex])).toEqual([
      ['test-gateway:test:T-3:paid', 'test', undefined],
    ]);
  });

  it('a test payment never settles the live awaited order it shares a number with', async () => {
    const g = createStatusTestGateway({
      secret: [TEST_SECRET, { key: SANDBOX, mode: 'test' }],
      allowTestMode: true,
    });
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
    const modes: string[] = [];
    hub.on('payment.completed', (e) => void modes.push(e.mode));
    await hub.expectPayment(g.provider, { orderId: 'O-9', until: Date.now() + 60_000 });
    await hub.receive(g.provider, delivery({ txn: 'T-9S', order: 'O-9' }, SANDBOX));
    expect((await hub.awaited.get('test-gateway:order:O-9'))?.state).toBe('awaiting');
    const r = await hub.receive(g.provider, delivery({ txn: 'T-9', order: 'O-9' }, TEST_SECRET));
    expect(r.outcome).toBe('processed');
    const entry = await hub.awaited.get('test-gateway:order:O-9');
    expect([entry?.state, entry?.eventId]).toEqual(['settled', 'test-gateway:T-9:paid']);
    expect(modes).toEqual(['test', 'live']);
    await hub.close();
  });
});

describe('a test mount and a live mount of one gateway on one hub', () => {
  it('await, sweep and settle apart: each order asked through its own mount, settled by its own mode', async () => {
    const live = createStatusTestGateway({ secret: TEST_SECRET });
    const test = createStatusTestGateway({ mode: 'test', secret: SANDBOX });
    const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
    hub.onAny(() => undefined);
    const until = Date.now() + 60_000;
    const [a, b] = [
      await hub.expectPayment(live.provider, { orderId: 'O-1', until }),
      await hub.expectPayment(test.provider, { orderId: 'O-1', until }),
    ];
    expect([a.key, b.key]).toEqual(['test-gateway:order:O-1', 'test-gateway:test:order:O-1']);
    // The sandbox pays its O-1 (a webhook and its status API both say so); the live O-1 is unpaid.
    test.paid('T-S', 'O-1');
    await hub.receive(test.provider, delivery({ txn: 'T-S', order: 'O-1' }, SANDBOX));
    expect((await hub.awaited.get(a.key))?.state).toBe('awaiting');
    expect((await hub.awaited.get(b.key))?.state).toBe('settled');
    await new Promise((r) => setTimeout(r, 5));
    await hub.sweep({ all: true });
    // The live order is asked about through the live mount only; the sandbox is never asked it.
    expect([live.asked, test.asked]).toEqual([['O-1'], []]);
    expect((await hub.awaited.get(a.key))?.state).toBe('awaiting');
    await hub.close();
  });
});

describe('a test mount', () => {
  it("marks its bare keys' events test, reconciles in test mode, and refuses a live delivery", async () => {
    const { hub, rec, store } = setup();
    const g = createStatusTestGateway({ mode: 'test', secret: SANDBOX });
    await hub.receive(g.provider, delivery({ txn: 'T-4' }, SANDBOX));
    g.paid('T-5', 'O-5');
    await hub.reconcile(g.provider, 'T-5');
    expect(rec.events.map((e) => [e.id, e.mode])).toEqual([
      ['test-gateway:test:T-4:paid', 'test'],
      ['test-gateway:test:T-5:paid', 'test'],
    ]);
    const claims = store.calls.claim;
    const live = await hub.receive(
      selfDeclaring({ mode: 'test' }),
      delivery({ txn: 'T-6', mode: 'live' } as never, TEST_SECRET),
    );
    expect([live.reply.status, live.error?.code, store.calls.claim]).toEqual([
      403,
      'ERR_MODE_MISMATCH',
      claims,
    ]);
  });
});

describe('mode options, checked at construction', () => {
  const problem = (build: () => unknown): string => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ProviderConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ProviderConfigError');
  };

  it('a sandbox key on a live mount without allowTestMode', () => {
    expect(
      problem(() => createTestProvider({ secret: [TEST_SECRET, { key: SANDBOX, mode: 'test' }] })),
    ).toMatch(/secret\[1\].*test key on a live mount/);
  });

  it('a live key on a test mount, allowTestMode on a test mount, bad values', () => {
    expect(
      problem(() =>
        createTestProvider({ mode: 'test', secret: [{ key: TEST_SECRET, mode: 'live' }] }),
      ),
    ).toMatch(/secret\[0\].*live key on a test mount/);
    expect(problem(() => createTestProvider({ mode: 'test', allowTestMode: true }))).toMatch(
      /allowTestMode/,
    );
    expect(problem(() => createTestProvider({ mode: 'staging' as PaymentMode }))).toMatch(/"mode"/);
    expect(problem(() => createTestProvider({ allowTestMode: 'yes' as never }))).toMatch(
      /allowTestMode/,
    );
    expect(
      problem(() =>
        createTestProvider({ secret: [{ key: SANDBOX, mode: 'sandbox' as PaymentMode }] }),
      ),
    ).toMatch(/secret\[0\]\.mode/);
  });

  it('splitKeyModes: bare keys take the mount mode, tagged keys their own, in order', () => {
    expect(
      splitKeyModes(['a', { key: 'b', mode: 'test' }, 'c'], { allowTestMode: true }, 'keys'),
    ).toEqual({
      keys: ['a', 'b', 'c'],
      modes: ['live', 'test', 'live'],
    });
    expect(splitKeyModes(['a'], { mode: 'test' }, 'keys').modes).toEqual(['test']);
  });

  it('a mode verify says that is neither live nor test fails closed: 401', async () => {
    const { hub, rec } = setup();
    const r = await hub.receive(
      selfDeclaring({}),
      delivery({ txn: 'T-7', mode: 'prod' } as never, TEST_SECRET),
    );
    expect([r.reply.status, r.error?.code, rec.events.length]).toEqual([
      401,
      'ERR_SIGNATURE_INVALID',
      0,
    ]);
  });
});
