import { ConfigError, createPaymentHub, ProviderConfigError } from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { createPayinMiddleware, createPayinProvider } from '../src';
import { type SignedCashyMessage } from '../src/signing';
import {
  API_KEY,
  DOC_SAMPLE_BODY,
  MERCHANT_ID,
  OTHER_KEY,
  createHarness,
  expectRefused as refused,
  payinWebhook,
  post,
  signed,
  wallTime,
  type Harness,
} from './fixtures';

const HOUR = 3_600_000;
const EVENT_ID = 'cashy:PAYIN8232154612109344768:completed';

/** Refused, and the event id still unknown: no key was written. */
const expectRefused = (
  h: Harness,
  message: SignedCashyMessage,
  status: number,
  code: string,
  eventId = EVENT_ID,
) => refused(h, message, status, code, eventId);

function configError(fn: () => unknown): ProviderConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error('expected a ProviderConfigError');
}

describe('item 9: the signed completionTime bounds the age of a delivery', () => {
  it('refuses a SUCCESS whose completionTime is older than 24 h: 401 ERR_DELIVERY_STALE, no event, no store key', async () => {
    const res = await expectRefused(
      createHarness(),
      payinWebhook({ completionTime: wallTime(25 * HOUR) }),
      401,
      'ERR_DELIVERY_STALE',
    );
    expect(res.body.error.message).toContain('completionTime');
  });

  it('refuses the doc sample as Cashy signed it in 2022 (a years-old genuine delivery)', async () => {
    await expectRefused(
      createHarness(),
      signed(DOC_SAMPLE_BODY),
      401,
      'ERR_DELIVERY_STALE',
      'cashy:PAYDESKxxxxxxxxxxx:completed',
    );
  });

  it('a delivery replayed once the store forgot it is refused when older than maxAgeMs', async () => {
    const first = createHarness({ maxAgeMs: 60_000 });
    expect((await post(first, payinWebhook({ completionTime: wallTime(30_000) }))).text).toBe(
      'SUCCESS',
    );
    expect(first.events).toHaveLength(1);
    await expectRefused(
      createHarness({ maxAgeMs: 60_000 }),
      payinWebhook({ completionTime: wallTime(90_000) }),
      401,
      'ERR_DELIVERY_STALE',
    );
  });

  it('covers Cashy’s whole retry schedule (about 17 h after the first attempt) by default', async () => {
    const h = createHarness();
    const res = await post(h, payinWebhook({ completionTime: wallTime(17.5 * HOUR) }));
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
  });

  it('a completionTime ahead of the clock (a wrong timeZone) is refused, naming the timeZone option', async () => {
    // Written on a Manila clock (GMT+8), read on the default Jakarta one (GMT+7): an hour ahead.
    const res = await expectRefused(
      createHarness(),
      payinWebhook({ completionTime: wallTime(60_000, 'Asia/Manila') }),
      401,
      'ERR_DELIVERY_STALE',
    );
    expect(res.body.error.message).toMatch(/ahead/);
    expect(res.body.error.message).toContain('timeZone');
    const h = createHarness({ timeZone: 'Asia/Manila' });
    expect(
      (await post(h, payinWebhook({ completionTime: wallTime(60_000, 'Asia/Manila') }))).text,
    ).toBe('SUCCESS');
  });

  it('a failure has no completionTime: nothing signed to check, it is processed (retention is the bound)', async () => {
    const h = createHarness({ maxAgeMs: 60_000 });
    const res = await post(
      h,
      payinWebhook({ orderStatus: 'FAIL', fee: null, completionTime: null }),
    );
    expect(res.text).toBe('SUCCESS');
    expect(h.events.map((e) => e.type)).toEqual(['payment.failed']);
  });

  it('sets the provider maxAgeMs from the option, which the hub checks against its retention at mount', () => {
    const options = { merchantId: MERCHANT_ID, apiKey: API_KEY };
    expect(createPayinProvider(options).maxAgeMs).toBe(24 * HOUR);
    expect(createPayinProvider({ ...options, maxAgeMs: HOUR }).maxAgeMs).toBe(HOUR);
    const hub = createPaymentHub({ retentionMs: 12 * HOUR });
    expect(() => createPayinMiddleware(hub, options)).toThrow(ConfigError);
    expect(() => createPayinMiddleware(hub, { ...options, maxAgeMs: 6 * HOUR })).not.toThrow();
  });

  it.each([
    ['maxAgeMs', { maxAgeMs: 0 }],
    ['maxAgeMs', { maxAgeMs: '1h' }],
    ['clockSkewMs', { clockSkewMs: -5 }],
  ])('a bad %s is a ProviderConfigError naming it', (option, bad) => {
    const error = configError(() =>
      createPayinProvider({ merchantId: MERCHANT_ID, apiKey: API_KEY, ...(bad as object) }),
    );
    expect(error.option).toBe(option);
  });
});

