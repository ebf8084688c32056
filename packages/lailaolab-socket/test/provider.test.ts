import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createPaymentHub,
  GatewayApiError,
  ProviderConfigError,
  type Delivery,
} from '@payhook/core';
import {
  backoffDelay,
  createLailaolabMiddleware,
  createLailaolabProvider,
  createLailaolabSource,
  createLailaolabStatusClient,
  lailaolabSocketUrl,
} from '../src';
// The gateway side lives in @payhook/testing: this package ships no Socket.IO server.
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { resolveReconnect } from '../src/backoff';
import { record, SECRET } from './helpers';

const socketDelivery = (
  message: unknown,
  receivedAt = new Date('2025-01-01T00:00:00Z'),
): Delivery => ({
  body: Buffer.alloc(0),
  headers: {},
  message,
  transport: 'socket',
  receivedAt,
});

const message = (overrides: Record<string, unknown> = {}) => ({
  message: 'SUCCESS',
  status: 'PAYMENT_COMPLETED',
  transactionId: 'N-1',
  txnAmount: 100000,
  txnDateTime: '2024-03-28 22:30:50',
  ...overrides,
});

function configError(fn: () => unknown): ProviderConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
}

describe('options are checked at construction', () => {
  const hub = createPaymentHub();
  it.each([
    ['secretKey', {}],
    ['secretKey', { secretKey: '  ' }],
    ['apiKey', { secretKey: 'k', apiKey: '' }],
    ['timeZone', { secretKey: 'k', timeZone: 'Mars/Olympus' }],
    ['statusQuery.baseUrl', { secretKey: 'k', statusQuery: { baseUrl: 'ftp://example.com' } }],
    ['apiBase', { secretKey: 'k', apiBase: 'ftp://example.com' }],
    ['confirmByStatusQuery', { secretKey: 'k', confirmByStatusQuery: 'yes' }],
    ['statusQuery.timeoutMs', { secretKey: 'k', statusQuery: { timeoutMs: -1 } }],
    ['statusTimeoutMs', { secretKey: 'k', statusTimeoutMs: -1 }],
    ['currency', { secretKey: 'k', currency: 'kip' }],
    ['maxAgeMs', { secretKey: 'k', maxAgeMs: 0 }],
    ['clockSkewMs', { secretKey: 'k', clockSkewMs: 1.5 }],
    ['statusCacheMs', { secretKey: 'k', statusCacheMs: -1 }],
    ['statusCacheSize', { secretKey: 'k', statusCacheSize: 0 }],
    ['maxStatusQueries', { secretKey: 'k', maxStatusQueries: 0 }],
  ])('provider: a bad %s is named', (option, options) => {
    const error = configError(() => createLailaolabProvider(options as never));
    expect(error.option).toBe(option);
    expect(error.message.startsWith('@payhook/lailaolab-socket: ')).toBe(true);
  });

  it.each([
    ['reconnect.jitter', { reconnect: { jitter: 2 } }],
    ['reconnect.maxDelayMs', { reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }],
    ['url', { url: 'not a url' }],
    ['sweepIntervalMs', { sweepIntervalMs: -5 }],
    ['watchTtlMs', { watchTtlMs: 0 }],
  ])('source: a bad %s is named before any socket opens', (option, options) => {
    const error = configError(() =>
      createLailaolabSource(hub, { secretKey: 'k', ...(options as object) }),
    );
    expect(error.option).toBe(option);
  });

  it('middleware: without a source, the key for the status query is required', () => {
    expect(configError(() => createLailaolabMiddleware(hub, {})).option).toBe('secretKey');
  });

  it('puts the key on the documented URL, URL-encoded', () => {
    expect(lailaolabSocketUrl('https://payment-Support.lailaolab.com/', 'a$b/c.d+e')).toBe(
      'https://payment-support.lailaolab.com/?key=a%24b%2Fc.d%2Be',
    );
    expect(lailaolabSocketUrl('https://payment-gateway.phajay.co/', 'k', false)).toBe(
      'https://payment-gateway.phajay.co/',
    );
  });
});

