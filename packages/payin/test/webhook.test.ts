import express from 'express';
import {
  API_KEY,
  COMPLETED_AT,
  DOC_SAMPLE_BODY,
  DOC_SAMPLE_MAX_AGE,
  OTHER_KEY,
  createHarness,
  expectRefused,
  payinWebhook,
  post,
  signed,
  wallTime,
} from './fixtures';
import { jsonNumber } from '@payhook/core/plugin';

describe('Cashy payin webhook: statuses', () => {
  it('SUCCESS emits payment.completed with exact amount, fee and completionTime, acked with plain SUCCESS', async () => {
    const h = createHarness();
    const res = await post(h, payinWebhook());
    expect(res.status).toBe(200);
    expect(res.text).toBe('SUCCESS');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(h.events).toHaveLength(1);
    const e = h.events[0]!;
    expect(e).toMatchObject({
      id: 'cashy:PAYIN8232154612109344768:completed',
      type: 'payment.completed',
      provider: 'cashy',
      orderId: 'M1656908719283',
      transactionId: 'PAYIN8232154612109344768',
      amount: '100.10',
      currency: null,
      occurredAt: COMPLETED_AT,
      verification: 'signature',
    });
    expect(e.details).toEqual({
      orderType: 'API',
      fee: '1.5000',
      mchOrderNo: 'M1656908719283',
      isPatch: false,
      patchOrderNo: null,
      serial: null,
    });
    expect(e.failure).toBeUndefined();
    // raw keeps every number as its source text: no float ever held the amount
    expect((e.raw as { amount: unknown }).amount).toBe('100.10');
  });

  it('the doc sample body, byte for byte, is accepted (pretty-printed, amount 10000.0)', async () => {
    // Its completionTime is from 2022: this test is about its bytes, not its age.
    const h = createHarness(DOC_SAMPLE_MAX_AGE);
    const res = await post(h, signed(DOC_SAMPLE_BODY));
    expect(res.status).toBe(200);
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      type: 'payment.completed',
      amount: '10000.00',
      transactionId: 'PAYDESKxxxxxxxxxxx',
      // a UUID has no 5-digit serial to strip, and the sample gives no patchMchOrderNo
      orderId: '2a6421c4-3758-4d1a-b47e-f7d0e7133f9e',
      details: { fee: '0', isPatch: true, patchOrderNo: 'PAYIN82xxxxxxxxx', serial: null },
    });
  });

  it.each([
    ['FAIL', 'Payment failed'],
    ['CANCEL', 'Rejected by Cashy'],
  ])(
    '%s emits payment.failed dated by its arrival in the configured zone',
    async (status, message) => {
      const h = createHarness();
      const res = await post(
        h,
        payinWebhook({ orderStatus: status, fee: null, completionTime: null }),
      );
      expect(res.status).toBe(200);
      expect(res.text).toBe('SUCCESS');
      expect(h.events).toHaveLength(1);
      const e = h.events[0]!;
      expect(e).toMatchObject({
        id: 'cashy:PAYIN8232154612109344768:failed',
        type: 'payment.failed',
        orderId: 'M1656908719283',
        amount: '100.10',
        failure: { code: status, message },
      });
      expect(e.occurredAt).toMatch(/\+07:00$/);
      expect(Math.abs(Date.parse(e.occurredAt) - Date.parse(e.receivedAt))).toBeLessThan(1000);
      expect(e.details).toMatchObject({ fee: null });
    },
  );

  it.each(['PAYING', 'PROCESSING', 'WAITING'])(
    '%s is not final: acknowledged with SUCCESS, no event, store untouched',
    async (status) => {
      const h = createHarness();
      const res = await post(
        h,
        payinWebhook({ orderStatus: status, fee: null, completionTime: null }),
      );
      expect(res.status).toBe(200);
      expect(res.text).toBe('SUCCESS');
      expect(h.events).toHaveLength(0);
      expect(h.unhandled).toHaveLength(0);
      expect(h.store.calls.claim).toBe(0);
    },
  );

  it.each(['REVERSED', 'toString', '__proto__'])(
    'an unknown orderStatus (%s) is acknowledged and emitted on unhandled, not as a payment',
    async (status) => {
      const h = createHarness();
      const res = await post(h, payinWebhook({ orderStatus: status }));
      expect(res.status).toBe(200);
      expect(res.text).toBe('SUCCESS');
      expect(h.events).toHaveLength(0);
      expect(h.unhandled).toHaveLength(1);
      expect(h.unhandled[0]!.reason).toContain(status);
    },
  );

  it('a listener failure answers 500 FAIL so Cashy retries; the retry is processed once', async () => {
    const h = createHarness();
    let calls = 0;
    h.hub.on('payment.completed', () => {
      calls++;
      if (calls === 1) throw new Error('ledger down');
    });
    const message = payinWebhook();
    const first = await post(h, message);
    expect(first.status).toBe(500);
    expect(first.text).toBe('FAIL');
    expect(first.headers['content-type']).toMatch(/^text\/plain/);
    const second = await post(h, message);
    expect(second.status).toBe(200);
    expect(second.text).toBe('SUCCESS');
    const third = await post(h, message);
    expect(third.text).toBe('SUCCESS');
    expect(calls).toBe(2);
    expect(h.duplicates).toHaveLength(1);
  });
});

