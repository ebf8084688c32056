import { SignatureError } from '../src';
import { defineProvider, parseJson } from '../src/plugin';
import { runProviderConformance, type DeliveryFixture } from '../src/testing';
import { createTestProvider, sign, signedDelivery, TEST_SECRET } from '../src/testing';

const SANDBOX_KEY = { key: 'sandbox-secret', mode: 'test' } as const;

const valid = signedDelivery();
runProviderConformance({
  name: 'core test gateway (HMAC)',
  provider: () => createTestProvider(),
  valid,
  expected: [
    {
      type: 'payment.completed',
      id: 'test-gateway:T1:paid',
      amount: '500.10',
      orderId: 'O1',
      transactionId: 'T1',
      currency: 'LAK',
    },
  ],
  wrongKey: signedDelivery({}, 'another-secret'),
  malformed: (() => {
    const body = '{"event":"payment","txn":';
    return { body, headers: { 'x-test-signature': sign(body) } };
  })(),
  notPaymentEvent: signedDelivery({ event: 'payout' }),
  testMode: {
    provider: () => createTestProvider({ secret: [TEST_SECRET, SANDBOX_KEY], allowTestMode: true }),
    valid: signedDelivery({}, 'sandbox-secret'),
  },
});

/**
 * The sandbox rule catches a plugin that reads tagged keys but forgets to pass `keyModes` to
 * defineProvider: its sandbox deliveries verify and come out as live money.
 */
describe('the test-mode rule of the conformance suite', () => {
  const run = (provider: () => ReturnType<typeof createTestProvider>) => {
    const tests = new Map<string, () => Promise<void>>();
    runProviderConformance(
      {
        provider: () => createTestProvider(),
        valid,
        expected: [{ type: 'payment.completed' }],
        wrongKey: signedDelivery({}, 'another-secret'),
        malformed: valid,
        testMode: { provider, valid: signedDelivery({}, 'sandbox-secret') },
      },
      { describe: (_name, fn) => fn(), it: (name, fn) => void tests.set(name, fn) },
    );
    return tests.get(
      'a delivery signed with a sandbox key is a test-mode event with an id of its own',
    )!;
  };

  it("passes a plugin that passes its keys' modes through", async () => {
    await run(() =>
      createTestProvider({ secret: [TEST_SECRET, SANDBOX_KEY], allowTestMode: true }),
    )();
  });

  it('fails one that forgets keyModes: the sandbox delivery came out live', async () => {
    const forgetful = () => {
      const p = createTestProvider({ secret: [TEST_SECRET, SANDBOX_KEY], allowTestMode: true });
      return defineProvider({
        ...p,
        keyModes: undefined,
        confirm: undefined,
        ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
      });
    };
    await expect(run(forgetful)()).rejects.toThrow(/a sandbox key's event must be test mode/);
  });
});

/**
 * A gateway that signs part of the body (like Midtrans): `x-sig` is HMAC-SHA256 of `txn|amount`;
 * `at`, the last field, is unsigned. The default tamper changes its last digit, which this genuine
 * provider rightly accepts: the suite must say why, and accept a `tamper` that edits a signed field.
 */
describe('the tampered-delivery test of a partly signed gateway', () => {
  type Notice = { txn: string; amount: string; at: string };
  const partlySigned = () =>
    defineProvider<Notice>({
      id: 'partly-signed',
      schema: { type: 'object', required: ['txn', 'amount', 'at'] },
      verify(delivery) {
        const notice = parseJson(delivery.body) as Notice;
        const signature = delivery.headers['x-sig'];
        if (typeof signature !== 'string' || signature !== sign(`${notice.txn}|${notice.amount}`))
          throw new SignatureError('x-sig does not match');
        return notice;
      },
      normalize: (notice) => [
        {
          id: `${notice.txn}:paid`,
          type: 'payment.completed',
          orderId: null,
          transactionId: notice.txn,
          amount: notice.amount,
          currency: 'IDR',
          occurredAt: '2025-01-02T03:04:05+07:00',
        },
      ],
      ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
    });
  const notice = (over: Partial<Notice> = {}, key?: string) => {
    const n = { txn: 'T1', amount: '150000.00', at: '2025-01-02 03:04:05', ...over };
    return { body: JSON.stringify(n), headers: { 'x-sig': sign(`${n.txn}|${n.amount}`, key) } };
  };
  /** The suite's tests, registered with a harness that collects them instead of running them. */
  const collect = (tamper?: (valid: DeliveryFixture) => DeliveryFixture) => {
    const tests = new Map<string, () => Promise<void>>();
    runProviderConformance(
      {
        provider: partlySigned,
        valid: notice(),
        expected: [{ type: 'payment.completed', transactionId: 'T1' }],
        wrongKey: notice({}, 'another-secret'),
        malformed: notice({ txn: 42 as unknown as string }),
        ...(tamper ? { tamper } : {}),
      },
      { describe: (_name, fn) => fn(), it: (name, fn) => void tests.set(name, fn) },
    );
    return tests.get('a tampered delivery is refused with 401 and changes nothing')!;
  };

  it('fails with the default tamper, saying the gateway may sign part of the body', async () => {
    const run = collect();
    await expect(run()).rejects.toThrow(/expected 401, got 200/);
    await expect(run()).rejects.toThrow(/signs only part of the body.*`tamper`/s);
  });

  it('passes with a tamper that changes a signed field', async () => {
    const run = collect((valid) => {
      const n = JSON.parse(String(valid.body)) as Notice;
      return { ...valid, body: JSON.stringify({ ...n, amount: '1.00' }) };
    });
    await expect(run()).resolves.toBeUndefined();
  });

  it('keeps the plain refusal message when the default tamper is refused', async () => {
    // The core test gateway signs the whole body: no hint, and the test passes.
    const tests = new Map<string, () => Promise<void>>();
    runProviderConformance(
      {
        provider: () => createTestProvider(),
        valid,
        expected: [{ type: 'payment.completed' }],
        wrongKey: signedDelivery({}, 'another-secret'),
        malformed: { body: '{', headers: { 'x-test-signature': sign('{') } },
      },
      { describe: (_name, fn) => fn(), it: (name, fn) => void tests.set(name, fn) },
    );
    await expect(
      tests.get('a tampered delivery is refused with 401 and changes nothing')!(),
    ).resolves.toBeUndefined();
  });
});