// Messages of the secret channel trusted as they are (confirmByStatusQuery: false): the mapping of
// the message itself. Confirmed messages take every field from the status record (security.test.ts).
describe('normalization through hub.receive', () => {
  const receive = async (provider: ReturnType<typeof createLailaolabProvider>, m: unknown) => {
    const hub = createPaymentHub();
    const rec = record(hub);
    const result = await hub.receive(provider, socketDelivery(m));
    return { result, rec };
  };

  it('uses the configured time zone for txnDateTime', async () => {
    const provider = createLailaolabProvider({
      secretKey: 'k',
      timeZone: 'UTC',
      confirmByStatusQuery: false,
    });
    const { rec } = await receive(provider, message());
    expect(rec.events[0]!.occurredAt).toBe('2024-03-28T22:30:50+00:00');
  });

  it('missing optional fields are fine: no date falls back to the receive time, and says so', async () => {
    const provider = createLailaolabProvider({ secretKey: 'k', confirmByStatusQuery: false });
    const { rec, result } = await receive(provider, {
      message: 'SUCCESS',
      status: 'PAYMENT_COMPLETED',
      transactionId: 'N-2',
      txnAmount: '2500',
      orderNo: 'ORD-9',
      tag1: 'shop-3',
      tag2: '',
    });
    expect(result.outcome).toBe('processed');
    expect(rec.events[0]).toMatchObject({
      amount: '2500',
      currency: 'LAK',
      orderId: 'ORD-9',
      occurredAt: '2025-01-01T07:00:00+07:00',
      details: { occurredAtFrom: 'receivedAt', tags: { tag1: 'shop-3' } },
    });
  });

  it('a JSON text message is parsed without a float step', async () => {
    const provider = createLailaolabProvider({ secretKey: 'k', confirmByStatusQuery: false });
    const { rec } = await receive(
      provider,
      '{"message":"SUCCESS","status":"PAYMENT_COMPLETED","transactionId":"N-3","txnAmount":100000,"refNo":98765432109876543210}',
    );
    expect(rec.events[0]!.details).toMatchObject({ refNo: '98765432109876543210' });
    expect(rec.events[0]!.details).not.toHaveProperty('refNoExact');
  });

  it.each([
    ['WAITING', { status: 'WAITING', message: 'PENDING' }, 'pending'],
    [
      'a subscription notice',
      { status: 'SUBSCRIPTION_CONNECTED', message: 'SUBSCRIPTION_CONNECTED_SUCCESSFULLY' },
      'unhandled',
    ],
  ])('%s emits no payment event', async (_name, m, outcome) => {
    const provider = createLailaolabProvider({ secretKey: 'k', confirmByStatusQuery: false });
    const { rec, result } = await receive(provider, m);
    expect(result.outcome).toBe(outcome);
    expect(rec.events).toHaveLength(0);
  });

  it.each([
    [
      'a prototype key',
      JSON.parse('{"__proto__":{"x":1},"status":"PAYMENT_COMPLETED"}'),
      'ERR_PAYLOAD_MALFORMED',
    ],
    ['an array', [1, 2], 'ERR_PAYLOAD_MALFORMED'],
    ['a fractional-looking amount text', message({ txnAmount: '1e5' }), 'ERR_PAYLOAD_INVALID'],
    ['an impossible date', message({ txnDateTime: '2024-02-30 10:00:00' }), 'ERR_PAYLOAD_INVALID'],
  ])('%s is refused on the error channel', async (_name, m, code) => {
    const provider = createLailaolabProvider({ secretKey: 'k', confirmByStatusQuery: false });
    const { rec, result } = await receive(provider, m);
    expect(result.outcome).toBe('rejected');
    expect(rec.errors[0]!.code).toBe(code);
    expect(rec.events).toHaveLength(0);
  });
});

