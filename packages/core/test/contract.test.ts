/**
 * The provider contract's newer steps: confirm (the gateway's own record, between validate and
 * normalize), verified() key indexes for key rotation, hub.reconcile through the same claim path,
 * the signed-time check, and the retention-versus-max-age check made when a provider is mounted.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  ConfigError,
  GatewayApiError,
  StaleDeliveryError,
  StatusMismatchError,
  createPaymentHub,
  createWebhookMiddleware,
  type Delivery,
  type PaymentEvent,
} from '../src';
import {
  checkSignedTime,
  defineProvider,
  notAPaymentEvent,
  loadPublicKeys,
  parseJson,
  resolveMaxAge,
  signRsaSha256,
  verified,
  verifyRsaSha256WithAny,
  type PaymentEventDraft,
} from '../src/plugin';

interface Note {
  txn: string;
  order: string;
}
interface StatusRecord {
  status: 'PAID' | 'WAITING';
  order: string;
  amount: string;
}

const delivery = (note: Note): Delivery => ({
  body: Buffer.from(JSON.stringify(note)),
  headers: {},
  transport: 'http',
  receivedAt: new Date(),
});

/** An unsigned gateway whose every event field comes from its status API (the ledger). */
function confirmingProvider(ledger: Map<string, StatusRecord | Error>) {
  const draftOf = (txn: string, record: StatusRecord): PaymentEventDraft<Note>[] => [
    {
      id: `${txn}:paid`,
      type: 'payment.completed',
      orderId: record.order,
      transactionId: txn,
      amount: record.amount,
      currency: 'LAK',
      occurredAt: '2026-12-01T10:00:00+07:00',
      verification: 'status-query',
    },
  ];
  return defineProvider<Note, StatusRecord>({
    id: 'confirming',
    schema: { type: 'object', required: ['txn', 'order'] },
    verification: 'status-query',
    verify: (d) => parseJson(d.body) as Note,
    async confirm(raw) {
      const found = ledger.get(raw.txn);
      if (found instanceof Error) throw found;
      if (!found) throw new StatusMismatchError('no such transaction');
      if (found.order !== raw.order) throw new StatusMismatchError('order contradicted');
      return found;
    },
    normalize(raw, { confirmation }) {
      if (!confirmation || confirmation.status !== 'PAID') return [];
      return draftOf(raw.txn, confirmation);
    },
    async fetchStatus(txn) {
      const found = ledger.get(txn);
      if (found instanceof Error) throw found;
      return found && found.status === 'PAID' ? draftOf(txn, found) : null;
    },
    ack: { ok: { body: 'OK' }, retry: { status: 503, body: 'RETRY' } },
  });
}

function record(hub: ReturnType<typeof createPaymentHub>) {
  const events: PaymentEvent[] = [];
  hub.on('payment.completed', async (event) => void events.push(event));
  return events;
}

describe('confirm step', () => {
  it('normalize sees the confirmation; the event carries what the record says', async () => {
    const ledger = new Map([['T1', { status: 'PAID', order: 'A-1', amount: '500' } as const]]);
    const hub = createPaymentHub();
    const events = record(hub);
    const result = await hub.receive(
      confirmingProvider(ledger),
      delivery({ txn: 'T1', order: 'A-1' }),
    );
    expect(result.outcome).toBe('processed');
    expect(events.map((e) => [e.orderId, e.amount, e.verification])).toEqual([
      ['A-1', '500', 'status-query'],
    ]);
  });

  it('a contradicted delivery is refused (4xx), emits nothing and stores nothing', async () => {
    const ledger = new Map([['T1', { status: 'PAID', order: 'A-1', amount: '500' } as const]]);
    const hub = createPaymentHub();
    const events = record(hub);
    const result = await hub.receive(
      confirmingProvider(ledger),
      delivery({ txn: 'T1', order: 'B-2' }),
    );
    expect(result.outcome).toBe('rejected');
    expect(result.reply.status).toBe(409);
    expect(events).toHaveLength(0);
    expect((await hub.store.claim('confirming:T1:paid', 1000)).state).toBe('claimed');
  });

  it('a status API that is down gets the gateway retry body, and nothing is stored', async () => {
    const ledger = new Map<string, StatusRecord | Error>([
      ['T1', new GatewayApiError('status API answered 503', { httpStatus: 503, retryable: true })],
    ]);
    const hub = createPaymentHub();
    const events = record(hub);
    const result = await hub.receive(
      confirmingProvider(ledger),
      delivery({ txn: 'T1', order: 'A-1' }),
    );
    expect(result.outcome).toBe('failed');
    expect(result.reply.body).toBe('RETRY');
    expect(events).toHaveLength(0);
  });
});

