/**
 * The boot-time listener check (issue 26): a mounted provider whose payment types have no listener
 * and are not ignored gets one warning naming them; a gateway that disables its webhook after
 * failures makes that a ConfigError in production. Deliveries are not changed by it.
 */
import {
  ConfigError,
  ProviderConfigError,
  createPaymentHub,
  createWebhookMiddleware,
  eventTypesOf,
  PAYMENT_EVENT_TYPES,
  type Delivery,
  type Logger,
  type PaymentErrorLike,
  type PaymentEventType,
  type PaymentHubOptions,
  type PaymentProvider,
} from '../src';
import { defineProvider, mountProvider, type ProviderDefinition } from '../src/plugin';
import { createTestProvider, signedDelivery, type TestPayload } from '../src/testing';

const base = createTestProvider();

/** The test gateway under another id, with the two declarations this check reads. */
function gateway(
  extra: Partial<ProviderDefinition<TestPayload>> = {},
): PaymentProvider<TestPayload> {
  return defineProvider<TestPayload>({
    id: 'paymongo-like',
    source: '@acme/paymongo-like',
    schema: base.schema,
    verify: base.verify,
    normalize: base.normalize,
    ack: { ok: { body: { ok: true } }, retry: { status: 503, body: { ok: false } } },
    ...extra,
  });
}

interface Line {
  level: 'warn' | 'error';
  obj: unknown;
  msg: string;
}

function capture(options: PaymentHubOptions = {}) {
  const lines: Line[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg: String(msg) }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg: String(msg) }),
  };
  const hub = createPaymentHub({ ...options, logger });
  const boot = (l: Line) => /provider/.test(l.msg) && !/no listener for payment/.test(l.msg);
  return { hub, lines, bootLines: () => lines.filter(boot) };
}

/** Lets the check scheduled at mount run. */
const afterBoot = () => new Promise<void>((resolve) => setImmediate(resolve));

const delivery = (d = signedDelivery()): Delivery => ({
  body: Buffer.from(d.body),
  headers: d.headers,
  transport: 'replay',
  receivedAt: new Date('2025-01-02T00:00:00Z'),
});

async function inProduction<T>(run: () => Promise<T>): Promise<T> {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    return await run();
  } finally {
    process.env.NODE_ENV = previous;
  }
}

describe('provider declarations', () => {
  it('eventTypes defaults to the three payment types; disablesWebhookAfterFailures to false', () => {
    const provider = gateway();
    expect(provider.eventTypes).toEqual(PAYMENT_EVENT_TYPES);
    expect(eventTypesOf(provider)).toEqual(PAYMENT_EVENT_TYPES);
    expect(provider.disablesWebhookAfterFailures).toBe(false);
    // A hand-built provider that declares nothing emits all three.
    expect(eventTypesOf({})).toEqual(PAYMENT_EVENT_TYPES);
  });

  it('eventTypes is kept in PAYMENT_EVENT_TYPES order, without repeats', () => {
    const provider = gateway({
      eventTypes: ['payment.refunded', 'payment.completed', 'payment.refunded'],
    });
    expect(provider.eventTypes).toEqual(['payment.completed', 'payment.refunded']);
    expect(gateway({ disablesWebhookAfterFailures: true }).disablesWebhookAfterFailures).toBe(true);
  });

  it.each([
    ['eventTypes', { eventTypes: [] }],
    ['eventTypes', { eventTypes: ['payment.chargeback' as PaymentEventType] }],
    ['eventTypes', { eventTypes: 'payment.completed' as unknown as PaymentEventType[] }],
    ['disablesWebhookAfterFailures', { disablesWebhookAfterFailures: 'yes' as unknown as boolean }],
  ])('a bad %s is a ProviderConfigError at construction', (option, extra) => {
    let thrown: unknown;
    try {
      gateway(extra);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderConfigError);
    expect((thrown as ProviderConfigError).option).toBe(option);
  });
});

