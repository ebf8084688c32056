/**
 * The plugin author's kit (issue 26): RECEIVE_OUTCOMES, epoch units in parseGatewayTime, the
 * seconds-for-milliseconds hint of checkSignedTime, checkHttpUrl's URL, keyIndex in confirm, and
 * how a GatewayApiError's `retryable` maps to the gateway's reply and the merchant's reports.
 */
import {
  createPaymentHub,
  GatewayApiError,
  PayloadError,
  RECEIVE_OUTCOMES,
  StaleDeliveryError,
  type ErrorContext,
  type PaymentErrorLike,
  type ReceiveOutcome,
} from '../src';
import * as root from '../src';
import {
  checkHttpUrl,
  checkSignedTime,
  ConfigError as PluginConfigError,
  defineProvider,
  optionFailer,
  ProviderConfigError as PluginProviderConfigError,
  parseGatewayTime,
  parseJson,
  resolveMaxAge,
  verified,
  type ConfirmContext,
  type Delivery,
  type OptionFailer,
} from '../src/plugin';

const delivery = (body: object): Delivery => ({
  body: Buffer.from(JSON.stringify(body)),
  headers: { 'content-type': 'application/json' },
  transport: 'http',
  receivedAt: new Date(),
});

describe('RECEIVE_OUTCOMES', () => {
  it('lists every outcome once, frozen, and ReceiveOutcome is derived from it', () => {
    expect(RECEIVE_OUTCOMES).toEqual([
      'processed',
      'duplicate',
      'busy',
      'unhandled',
      'ignored',
      'pending',
      'superseded',
      'failed',
      'rejected',
    ]);
    expect(Object.isFrozen(RECEIVE_OUTCOMES)).toBe(true);
    // Type-level: each element is a ReceiveOutcome and each ReceiveOutcome is an element.
    const each: readonly ReceiveOutcome[] = RECEIVE_OUTCOMES;
    const back: (typeof RECEIVE_OUTCOMES)[number] = 'busy' as ReceiveOutcome;
    expect([each.length, back]).toEqual([9, 'busy']);
  });
});

describe('parseGatewayTime with an explicit epoch unit', () => {
  const zone = { timeZone: 'Asia/Manila' };

  it('reads epoch seconds, as a number or a digit string, exactly', () => {
    const s = Date.UTC(2025, 0, 2, 3, 4, 5) / 1000;
    expect(parseGatewayTime(s, { ...zone, unit: 'seconds' })).toBe('2025-01-02T11:04:05+08:00');
    expect(parseGatewayTime(String(s), { ...zone, unit: 'seconds' })).toBe(
      '2025-01-02T11:04:05+08:00',
    );
    // 1735787045.123 * 1000 is 1735787045123.0002 in floating point: read as decimal text instead.
    expect(parseGatewayTime(s + 0.123, { ...zone, unit: 'seconds' })).toBe(
      '2025-01-02T11:04:05.123+08:00',
    );
    expect(parseGatewayTime(`${s}.1`, { ...zone, unit: 'seconds' })).toBe(
      '2025-01-02T11:04:05.100+08:00',
    );
  });

  it('reads epoch milliseconds when told so', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
    expect(parseGatewayTime(ms, { ...zone, unit: 'milliseconds' })).toBe(
      '2025-01-02T11:04:05.006+08:00',
    );
    expect(parseGatewayTime(String(ms), { ...zone, unit: 'milliseconds' })).toBe(
      '2025-01-02T11:04:05.006+08:00',
    );
  });

  it('never guesses the unit from the magnitude: the wrong unit is refused with a hint', () => {
    const s = 1_735_787_045;
    expect(() =>
      parseGatewayTime(s * 1000, { ...zone, unit: 'seconds', field: 'created' }),
    ).toThrow(/created .*epoch milliseconds\?/);
    expect(() => parseGatewayTime(s, { ...zone, unit: 'milliseconds' })).toThrow(
      /epoch seconds\? pass \{ unit: 'seconds' \}/,
    );
    // Without a unit a number is epoch milliseconds, as before; seconds are refused with the hint.
    expect(() => parseGatewayTime(s, zone)).toThrow(/pass \{ unit: 'seconds' \}/);
  });

  it.each([
    ['a fraction of a millisecond', 1_735_787_045.0001, 'seconds'],
    ['a fractional millisecond', 1_735_787_045_123.5, 'milliseconds'],
    ['a negative time', -1_735_787_045, 'seconds'],
    ['an exponent', '1.7e9', 'seconds'],
  ] as const)('refuses %s', (_label, value, unit) => {
    expect(() => parseGatewayTime(value, { ...zone, unit })).toThrow(PayloadError);
  });

  it('keeps the text formats when a unit is given', () => {
    expect(parseGatewayTime('2025-01-02T11:04:05+08:00', { ...zone, unit: 'seconds' })).toBe(
      '2025-01-02T11:04:05+08:00',
    );
  });
});