describe('hub.reconcile', () => {
  it('a payment seen by notification and by status query is processed once', async () => {
    const ledger = new Map([['T1', { status: 'PAID', order: 'A-1', amount: '500' } as const]]);
    const provider = confirmingProvider(ledger);
    const hub = createPaymentHub();
    const events = record(hub);
    expect((await hub.reconcile(provider, 'T1')).outcome).toBe('processed');
    expect((await hub.receive(provider, delivery({ txn: 'T1', order: 'A-1' }))).outcome).toBe(
      'duplicate',
    );
    expect((await hub.reconcile(provider, 'T1')).outcome).toBe('duplicate');
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe('confirming:T1:paid');
  });

  it('an unknown payment is unhandled; a provider without a status query is a ConfigError', async () => {
    const hub = createPaymentHub();
    const unhandled: string[] = [];
    hub.on('unhandled', (u) => void unhandled.push(u.reason));
    expect((await hub.reconcile(confirmingProvider(new Map()), 'T9')).outcome).toBe('unhandled');
    expect(unhandled).toEqual(['the gateway knows no payment T9']);
    const plain = defineProvider({
      id: 'plain',
      schema: {},
      verify: () => ({}),
      normalize: () => [],
      ack: { ok: { body: 'OK' }, retry: { body: 'NO' } },
    });
    await expect(hub.reconcile(plain, 'x')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('key rotation', () => {
  const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const oldKey = pair();
  const newKey = pair();
  const stranger = pair();

  it('verifyRsaSha256WithAny returns the index of the key that matched, or -1', () => {
    const keys: KeyObject[] = loadPublicKeys([oldKey.publicKey, newKey.publicKey], 'keys');
    expect(verifyRsaSha256WithAny('data', signRsaSha256('data', oldKey.privateKey), keys)).toBe(0);
    expect(verifyRsaSha256WithAny('data', signRsaSha256('data', newKey.privateKey), keys)).toBe(1);
    expect(verifyRsaSha256WithAny('data', signRsaSha256('data', stranger.privateKey), keys)).toBe(
      -1,
    );
    expect(() => loadPublicKeys([], 'keys')).toThrow(/at least one/);
    expect(() => loadPublicKeys([newKey.publicKey, 'junk'], 'keys')).toThrow(/keys\[1\]/);
  });

  it('the event says which key matched (keyIndex)', async () => {
    const provider = defineProvider<{ txn: string }>({
      id: 'rotating',
      schema: {},
      verify: (d) => verified(parseJson(d.body) as { txn: string }, { keyIndex: 1 }),
      normalize: (raw) => [
        {
          id: raw.txn,
          type: 'payment.completed',
          orderId: null,
          transactionId: raw.txn,
          amount: '1',
          currency: null,
          occurredAt: '2026-12-01T00:00:00Z',
        },
      ],
      ack: { ok: { body: 'OK' }, retry: { body: 'NO', status: 500 } },
    });
    const hub = createPaymentHub();
    const events = record(hub);
    await hub.receive(provider, delivery({ txn: 'K1', order: '' }));
    expect(events[0]!.keyIndex).toBe(1);
    expect(events[0]!.raw).toEqual({ txn: 'K1', order: '' });
  });
});

describe('signed times', () => {
  const limits = resolveMaxAge({ maxAgeMs: 60_000, clockSkewMs: 1_000 });
  const now = Date.parse('2026-12-01T00:00:00Z');

  it('accepts a time inside the window, refuses a stale or future one with ERR_DELIVERY_STALE', () => {
    expect(() => checkSignedTime(now - 59_000, limits, { now })).not.toThrow();
    expect(() => checkSignedTime('2026-12-01T07:00:00.500+07:00', limits, { now })).not.toThrow();
    expect(() => checkSignedTime(now - 61_000, limits, { now })).toThrow(StaleDeliveryError);
    expect(() => checkSignedTime(now + 2_000, limits, { now })).toThrow(/ahead/);
    expect(() => checkSignedTime('not a time', limits, { now })).toThrow(StaleDeliveryError);
    try {
      checkSignedTime(now - 61_000, limits, { now });
    } catch (error) {
      expect((error as StaleDeliveryError).statusCode).toBe(401);
      expect((error as StaleDeliveryError).code).toBe('ERR_DELIVERY_STALE');
    }
  });

  it('checks the options at boot', () => {
    expect(resolveMaxAge(undefined)).toEqual({ maxAgeMs: 86_400_000, clockSkewMs: 300_000 });
    expect(() => resolveMaxAge({ maxAgeMs: -1 })).toThrow(/maxAgeMs/);
    expect(() => resolveMaxAge({ clockSkewMs: 1.5 })).toThrow(/clockSkewMs/);
  });

  it('a provider cannot be mounted on a hub that forgets sooner than maxAgeMs + clockSkewMs', () => {
    const provider = (maxAgeMs: number, clockSkewMs?: number) =>
      defineProvider({
        id: 'aged',
        schema: {},
        maxAgeMs,
        clockSkewMs,
        verify: () => ({}),
        normalize: () => [],
        ack: { ok: { body: 'OK' }, retry: { body: 'NO' } },
      });
    const hub = createPaymentHub({ retentionMs: 3_600_000 });
    // A time signed clockSkewMs ahead stays acceptable for maxAgeMs after it: both count.
    expect(provider(60_000).clockSkewMs).toBe(300_000);
    expect(() => createWebhookMiddleware(hub, provider(3_300_000))).toThrow(/retentionMs/);
    expect(() => createWebhookMiddleware(hub, provider(3_299_999))).not.toThrow();
    expect(() => createWebhookMiddleware(hub, provider(3_599_999, 0))).not.toThrow();
    expect(() => createWebhookMiddleware(hub, provider(3_590_000, 10_000))).toThrow(/retentionMs/);
  });
});

describe('unhandled notices say whether they were verified', () => {
  it.each([
    [{}, true],
    [{ verified: false }, false],
  ])('notAPaymentEvent(reason, %j) reaches unhandled with verified %s', async (options, flag) => {
    const provider = defineProvider({
      id: 'notices',
      schema: {},
      verify: () => ({}),
      normalize: () => notAPaymentEvent('a notice', options),
      ack: { ok: { body: 'OK' }, retry: { body: 'NO' } },
    });
    const hub = createPaymentHub();
    const seen: Array<{ reason: string; verified: boolean }> = [];
    hub.on('unhandled', (u) => void seen.push({ reason: u.reason, verified: u.verified }));
    const result = await hub.receive(provider, delivery({ txn: 'x', order: 'y' }));
    expect(result.outcome).toBe('unhandled');
    expect(seen).toEqual([{ reason: 'a notice', verified: flag }]);
  });
});