describe('status API client and fetchStatus', () => {
  let sim: LailaolabSimulator;
  beforeAll(async () => {
    sim = await startLailaolabSimulator({ secretKey: SECRET });
  });
  afterAll(() => sim.close());

  it('sends Basic base64(<raw key>) and keeps amounts as exact text', async () => {
    sim.createTransaction({ transactionId: 'S-1', amount: '90071992547409930', orderNo: 'O-1' });
    const client = createLailaolabStatusClient({ apiKey: SECRET, apiBase: sim.apiBase });
    const result = await client.check('S-1');
    expect(result.found).toBe(true);
    expect(result.found && result.data).toMatchObject({
      status: 'WAITING',
      amount: '90071992547409930',
    });
    expect(sim.statusRequests.at(-1)).toEqual({ transactionId: 'S-1', authorized: true });
  });

  it('PAYMENT_NOT_FOUND is "not found", not an error', async () => {
    const client = createLailaolabStatusClient({ apiKey: SECRET, apiBase: sim.apiBase });
    await expect(client.check('S-NONE')).resolves.toMatchObject({ found: false });
  });

  it('a refused key is a GatewayApiError that retrying will not fix, and names no key', async () => {
    const client = createLailaolabStatusClient({ apiKey: 'wrong-key', apiBase: sim.apiBase });
    const error = await client.check('S-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error).toMatchObject({ retryable: false, httpStatus: 401 });
    expect((error as Error).message).not.toContain('wrong-key');
  });

  it('an unreachable API is a retryable GatewayApiError', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const client = createLailaolabStatusClient({
      apiKey: 'k',
      apiBase: `http://127.0.0.1:${port}`,
    });
    await expect(client.check('S-1')).rejects.toMatchObject({
      code: 'ERR_GATEWAY_API',
      retryable: true,
    });
  });

  it('fetchStatus maps PAYMENT_COMPLETED, EXPIRED and REFUNDED, and null for an unknown transaction', async () => {
    const provider = createLailaolabProvider({
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
    });
    sim.createTransaction({ transactionId: 'S-PAID', amount: 500 });
    sim.pay('S-PAID', { at: new Date('2025-01-02T03:04:05Z'), emit: false });
    sim.createTransaction({ transactionId: 'S-EXP', amount: 600 });
    sim.setTransaction('S-EXP', { status: 'EXPIRED' });
    sim.createTransaction({ transactionId: 'S-REF', amount: 700 });
    sim.pay('S-REF', { emit: false });
    sim.setTransaction('S-REF', { status: 'REFUNDED' });
    expect(await provider.fetchStatus!('S-PAID')).toMatchObject([
      {
        id: 'S-PAID:completed',
        type: 'payment.completed',
        amount: '500',
        occurredAt: '2025-01-02T10:04:05+07:00',
        verification: 'status-query',
      },
    ]);
    expect(await provider.fetchStatus!('S-EXP')).toMatchObject([
      { id: 'S-EXP:failed', type: 'payment.failed', failure: { code: 'EXPIRED' } },
    ]);
    expect(await provider.fetchStatus!('S-REF')).toMatchObject([
      { id: 'S-REF:completed', type: 'payment.completed' },
      {
        id: 'S-REF:refunded',
        type: 'payment.refunded',
        refund: { refundId: 'S-REF', amount: '700' },
      },
    ]);
    expect(await provider.fetchStatus!('S-NOBODY')).toBeNull();
    sim.createTransaction({ transactionId: 'S-FAILED', amount: 800, orderNo: 'O-8' });
    sim.fail('S-FAILED', { emit: false, recordStatus: 'FAILED' });
    expect(await provider.fetchStatus!('S-FAILED')).toMatchObject([
      { id: 'S-FAILED:failed', orderId: 'O-8', amount: '800', failure: { code: 'FAILED' } },
    ]);
    // A record without a currency is in the configured one.
    sim.createTransaction({ transactionId: 'S-NOCUR', amount: 900, currency: null });
    sim.pay('S-NOCUR', { emit: false });
    const thb = createLailaolabProvider({
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
      currency: 'THB',
    });
    expect(await thb.fetchStatus!('S-NOCUR')).toMatchObject([{ currency: 'THB' }]);
    // An id that is not a transaction id is refused before any request.
    const before = sim.apiRequests.length;
    await expect(provider.fetchStatus!('../x')).rejects.toMatchObject({
      code: 'ERR_PAYLOAD_INVALID',
    });
    expect(sim.apiRequests.length).toBe(before);
  });

  it('looks up by transactionId only: a lookup by order number is a TypeError, with no request', async () => {
    const provider = createLailaolabProvider({
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
    });
    sim.createTransaction({ transactionId: 'S-ORDER', amount: 100, orderNo: 'O-42' });
    sim.pay('S-ORDER', { emit: false });
    const before = sim.apiRequests.length;
    const error = await provider.fetchStatus!('O-42', { by: 'orderId' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/transactionId only/);
    expect(sim.apiRequests.length).toBe(before);
    // By reference, named or not, it asks as before.
    expect(await provider.fetchStatus!('S-ORDER', { by: 'reference' })).toMatchObject([
      { id: 'S-ORDER:completed', orderId: 'O-42' },
    ]);
  });

  it('declares the reference lookup only, and a sweep schedule for a socket without replay', () => {
    const provider = createLailaolabProvider({
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
    });
    expect(provider.statusLookups).toEqual(['reference']);
    expect(provider.sweep).toEqual({
      firstCheckMs: 30_000,
      maxIntervalMs: 300_000,
      queriesPerMinute: 60,
    });
  });
});

describe('backoff', () => {
  const options = resolveReconnect({
    initialDelayMs: 100,
    maxDelayMs: 1000,
    factor: 2,
    jitter: 0.5,
  });
  it('grows exponentially, is capped, and the jitter spreads it by ±50%', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 0.5))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(2, options, () => 0)).toBe(200);
    expect(backoffDelay(2, options, () => 0.999999)).toBe(600);
    expect(backoffDelay(10, options, () => 0)).toBe(500);
  });
  it('retries forever by default', () => {
    expect(resolveReconnect().maxAttempts).toBe(Infinity);
  });
});