describe('item 9: PATCH (replenishment) orders', () => {
  const patch = (completionTime: string) =>
    payinWebhook({
      mchOrderNo: 'MCH2023008800001',
      orderNo: 'PAYIN1000000000000000002',
      patchOrderNo: 'PAYIN1000000000000000001',
      patchMchOrderNo: 'MCH20230088',
      orderType: 'PATCH',
      amount: jsonNumber('30.00'),
      completionTime,
    });

  it('a PATCH is its own order with its own completionTime: a fresh one is credited, however old the original order is', async () => {
    const h = createHarness();
    // The original order completed days ago; its own webhook would be stale now, its PATCH is not.
    const original = payinWebhook({
      mchOrderNo: 'MCH20230088',
      orderNo: 'PAYIN1000000000000000001',
      patchOrderNo: 'PAYIN1000000000000000001',
      patchMchOrderNo: 'MCH20230088',
      completionTime: wallTime(5 * 24 * HOUR),
    });
    expect((await post(h, original)).status).toBe(401);
    const res = await post(h, patch(wallTime(10 * 60_000)));
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'cashy:PAYIN1000000000000000002:completed',
      orderId: 'MCH20230088',
      amount: '30.00',
      details: { isPatch: true, serial: '00001' },
    });
  });

  it('a PATCH whose completionTime is older than the maximum age is refused like any order (no other signed time)', async () => {
    await expectRefused(
      createHarness(),
      patch(wallTime(3 * 24 * HOUR)),
      401,
      'ERR_DELIVERY_STALE',
      'cashy:PAYIN1000000000000000002:completed',
    );
  });
});

describe('item 12: apiKey takes several keys during a rotation', () => {
  const NEW_KEY = 'cashy-rotated-api-key-2';

  it('tries the keys in order; event.keyIndex says which one matched', async () => {
    const h = createHarness({ apiKey: [API_KEY, NEW_KEY] });
    const byOld = payinWebhook({ orderNo: 'PAYIN1', patchOrderNo: 'PAYIN1' });
    const byNew = payinWebhook({ orderNo: 'PAYIN2', patchOrderNo: 'PAYIN2' }, { apiKey: NEW_KEY });
    expect((await post(h, byOld)).text).toBe('SUCCESS');
    expect((await post(h, byNew)).text).toBe('SUCCESS');
    expect(h.events.map((e) => [e.transactionId, e.keyIndex])).toEqual([
      ['PAYIN1', 0],
      ['PAYIN2', 1],
    ]);
  });

  it('refuses a webhook signed with neither key with 401', async () => {
    await expectRefused(
      createHarness({ apiKey: [API_KEY, NEW_KEY] }),
      payinWebhook({}, { apiKey: OTHER_KEY }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a single key still works and matches as key 0', async () => {
    const h = createHarness();
    expect((await post(h, payinWebhook())).text).toBe('SUCCESS');
    expect(h.events[0]!.keyIndex).toBe(0);
  });

  it.each([
    ['an empty list', [], 'apiKey'],
    ['a list with a blank key', [API_KEY, ' '], 'apiKey[1]'],
    ['a list with a non-string', [API_KEY, 42], 'apiKey[1]'],
  ])('%s is a ProviderConfigError naming the option', (_name, apiKey, option) => {
    const error = configError(() =>
      createPayinProvider({ merchantId: MERCHANT_ID, apiKey: apiKey as string[] }),
    );
    expect(error.option).toBe(option);
  });
});
