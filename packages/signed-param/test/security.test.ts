import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, createPaymentHub, ProviderConfigError } from '@payhook/core';
import {
  createSignedParamMiddleware,
  createSignedParamProvider,
  type SignedParamOptions,
} from '../src';
import { buildNotification } from '../src/signing';
import {
  OK_BODY,
  DOC_EXAMPLE_PARAM,
  createHarness,
  expectRefused as refused,
  paymentParam,
  platform,
  platformPublicBase64,
  post,
  refundParam,
  signed,
  stranger,
  wallTime,
  type Harness,
} from './helpers';

const HOUR = 3_600_000;
const EVENT_ID = 'signed-param:order.payment.success:C1032653961085706055';

/** Refused, and the event id still unknown: no key was written. */
const expectRefused = (
  h: Harness,
  body: string,
  status: number,
  code: string,
  eventId = EVENT_ID,
) => refused(h, body, status, code, eventId);

function configError(fn: () => unknown): ProviderConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
}

describe('item 9: the signed returnTime / createTime bound the age of a delivery', () => {
  it('refuses a payment whose signed returnTime is older than 24 h: 401 ERR_DELIVERY_STALE, no event, no store key', async () => {
    const h = createHarness();
    const body = signed(
      paymentParam({ returnTime: wallTime(25 * HOUR), createTime: wallTime(26 * HOUR) }),
    ).body;
    const res = await expectRefused(h, body, 401, 'ERR_DELIVERY_STALE');
    expect(res.text).toContain('returnTime');
  });

  it('refuses the doc example as the platform signed it in 2023 (a years-old genuine delivery)', async () => {
    await expectRefused(createHarness(), signed(DOC_EXAMPLE_PARAM).body, 401, 'ERR_DELIVERY_STALE');
  });

  it('a delivery replayed once the store forgot it is refused when older than maxAgeMs', async () => {
    // The first delivery is processed; a second hub (a store that forgot) gets the same bytes
    // after more than maxAgeMs: refused, not credited again.
    const fresh = signed(paymentParam({ returnTime: wallTime(30_000) })).body;
    const first = createHarness({ maxAgeMs: 60_000 });
    expect((await post(first, fresh)).text).toBe(OK_BODY);
    expect(first.events).toHaveLength(1);
    const aged = signed(paymentParam({ returnTime: wallTime(90_000) })).body;
    await expectRefused(createHarness({ maxAgeMs: 60_000 }), aged, 401, 'ERR_DELIVERY_STALE');
  });

  it('uses createTime when returnTime is empty', async () => {
    const h = createHarness();
    const body = signed(paymentParam({ returnTime: '', createTime: wallTime(25 * HOUR) })).body;
    const res = await expectRefused(h, body, 401, 'ERR_DELIVERY_STALE');
    expect(res.text).toContain('createTime');
  });

  it('checks ISO 8601 times with their offset too', async () => {
    const body = signed(paymentParam({ returnTime: '2024-07-19T14:14:47+08:00' })).body;
    await expectRefused(createHarness(), body, 401, 'ERR_DELIVERY_STALE');
  });

  it('refuses a time further ahead than clockSkewMs, and accepts it with a larger skew', async () => {
    const ahead = signed(paymentParam({ returnTime: wallTime(-10 * 60_000) })).body;
    const res = await expectRefused(createHarness(), ahead, 401, 'ERR_DELIVERY_STALE');
    expect(res.text).toMatch(/ahead/);
    const h = createHarness({ clockSkewMs: 15 * 60_000 });
    expect((await post(h, ahead)).text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
  });

  it('refuses a refund whose signed refundReturnTime is older than the maximum age', async () => {
    const body = signed(
      refundParam({
        refundReturnTime: wallTime(25 * HOUR),
        refundCreateTime: wallTime(26 * HOUR),
      }),
    ).body;
    const res = await expectRefused(
      createHarness(),
      body,
      401,
      'ERR_DELIVERY_STALE',
      'signed-param:payment.refund.success:R1032653961085700001',
    );
    expect(res.text).toContain('refundReturnTime');
  });

  it('accepts a fresh payment and a payment just inside a custom maxAgeMs', async () => {
    const h = createHarness({ maxAgeMs: 48 * HOUR });
    const body = signed(paymentParam({ returnTime: wallTime(30 * HOUR) })).body;
    expect((await post(h, body)).text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
  });

  it('sets the provider maxAgeMs from the option, which the hub checks against its retention at mount', () => {
    const build = (options: Partial<SignedParamOptions> = {}) =>
      createSignedParamProvider({
        platformPublicKey: platformPublicBase64,
        country: 'PH',
        ...options,
      });
    expect(build().maxAgeMs).toBe(24 * HOUR);
    expect(build({ maxAgeMs: HOUR }).maxAgeMs).toBe(HOUR);
    const hub = createPaymentHub({ retentionMs: 12 * HOUR });
    expect(() =>
      createSignedParamMiddleware(hub, { platformPublicKey: platformPublicBase64, country: 'PH' }),
    ).toThrow(ConfigError);
    expect(() =>
      createSignedParamMiddleware(hub, {
        platformPublicKey: platformPublicBase64,
        country: 'PH',
        maxAgeMs: 6 * HOUR,
      }),
    ).not.toThrow();
  });

  it.each([
    ['maxAgeMs', { maxAgeMs: -1 }],
    ['maxAgeMs', { maxAgeMs: 1.5 }],
    ['clockSkewMs', { clockSkewMs: 0 }],
  ])('a bad %s is a ProviderConfigError naming it', (option, options) => {
    const error = configError(() =>
      createSignedParamProvider({
        platformPublicKey: platformPublicBase64,
        country: 'PH',
        ...(options as Partial<SignedParamOptions>),
      }),
    );
    expect(error.option).toBe(option);
  });
});

describe('item 12: platformPublicKey takes several keys during a rotation', () => {
  const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const nextBase64 = next.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const keys = [platformPublicBase64, nextBase64];

  it('tries the keys in order; event.keyIndex says which one matched', async () => {
    const h = createHarness({ platformPublicKey: keys });
    const byOld = signed(paymentParam({ transactionId: 'C1' }), platform.privateKey).body;
    const byNew = signed(paymentParam({ transactionId: 'C2' }), next.privateKey).body;
    expect((await post(h, byOld)).text).toBe(OK_BODY);
    expect((await post(h, byNew)).text).toBe(OK_BODY);
    expect(h.events.map((e) => [e.transactionId, e.keyIndex])).toEqual([
      ['C1', 0],
      ['C2', 1],
    ]);
  });

  it('refuses a notification signed by neither key with 401', async () => {
    await expectRefused(
      createHarness({ platformPublicKey: keys }),
      signed(paymentParam(), stranger.privateKey).body,
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a single key still works and matches as key 0', async () => {
    const h = createHarness();
    expect((await post(h, signed(paymentParam()).body)).text).toBe(OK_BODY);
    expect(h.events[0]!.keyIndex).toBe(0);
  });

  it.each([
    ['an empty list', [], 'platformPublicKey'],
    [
      'a list with a key that does not parse',
      [platformPublicBase64, 'junk'],
      'platformPublicKey[1]',
    ],
  ])('%s is a ProviderConfigError naming the option', (_name, value, option) => {
    const error = configError(() =>
      createSignedParamProvider({ platformPublicKey: value, country: 'PH' }),
    );
    expect(error.option).toBe(option);
  });
});

describe('item 13: merchant binding and options needed at runtime', () => {
  it('without country the provider does not build: refunds name no currency, so it would be a 500 at the first refund', () => {
    const error = configError(() =>
      createSignedParamProvider({ platformPublicKey: platformPublicBase64 } as SignedParamOptions),
    );
    expect(error.option).toBe('country');
    expect(() =>
      createSignedParamMiddleware(createPaymentHub(), {
        platformPublicKey: platformPublicBase64,
      } as SignedParamOptions),
    ).toThrow(/"country"/);
  });

  it('with country set, a refund naming no currency is read in that country', async () => {
    const h = createHarness({ country: 'ID' });
    expect((await post(h, signed(refundParam({ refundAmount: 10000 })).body)).text).toBe(OK_BODY);
    expect(h.events[0]).toMatchObject({ amount: '10000', currency: 'IDR' });
  });

  it('the risk: without a binding, a genuine notification about another merchant order verifies here', async () => {
    // One platform key signs every merchant's notifications, and param names no merchant.
    const h = createHarness();
    await post(h, signed(paymentParam({ mchOrderId: 'SOMEONE-ELSES-ORDER' })).body);
    expect(h.events[0]!.orderId).toBe('SOMEONE-ELSES-ORDER');
  });

  it('orderIdPrefix: a payment whose mchOrderId does not start with it is refused 401 ERR_SENDER_UNKNOWN', async () => {
    const ours = createHarness({ orderIdPrefix: 'SHOP1-' });
    expect((await post(ours, signed(paymentParam({ mchOrderId: 'SHOP1-42' })).body)).text).toBe(
      OK_BODY,
    );
    expect(ours.events[0]!.orderId).toBe('SHOP1-42');
    await expectRefused(
      createHarness({ orderIdPrefix: 'SHOP1-' }),
      signed(paymentParam({ mchOrderId: 'OTHER-42' })).body,
      401,
      'ERR_SENDER_UNKNOWN',
    );
    await expectRefused(
      createHarness({ orderIdPrefix: 'SHOP1-' }),
      signed(paymentParam({ mchOrderId: undefined })).body,
      401,
      'ERR_SENDER_UNKNOWN',
    );
  });

  it('orderIdPrefix applies to failed payments too, and to refunds that name a mchOrderId', async () => {
    await expectRefused(
      createHarness({ orderIdPrefix: 'SHOP1-' }),
      signed(
        paymentParam({
          eventName: 'order.payment.failed',
          transactionStatus: 'FAILED',
          mchOrderId: 'OTHER-1',
        }),
      ).body,
      401,
      'ERR_SENDER_UNKNOWN',
      'signed-param:order.payment.failed:C1032653961085706055',
    );
    const h = createHarness({ orderIdPrefix: 'SHOP1-' });
    expect((await post(h, signed(refundParam({ mchOrderId: undefined })).body)).text).toBe(OK_BODY);
    const ours = refundParam({
      mchOrderId: 'SHOP1-9',
      refundTransactionId: 'R1032653961085700002',
    });
    expect((await post(h, signed(ours).body)).text).toBe(OK_BODY);
    expect(h.events).toHaveLength(2);
    await expectRefused(
      createHarness({ orderIdPrefix: 'SHOP1-' }),
      signed(refundParam({ mchOrderId: 'OTHER-9' })).body,
      401,
      'ERR_SENDER_UNKNOWN',
      'signed-param:payment.refund.success:R1032653961085700001',
    );
  });

  it.each([[''], ['   '], [42]])('orderIdPrefix %p is a ProviderConfigError', (prefix) => {
    const error = configError(() =>
      createSignedParamProvider({
        platformPublicKey: platformPublicBase64,
        country: 'PH',
        orderIdPrefix: prefix as string,
      }),
    );
    expect(error.option).toBe('orderIdPrefix');
  });
});

describe('item 11: the outer body escapes cannot turn one signed param into another event id', () => {
  it('a lone-surrogate escape in place of a signed U+FFFD is refused, not a second event', async () => {
    const h = createHarness();
    // The platform signed a param whose transactionId holds U+FFFD. A lone surrogate encodes to the
    // same UTF-8 bytes (EF BF BD) when a string is turned into bytes, so a parser that let it
    // through would verify the signature and read another transactionId.
    const genuine = buildNotification(
      paymentParam({ transactionId: 'C1\uFFFD' }),
      platform.privateKey,
    );
    expect(Buffer.from('C1\ud800', 'utf8').equals(Buffer.from('C1\uFFFD', 'utf8'))).toBe(true);
    expect((await post(h, genuine.body)).text).toBe(OK_BODY);
    expect(h.events.map((e) => e.id)).toEqual(['signed-param:order.payment.success:C1\uFFFD']);

    const escaped = JSON.stringify({ sign: genuine.sign, param: genuine.param }).replace(
      '\uFFFD',
      '\\ud800',
    );
    expect(escaped).toContain('C1\\ud800');
    const res = await post(h, escaped);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('ERR_PAYLOAD_MALFORMED');
    expect(h.events).toHaveLength(1);
  });
});