describe('checkSignedTime', () => {
  const limits = resolveMaxAge({ maxAgeMs: 60_000 });
  const now = Date.UTC(2026, 11, 1);

  it('hints at seconds passed for milliseconds (a time in 1970)', () => {
    let error: unknown;
    try {
      checkSignedTime(Math.floor(now / 1000), limits, { now, what: 'the signed t' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StaleDeliveryError);
    expect((error as Error).message).toMatch(/the signed t is older than/);
    expect((error as Error).message).toMatch(/1970-01-21T.*epoch seconds.*milliseconds/);
  });

  it('gives no such hint for a genuinely old time', () => {
    expect(() => checkSignedTime(now - 61_000, limits, { now })).toThrow(/possible replay$/);
  });
});

describe('checkHttpUrl', () => {
  it('returns a URL, not a string', () => {
    const url: URL = checkHttpUrl('https://api.example.com/v1/', 'statusQuery.baseUrl');
    // @ts-expect-error the answer is a URL: use url.href (or new URL(path, url)) for text
    const text: string = checkHttpUrl('https://api.example.com/v1/', 'statusQuery.baseUrl');
    void text;
    expect(url).toBeInstanceOf(URL);
    expect(new URL('payments/T1', url).href).toBe('https://api.example.com/v1/payments/T1');
  });
});

interface Note {
  txn: string;
}

function rotatingProvider(seen: ConfirmContext[], confirm?: () => never) {
  return defineProvider<Note, { status: string }>({
    id: 'rotating-confirm',
    schema: { type: 'object', required: ['txn'] },
    verification: 'signature',
    verify: (d) => {
      const raw = parseJson(d.body) as Note & { key?: number };
      return raw.key === undefined ? raw : verified(raw, { keyIndex: raw.key });
    },
    confirm(_raw, context) {
      seen.push(context);
      return confirm ? confirm() : { status: 'PAID' };
    },
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
    ack: { ok: { body: 'OK' }, retry: { status: 503, body: 'RETRY' } },
  });
}

describe('confirm receives keyIndex', () => {
  it('is the index verify reported, or absent when verify returned the bare payload', async () => {
    const seen: ConfirmContext[] = [];
    const provider = rotatingProvider(seen);
    const hub = createPaymentHub({ ignore: ['payment.completed'] });
    await hub.receive(provider, delivery({ txn: 'T1', key: 1 }));
    await hub.receive(provider, delivery({ txn: 'T2' }));
    expect(seen.map((c) => c.keyIndex)).toEqual([1, undefined]);
    expect(seen[0]!.delivery.transport).toBe('http');
  });
});

describe('a GatewayApiError thrown by confirm', () => {
  async function receiveFailing(error: Error) {
    const provider = rotatingProvider([], () => {
      throw error;
    });
    const hub = createPaymentHub();
    const reported: [PaymentErrorLike, ErrorContext][] = [];
    hub.on('error', (e, context) => void reported.push([e, context]));
    const result = await hub.receive(provider, delivery({ txn: 'T1' }));
    const entry = await hub.inbox!.get(result.inboxId!);
    return { result, reported, entry };
  }

  it('retryable: the retry body, reported as retryable', async () => {
    const error = new GatewayApiError('status API answered 503', { retryable: true });
    const { result, reported, entry } = await receiveFailing(error);
    expect([result.outcome, result.reply.body]).toEqual(['failed', 'RETRY']);
    expect(reported).toHaveLength(1);
    expect(reported[0]![0]).toBe(error);
    expect(reported[0]![1].retryable).toBe(true);
    expect(entry?.error).toEqual({ code: 'ERR_GATEWAY_API', message: error.message });
  });

  it('not retryable: still the retry body (never acknowledged unconfirmed), reported as such', async () => {
    const error = new GatewayApiError('status API answered 401', {
      retryable: false,
      httpStatus: 401,
      gatewayCode: 'INVALID_KEY',
    });
    const { result, reported, entry } = await receiveFailing(error);
    expect([result.outcome, result.reply.body]).toEqual(['failed', 'RETRY']);
    expect(reported).toHaveLength(1);
    const [given, context] = reported[0]!;
    expect(given).toBe(error);
    expect(given.code).toBe('ERR_GATEWAY_API');
    expect(context).toMatchObject({ provider: 'rotating-confirm', retryable: false });
    expect(entry?.error).toEqual({
      code: 'ERR_GATEWAY_API',
      message: error.message,
      retryable: false,
    });
  });

  it('anything else (unknown): the retry body, with no retryable verdict', async () => {
    const { result, reported } = await receiveFailing(new TypeError('boom'));
    expect([result.outcome, result.reply.body]).toEqual(['failed', 'RETRY']);
    expect(reported[0]![1].retryable).toBeUndefined();
  });
});

describe('optionFailer', () => {
  const thrown = (fn: () => unknown): Error & Record<string, unknown> => {
    try {
      fn();
    } catch (error) {
      return error as Error & Record<string, unknown>;
    }
    throw new Error('did not throw');
  };

  it('throws a ProviderConfigError naming the option, from the source', () => {
    const fail: OptionFailer = optionFailer('@acme/payhook');
    const error = thrown(() => fail('apiKey', 'is required: the key in the Acme dashboard'));
    expect(error).toBeInstanceOf(PluginProviderConfigError);
    expect(error).toBeInstanceOf(root.ProviderConfigError);
    expect(error.message).toBe(
      '@acme/payhook: option "apiKey" is required: the key in the Acme dashboard',
    );
    expect([error.code, error.option, error.source]).toEqual([
      'ERR_PROVIDER_CONFIG',
      'apiKey',
      '@acme/payhook',
    ]);
    expect('cause' in error).toBe(false);
  });

  it('keeps a cause when given, and puts the prefix before the option name', () => {
    const cause = new Error('bad PEM');
    const fail: OptionFailer = optionFailer('@acme/payhook', { prefix: 'reconnect.' });
    const error = thrown(() => fail('maxDelayMs', 'must be at least initialDelayMs', cause));
    expect(error.message).toBe(
      '@acme/payhook: option "reconnect.maxDelayMs" must be at least initialDelayMs',
    );
    expect([error.option, error.cause]).toEqual(['reconnect.maxDelayMs', cause]);
  });

  it('throws a plain ConfigError with provider: false', () => {
    const fail: OptionFailer = optionFailer('@acme/store', { provider: false });
    const error = thrown(() => fail('schema', 'must be a SQL identifier'));
    expect(error).toBeInstanceOf(PluginConfigError);
    expect(error).not.toBeInstanceOf(PluginProviderConfigError);
    expect([error.code, error.message]).toEqual([
      'ERR_CONFIG',
      '@acme/store: option "schema" must be a SQL identifier',
    ]);
  });

  it('narrows like a throw when called as a statement', () => {
    const fail: OptionFailer = optionFailer('@acme/payhook');
    const check = (value: unknown): string => {
      if (typeof value !== 'string') fail('apiKey', 'must be a string');
      return value;
    };
    expect(check('k')).toBe('k');
    expect(() => check(1)).toThrow(PluginProviderConfigError);
  });
});

describe('@payhook/core/plugin re-exports what plugins used to import from @payhook/core', () => {
  it('is the same class or function as the root export', () => {
    expect(PluginProviderConfigError).toBe(root.ProviderConfigError);
    expect(PluginConfigError).toBe(root.ConfigError);
  });
});