describe('Cashy payin webhook: amounts, merchantId and time', () => {
  it.each([
    ['a JSON number with a trailing zero', jsonNumber('100.10'), '100.10'],
    ['a JSON number with one decimal', jsonNumber('100.1'), '100.10'],
    ['a JSON integer', jsonNumber('250'), '250.00'],
    ['a string', '20000.00', '20000.00'],
    ['a number beyond float precision', jsonNumber('12345678901234567.89'), '12345678901234567.89'],
  ])('amount as %s becomes the exact decimal string', async (_label, amount, expected) => {
    const h = createHarness();
    const res = await post(h, payinWebhook({ amount }));
    expect(res.text).toBe('SUCCESS');
    expect(h.events.map((e) => e.amount)).toEqual([expected]);
  });

  it('integer countries: amountScale defaults to 0 for MXN', async () => {
    const h = createHarness({ currency: 'MXN' });
    const res = await post(h, payinWebhook({ amount: jsonNumber('500.00') }));
    expect(res.text).toBe('SUCCESS');
    expect(h.events[0]).toMatchObject({ amount: '500', currency: 'MXN' });
  });

  it('an amount with more decimals than the scale is refused with 400, never rounded', async () => {
    const h = createHarness({ currency: 'MXN' });
    const res = await post(h, payinWebhook({ amount: jsonNumber('500.50') }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ERR_PAYLOAD_INVALID');
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('a non-numeric amount is refused with 400 and the failing field', async () => {
    const h = createHarness();
    const res = await post(h, payinWebhook({ amount: '100,10' }));
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual([expect.objectContaining({ path: '/amount' })]);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it.each([
    ['a string', '100001'],
    ['a number', jsonNumber('100001')],
  ])('merchantId in the body as %s is accepted', async (_label, merchantId) => {
    const h = createHarness({ merchantId: 100001 });
    const res = await post(h, payinWebhook({ merchantId }));
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
  });

  it('completionTime is read in the configured zone (Bogota, GMT-5)', async () => {
    const h = createHarness({ timeZone: 'America/Bogota' });
    const completionTime = wallTime(3_600_000, 'America/Bogota');
    await post(h, payinWebhook({ completionTime }));
    expect(h.events[0]!.occurredAt).toBe(`${completionTime.replace(' ', 'T')}-05:00`);
  });

  it('an impossible completionTime is refused with 400', async () => {
    const h = createHarness();
    const res = await post(h, payinWebhook({ completionTime: '2022-02-30 08:08:08' }));
    expect(res.status).toBe(400);
    expect(h.events).toHaveLength(0);
  });
});

describe('Cashy payin webhook: PATCH (replenishment) orders', () => {
  // Cashy's payin page: merchant order MCH20230088; replenishments come back as MCH2023008800001,
  // ...00002
  const original = payinWebhook({
    mchOrderNo: 'MCH20230088',
    orderNo: 'PAYIN1000000000000000001',
    patchOrderNo: 'PAYIN1000000000000000001',
    patchMchOrderNo: 'MCH20230088',
    amount: jsonNumber('50.00'),
  });
  const patch1 = payinWebhook({
    mchOrderNo: 'MCH2023008800001',
    orderNo: 'PAYIN1000000000000000002',
    patchOrderNo: 'PAYIN1000000000000000001',
    patchMchOrderNo: 'MCH20230088',
    orderType: 'PATCH',
    amount: jsonNumber('30.00'),
  });
  // no patchMchOrderNo (as in the doc's sample): the 5-digit serial is stripped from mchOrderNo
  const patch2 = payinWebhook({
    mchOrderNo: 'MCH2023008800002',
    orderNo: 'PAYIN1000000000000000003',
    patchOrderNo: 'PAYIN1000000000000000001',
    patchMchOrderNo: undefined,
    orderType: 'PATCH',
    amount: jsonNumber('20.00'),
  });

  it('a PATCH order is a separate payment on the original order, with serial and patchOrderNo', async () => {
    const h = createHarness();
    const res = await post(h, patch1);
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'cashy:PAYIN1000000000000000002:completed',
      type: 'payment.completed',
      orderId: 'MCH20230088',
      transactionId: 'PAYIN1000000000000000002',
      amount: '30.00',
      details: {
        orderType: 'PATCH',
        isPatch: true,
        mchOrderNo: 'MCH2023008800001',
        patchOrderNo: 'PAYIN1000000000000000001',
        serial: '00001',
      },
    });
  });

  it('the original and two PATCH orders on it are three distinct credits, each delivered once', async () => {
    const h = createHarness();
    for (const m of [original, patch1, patch2, patch1, original, patch2]) {
      const res = await post(h, m);
      expect(res.text).toBe('SUCCESS');
    }
    expect(
      h.events.map((e) => [e.id, e.orderId, e.amount, e.details?.isPatch, e.details?.serial]),
    ).toEqual([
      ['cashy:PAYIN1000000000000000001:completed', 'MCH20230088', '50.00', false, null],
      ['cashy:PAYIN1000000000000000002:completed', 'MCH20230088', '30.00', true, '00001'],
      ['cashy:PAYIN1000000000000000003:completed', 'MCH20230088', '20.00', true, '00002'],
    ]);
    expect(h.duplicates.map((e) => e.transactionId)).toEqual([
      'PAYIN1000000000000000002',
      'PAYIN1000000000000000001',
      'PAYIN1000000000000000003',
    ]);
  });
});

describe('Cashy payin webhook: authenticity', () => {
  it.each(['upper', 'lower'] as const)('a %s-case Sign is accepted', async (signCase) => {
    const h = createHarness();
    const message = payinWebhook({}, { signCase });
    expect(message.headers.Sign).toBe(
      signCase === 'upper'
        ? message.headers.Sign!.toUpperCase()
        : message.headers.Sign!.toLowerCase(),
    );
    const res = await post(h, message);
    expect(res.text).toBe('SUCCESS');
    expect(h.events).toHaveLength(1);
  });

  it('a body signed with another apiKey is refused with 401', async () => {
    await expectRefused(
      createHarness(),
      payinWebhook({}, { apiKey: OTHER_KEY }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a tampered amount under the original Sign is refused with 401', async () => {
    const genuine = payinWebhook();
    const forged = { ...genuine, body: genuine.body.replace('100.10', '900.10') };
    expect(forged.body).not.toBe(genuine.body);
    await expectRefused(createHarness(), forged, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a MerchantId header that is not ours is refused with 401 ERR_SENDER_UNKNOWN', async () => {
    // correctly signed with our key: only the merchant differs
    await expectRefused(
      createHarness(),
      payinWebhook({}, { merchantId: '100002' }),
      401,
      'ERR_SENDER_UNKNOWN',
    );
  });

  it('a body merchantId that is not ours is refused with 401 ERR_SENDER_UNKNOWN', async () => {
    await expectRefused(
      createHarness(),
      payinWebhook({ merchantId: '100002' }),
      401,
      'ERR_SENDER_UNKNOWN',
    );
  });

  it.each([{ names: ['Sign'] }, { names: ['MerchantId'] }, { names: ['Sign', 'MerchantId'] }])(
    'a delivery without the $names header(s) is refused with 401 ERR_SIGNATURE_MISSING',
    async ({ names }) => {
      const message = payinWebhook();
      const headers = { ...message.headers };
      for (const n of names) delete headers[n];
      const res = await expectRefused(
        createHarness(),
        { ...message, headers },
        401,
        'ERR_SIGNATURE_MISSING',
      );
      for (const n of names) expect(res.body.error.message).toContain(n);
    },
  );

  it('an empty Sign header counts as missing', async () => {
    const message = payinWebhook();
    await expectRefused(
      createHarness(),
      { ...message, headers: { ...message.headers, Sign: '' } },
      401,
      'ERR_SIGNATURE_MISSING',
    );
  });

  it('error answers never echo the Sign or the apiKey', async () => {
    const message = payinWebhook({}, { apiKey: OTHER_KEY });
    const res = await post(createHarness(), message);
    expect(res.status).toBe(401);
    expect(res.text.toLowerCase()).not.toContain(message.headers.Sign!.toLowerCase());
    expect(res.text).not.toContain(API_KEY);
  });
});

describe('Cashy payin webhook: raw bytes behind body parsers', () => {
  // The doc sample is pretty-printed with `10000.0`: any re-serialization changes its bytes.
  const sample = signed(DOC_SAMPLE_BODY);

  it('express.json() mounted first without a verify hook: 500 ERR_BODY_CONSUMED, no event', async () => {
    const h = createHarness({}, [express.json()]);
    const res = await post(h, sample);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('ERR_BODY_CONSUMED');
    expect(res.body.error.message).toMatch(/express\.json/);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('a parsed-then-re-serialized body presented as raw bytes fails the signature (401)', async () => {
    const reserialize: express.RequestHandler = (req, _res, next) => {
      (req as unknown as { rawBody: string }).rawBody = JSON.stringify(req.body);
      next();
    };
    const h = createHarness({}, [express.json(), reserialize]);
    await expectRefused(h, sample, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a re-serialized body posted with the original Sign fails (401)', async () => {
    const reserialized = JSON.stringify(JSON.parse(sample.body));
    expect(reserialized).not.toBe(sample.body);
    await expectRefused(
      createHarness(),
      { ...sample, body: reserialized },
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('express.json() with a verify hook that keeps the bytes works', async () => {
    const keep = express.json({
      verify: (req, _res, buf) => {
        (req as unknown as { rawBody: Buffer }).rawBody = buf;
      },
    });
    const h = createHarness(DOC_SAMPLE_MAX_AGE, [keep]);
    const res = await post(h, sample);
    expect(res.text).toBe('SUCCESS');
    expect(h.events.map((e) => e.amount)).toEqual(['10000.00']);
  });
});