describe('the boot warning', () => {
  it('names exactly the types with no listener and not ignored, once per provider, after the boot code', async () => {
    const { hub, bootLines } = capture({ ignore: ['payment.failed'] });
    const provider = gateway();
    // Mounted first, listeners after it (the usual order): the check waits for them.
    createWebhookMiddleware(hub, provider);
    createWebhookMiddleware(hub, provider); // a second mount of the same provider
    mountProvider(hub, provider);
    hub.on('payment.completed', () => undefined);
    expect(bootLines()).toEqual([]);
    await afterBoot();
    expect(bootLines()).toEqual([
      {
        level: 'warn',
        obj: { provider: 'paymongo-like', types: ['payment.refunded'] },
        msg: expect.stringContaining(
          'the paymongo-like provider emits payment.refunded with no listener',
        ),
      },
    ]);
    // Mounting it again later, or deliveries, never repeat it.
    createWebhookMiddleware(hub, provider);
    await hub.receive(provider, delivery());
    await afterBoot();
    expect(bootLines()).toHaveLength(1);
  });

  it('names several types in one warning, and each provider separately', async () => {
    const { hub, bootLines } = capture();
    createWebhookMiddleware(hub, gateway());
    createWebhookMiddleware(hub, base);
    hub.on('payment.failed', () => undefined);
    await afterBoot();
    expect(bootLines().map((l) => [l.level, l.obj])).toEqual([
      ['warn', { provider: 'paymongo-like', types: ['payment.completed', 'payment.refunded'] }],
      ['warn', { provider: 'test-gateway', types: ['payment.completed', 'payment.refunded'] }],
    ]);
    expect(bootLines()[0]!.msg).toContain('payment.completed, payment.refunded');
  });

  it('says nothing when every type is listened to or ignored, or onAny listens', async () => {
    const listened = capture({ ignore: ['payment.refunded'] });
    listened.hub.on('payment.completed', () => undefined);
    listened.hub.on('payment.failed', () => undefined);
    createWebhookMiddleware(listened.hub, gateway());

    const any = capture();
    createWebhookMiddleware(any.hub, gateway());
    any.hub.onAny(() => undefined);

    const allIgnored = capture({ ignore: [...PAYMENT_EVENT_TYPES] });
    createWebhookMiddleware(allIgnored.hub, gateway());
    await afterBoot();
    expect([listened.bootLines(), any.bootLines(), allIgnored.bootLines()]).toEqual([[], [], []]);
    expect(listened.hub.checkListeners()).toEqual([]);
  });

  it('says nothing about types the provider does not emit', async () => {
    const { hub, bootLines } = capture();
    hub.on('payment.completed', () => undefined);
    createWebhookMiddleware(hub, gateway({ eventTypes: ['payment.completed'] }));
    await afterBoot();
    expect(bootLines()).toEqual([]);
    expect(hub.checkListeners()).toEqual([]);
  });

  it('checks nothing for a hub no provider is mounted on', async () => {
    const { hub, bootLines } = capture();
    await hub.receive(base, delivery());
    await afterBoot();
    expect(bootLines()).toEqual([]);
    expect(hub.checkListeners()).toEqual([]);
  });

  it('outside production a gateway that disables its webhook gets the warning, not an error', async () => {
    const { hub, bootLines } = capture();
    const errors: PaymentErrorLike[] = [];
    hub.on('error', (error) => void errors.push(error));
    hub.on('payment.completed', () => undefined);
    hub.on('payment.failed', () => undefined);
    createWebhookMiddleware(hub, gateway({ disablesWebhookAfterFailures: true }));
    expect(hub.checkListeners()).toEqual([
      {
        provider: 'paymongo-like',
        types: ['payment.refunded'],
        disablesWebhookAfterFailures: true,
      },
    ]);
    await afterBoot();
    expect(bootLines().map((l) => l.level)).toEqual(['warn']);
    expect(errors).toEqual([]);
  });
});

describe('in production, a gateway that disables its webhook after failures', () => {
  it('hub.checkListeners() throws a ConfigError naming the unlistened types', async () => {
    const { hub } = capture();
    hub.on('payment.completed', () => undefined);
    hub.on('payment.failed', () => undefined);
    createWebhookMiddleware(hub, base); // warns only: its gateway keeps the webhook
    createWebhookMiddleware(hub, gateway({ disablesWebhookAfterFailures: true }));
    await inProduction(async () => {
      let thrown: unknown;
      try {
        hub.checkListeners();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const error = thrown as ConfigError;
      expect(error.code).toBe('ERR_CONFIG');
      expect(error.option).toBe('ignore');
      expect(error.source).toBe('@acme/paymongo-like');
      expect(error.message).toContain('payment.refunded');
      expect(error.message).toContain('paymongo-like');
      expect(error.message).toContain('disables the webhook after repeated failures');
    });
    // A listener added (or the type ignored) clears it.
    hub.on('payment.refunded', () => undefined);
    await inProduction(async () => expect(hub.checkListeners()).toEqual([]));
  });

  it('is an error-level log and a ConfigError on `error` when nobody calls checkListeners', async () => {
    const { hub, bootLines } = capture();
    const errors: PaymentErrorLike[] = [];
    hub.on('error', (error) => void errors.push(error));
    hub.on('payment.completed', () => undefined);
    await inProduction(async () => {
      createWebhookMiddleware(hub, gateway({ disablesWebhookAfterFailures: true }));
      await afterBoot();
    });
    expect(bootLines().map((l) => [l.level, l.obj])).toEqual([
      ['error', { provider: 'paymongo-like', types: ['payment.failed', 'payment.refunded'] }],
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).option).toBe('ignore');
  });

  it('is nothing at all once the types are declared in ignore', async () => {
    const { hub, bootLines } = capture({ ignore: ['payment.failed', 'payment.refunded'] });
    const errors: PaymentErrorLike[] = [];
    hub.on('error', (error) => void errors.push(error));
    hub.on('payment.completed', () => undefined);
    await inProduction(async () => {
      createWebhookMiddleware(hub, gateway({ disablesWebhookAfterFailures: true }));
      expect(hub.checkListeners()).toEqual([]);
      await afterBoot();
    });
    expect([bootLines(), errors]).toEqual([[], []]);
  });

  it('changes no delivery: the listened type is processed, the unlistened one gets the retry body as before', async () => {
    const outcomes = async (provider: PaymentProvider<TestPayload>) => {
      const { hub } = capture();
      hub.on('payment.completed', () => undefined);
      hub.on('error', () => undefined);
      createWebhookMiddleware(hub, provider);
      await afterBoot();
      const results = [
        await hub.receive(provider, delivery(signedDelivery({ txn: 'A' }))),
        await hub.receive(provider, delivery(signedDelivery({ txn: 'B', status: 'FAILED' }))),
        await hub.receive(
          provider,
          delivery(signedDelivery({ txn: 'A', status: 'REFUNDED', refundId: 'R1' })),
        ),
        await hub.receive(provider, delivery(signedDelivery({ txn: 'A' }))),
      ];
      return results.map((r) => [r.outcome, r.reply.status, r.reply.body]);
    };
    const [declared, plain] = await inProduction(async () => [
      await outcomes(gateway({ disablesWebhookAfterFailures: true })),
      await outcomes(gateway()),
    ]);
    expect(declared).toEqual([
      ['processed', 200, '{"ok":true}'],
      ['unhandled', 503, '{"ok":false}'],
      ['unhandled', 503, '{"ok":false}'],
      ['duplicate', 200, '{"ok":true}'],
    ]);
    expect(declared).toEqual(plain);
  });
});
