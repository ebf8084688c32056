import { request as httpRequest } from 'node:http';
import {
  createMemoryStore,
  createPaymentHub,
  ConfigError,
  SignatureError,
  type Delivery,
  type PaymentEvent,
  type Logger,
} from '../src';
import { notifyHub, rejectDelivery } from '../src/plugin';
import { startTestServer } from '../src/testing';
import { createTestProvider, signedDelivery, TEST_SECRET } from '../src/testing';

const delivery = (d = signedDelivery()): Delivery => ({
  body: Buffer.from(d.body),
  headers: d.headers,
  transport: 'replay',
  receivedAt: new Date('2025-01-02T00:00:00Z'),
});

describe('hub', () => {
  it('keeps the adapter-only calls off the public object: rejectDelivery and notifyHub reach them', () => {
    const hub = createPaymentHub();
    const provider = createTestProvider();
    expect(Object.keys(hub)).not.toEqual(expect.arrayContaining(['reject']));
    expect(['reject' in hub, 'notify' in hub]).toEqual([false, false]);
    const seen: string[] = [];
    hub.on('error', (error) => void seen.push(error.code));
    hub.on('source.down', (status) => void seen.push(`down:${status.detail}`));
    const reply = rejectDelivery(
      hub,
      provider,
      new SignatureError('bad signature', { source: 'test' }),
    );
    notifyHub(hub, 'source.down', { provider: 'test', detail: 'closed' });
    expect(reply.status).toBe(401);
    expect(seen).toEqual(['ERR_SIGNATURE_INVALID', 'down:closed']);
  });

  it('routes each type to its own listeners and every type to onAny; once and off work', async () => {
    const hub = createPaymentHub();
    const provider = createTestProvider();
    const seen: string[] = [];
    const completed = (e: PaymentEvent) => void seen.push(`completed:${e.transactionId}`);
    hub.on('payment.completed', completed);
    hub.once('payment.failed', (e) => void seen.push(`failed-once:${e.transactionId}`));
    hub.on('payment.refunded', (e) => void seen.push(`refunded:${e.refund?.refundId}`));
    hub.onAny((e) => void seen.push(`any:${e.type}`));
    await hub.receive(provider, delivery(signedDelivery({ txn: 'A' })));
    await hub.receive(provider, delivery(signedDelivery({ txn: 'B', status: 'FAILED' })));
    await hub.receive(provider, delivery(signedDelivery({ txn: 'C', status: 'FAILED' })));
    hub.off('payment.completed', completed);
    await hub.receive(provider, delivery(signedDelivery({ txn: 'D' })));
    await hub.receive(
      provider,
      delivery(signedDelivery({ txn: 'E', status: 'REFUNDED', refundId: 'R9' })),
    );
    expect(seen).toEqual([
      'completed:A',
      'any:payment.completed',
      'failed-once:B',
      'any:payment.failed',
      'any:payment.failed',
      'any:payment.completed',
      'refunded:R9',
      'any:payment.refunded',
    ]);
  });

  it('awaits listeners concurrently and gathers every failure in one AggregateError carrying the event', async () => {
    const hub = createPaymentHub();
    const started: number[] = [];
    hub.on('payment.completed', async () => {
      started.push(Date.now());
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('first');
    });
    hub.on('payment.completed', async () => {
      started.push(Date.now());
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('second');
    });
    hub.onAny(() => undefined);
    const result = await hub.receive(createTestProvider(), delivery());
    expect(result.outcome).toBe('failed');
    expect(result.reply.status).toBe(503);
    const error = result.error as unknown as AggregateError & { event: PaymentEvent };
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.errors.map((e: Error) => e.message)).toEqual(['first', 'second']);
    expect(error.event.id).toBe('test-gateway:T1:paid');
    expect(Math.abs(started[0]! - started[1]!)).toBeLessThan(50);
  });

  it('a synchronous throw is a failure too', async () => {
    const hub = createPaymentHub();
    hub.on('payment.completed', () => {
      throw new TypeError('bug');
    });
    const result = await hub.receive(createTestProvider(), delivery());
    expect(result.outcome).toBe('failed');
  });

  it('a throwing notice listener does not change the acknowledgement', async () => {
    const hub = createPaymentHub();
    hub.on('unhandled', async () => {
      throw new Error('metrics down');
    });
    const result = await hub.receive(
      createTestProvider(),
      delivery(signedDelivery({ event: 'payout' })),
    );
    expect(result.outcome).toBe('unhandled');
    expect(result.reply.status).toBe(200);
  });

  it.each([
    [{ handlerTimeoutMs: 0 }, 'handlerTimeoutMs'],
    [{ handlerTimeoutMs: 10_000, leaseMs: 5_000 }, 'leaseMs'],
    [{ leaseMs: 60_000, retentionMs: 1_000 }, 'retentionMs'],
    [{ logger: { info() {} } as unknown as Logger }, 'logger'],
    [{ store: {} as never }, 'store'],
    [{ hardTimeoutMs: 0 }, 'hardTimeoutMs'],
    [
      { store: { ...createMemoryStore(), deadlineMs: 8_000 }, handlerTimeoutMs: 8_000 },
      'handlerTimeoutMs',
    ],
  ])('refuses bad options at construction: %p', (options, option) => {
    expect(() => createPaymentHub(options)).toThrow(ConfigError);
    expect(() => createPaymentHub(options)).toThrow(new RegExp(`option "${option}"`));
  });

  it('an unexpected throw inside verify fails closed with 401', async () => {
    const provider = createTestProvider();
    const broken = { ...provider, verify: () => JSON.parse('{') };
    const hub = createPaymentHub();
    const events: unknown[] = [];
    hub.onAny((e) => void events.push(e));
    const result = await hub.receive(broken, delivery());
    expect(result.reply.status).toBe(401);
    expect(events).toHaveLength(0);
  });

  it('logs at debug level without the secret, the signature or the body', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (obj: unknown, msg?: string) =>
      void lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const hub = createPaymentHub({ logger });
    const provider = createTestProvider();
    const d = signedDelivery();
    hub.on('payment.completed', () => undefined);
    await hub.receive(provider, delivery(d));
    await hub.receive(provider, delivery(d));
    await hub.receive(
      provider,
      delivery({
        ...d,
        headers: { 'x-test-signature': d.headers['x-test-signature']!.replace(/^./, 'f') },
      }),
    );
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const all = lines.join('\n');
    expect(all).not.toContain(TEST_SECRET);
    expect(all).not.toContain(d.headers['x-test-signature']!.slice(1));
    expect(all).not.toContain('500.10');
  });
});

describe('raw body reading', () => {
  it('refuses a chunked body over the limit with 413 while it streams, and closes the connection', async () => {
    const server = await startTestServer(createTestProvider(), { middleware: { limit: 1024 } });
    const events: unknown[] = [];
    server.hub.onAny((e) => void events.push(e));
    try {
      const url = new URL(server.url);
      const status = await new Promise<{ status: number; connection: string | undefined }>(
        (resolve, reject) => {
          const req = httpRequest(
            {
              host: url.hostname,
              port: url.port,
              method: 'POST',
              path: '/',
              headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
            },
            (res) => {
              res.resume();
              resolve({ status: res.statusCode!, connection: res.headers.connection });
            },
          );
          req.on('error', (error) =>
            error.message.includes('EPIPE') || error.message.includes('ECONNRESET')
              ? undefined
              : reject(error),
          );
          for (let i = 0; i < 20; i++) req.write('x'.repeat(512));
          req.end();
        },
      );
      expect(status).toEqual({ status: 413, connection: 'close' });
      expect(events).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
