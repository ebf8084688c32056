import express from 'express';
import { validatePaymentEvent } from '@payhook/core/plugin';
import { buildNotification } from '../src/signing';
import {
  CREATE_TIME,
  OK_BODY,
  RETURN_AT_PH,
  createHarness,
  expectRefused,
  freshDocParam,
  paymentParam,
  payoutParam,
  platform,
  post,
  refundParam,
  signed,
  stranger,
  wallTime,
  type Harness,
} from './helpers';

/** A delivery the platform would send and that must produce nothing: ack, no event, no store use. */
async function expectAckedWithoutEvent(h: Harness, body: string) {
  const res = await post(h, body);
  expect(res.status).toBe(200);
  expect(res.text).toBe(OK_BODY);
  expect(h.events).toHaveLength(0);
  expect(h.store.calls.claim).toBe(0);
  return res;
}

describe('payment families and statuses', () => {
  const families = ['order.payment', 'static.order.payment', 'qrcode.payment'];

  describe.each(families)('%s.*', (family) => {
    it.each(['COMPLETED', 'COMPLETE'])(
      `${family}.success with %s emits payment.completed keyed on eventName + transactionId`,
      async (status) => {
        const h = createHarness();
        const res = await post(
          h,
          signed(paymentParam({ eventName: `${family}.success`, transactionStatus: status })).body,
        );
        expect(res.status).toBe(200);
        expect(res.text).toBe(OK_BODY);
        expect(h.events).toHaveLength(1);
        const event = h.events[0]!;
        expect(event).toMatchObject({
          id: `signed-param:${family}.success:C1032653961085706055`,
          type: 'payment.completed',
          provider: 'signed-param',
          orderId: 'Platform653350151938813',
          transactionId: 'C1032653961085706055',
          amount: '500.10',
          currency: 'PHP',
          occurredAt: RETURN_AT_PH,
          verification: 'signature',
        });
        expect(event.details).toMatchObject({ eventName: `${family}.success`, country: 'PH' });
        expect(event.failure).toBeUndefined();
        expect(validatePaymentEvent(event)).toBe(true);
      },
    );

    it(`${family}.failed with FAILED emits payment.failed with failedCode / failedMessage`, async () => {
      const h = createHarness();
      const res = await post(
        h,
        signed(
          paymentParam({
            eventName: `${family}.failed`,
            transactionStatus: 'FAILED',
            failedCode: -10004,
            failedMessage: 'Channel Rejected',
          }),
        ).body,
      );
      expect(res.text).toBe(OK_BODY);
      expect(h.events).toHaveLength(1);
      expect(h.events[0]).toMatchObject({
        id: `signed-param:${family}.failed:C1032653961085706055`,
        type: 'payment.failed',
        amount: '500.10',
        failure: { code: '-10004', message: 'Channel Rejected' },
      });
      expect(validatePaymentEvent(h.events[0])).toBe(true);
    });

    it.each(['success', 'failed'])(
      `${family}.%s with PENDING is acknowledged and emits nothing`,
      async (kind) => {
        const h = createHarness();
        await expectAckedWithoutEvent(
          h,
          signed(paymentParam({ eventName: `${family}.${kind}`, transactionStatus: 'PENDING' }))
            .body,
        );
        expect(h.unhandled).toHaveLength(0);
      },
    );
  });

  it('refuses an event name that contradicts transactionStatus (success + FAILED) with 400', async () => {
    const h = createHarness();
    const res = await expectRefused(
      h,
      signed(paymentParam({ transactionStatus: 'FAILED' })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
    expect(res.text).toContain('contradicts');
  });

  it('refuses a failure event whose status says COMPLETED with 400', async () => {
    const h = createHarness();
    await expectRefused(
      h,
      signed(paymentParam({ eventName: 'qrcode.payment.failed' })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
  });

  it('refuses an unknown transactionStatus with 400', async () => {
    const h = createHarness();
    const res = await expectRefused(
      h,
      signed(paymentParam({ transactionStatus: 'EXPIRED' })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
    expect(res.text).toContain('transactionStatus');
  });

  it('refuses a payment param without transactionId (schema) with 400 naming the field', async () => {
    const h = createHarness();
    const res = await expectRefused(
      h,
      signed(paymentParam({ transactionId: undefined })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
    expect(JSON.parse(res.text).error.fields).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/transactionId' })]),
    );
  });

  it('keys on transactionId: a static code paid twice under one mchOrderId gives two events', async () => {
    const h = createHarness();
    const first = signed(
      paymentParam({ eventName: 'static.order.payment.success', transactionId: 'C1' }),
    ).body;
    const second = signed(
      paymentParam({ eventName: 'static.order.payment.success', transactionId: 'C2' }),
    ).body;
    for (const body of [first, second, first]) expect((await post(h, body)).text).toBe(OK_BODY);
    expect(h.events.map((e) => e.id)).toEqual([
      'signed-param:static.order.payment.success:C1',
      'signed-param:static.order.payment.success:C2',
    ]);
    expect(h.events.map((e) => e.orderId)).toEqual([
      'Platform653350151938813',
      'Platform653350151938813',
    ]);
  });

  it('ignores the stray sign inside param (the doc example, with fresh times) and reads it', async () => {
    const h = createHarness();
    const res = await post(h, signed(freshDocParam()).body);
    expect(res.text).toBe(OK_BODY);
    expect(h.events[0]).toMatchObject({ amount: '50000', currency: 'IDR' });
    expect((h.events[0]!.raw as Record<string, unknown>).amount).toBe('50000');
  });
});

describe('amounts and currencies', () => {
  it.each([
    [
      'IDR whole rupiah from an ID_ channel',
      { channelCode: 'ID_BCA_VA', amount: 50000 },
      '50000',
      'IDR',
    ],
    [
      'PHP cents from a PH_ channel',
      { channelCode: 'PH_QRPH_DYNAMIC', amount: 50010 },
      '500.10',
      'PHP',
    ],
    [
      'an explicit currency wins (MYR cents)',
      { channelCode: 'FPX', currency: 'MYR', amount: 199 },
      '1.99',
      'MYR',
    ],
    [
      'IDR from the currency field alone',
      { channelCode: 'BCA', currency: 'IDR', amount: 10000 },
      '10000',
      'IDR',
    ],
    [
      'countryCode TH → THB cents',
      { channelCode: 'PROMPTPAY', countryCode: 'TH', amount: 5 },
      '0.05',
      'THB',
    ],
  ])('%s', async (_name, fields, amount, currency) => {
    const h = createHarness();
    await post(h, signed(paymentParam(fields)).body);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({ amount, currency });
  });

  it('falls back to the country option when the notification names no country', async () => {
    const h = createHarness({ country: 'ID' });
    await post(h, signed(paymentParam({ channelCode: 'BCA_VA', amount: 75000 })).body);
    expect(h.events[0]).toMatchObject({ amount: '75000', currency: 'IDR' });
  });

  it('converts amounts beyond 2^53 exactly, never through a float', async () => {
    const h = createHarness();
    // Written by hand: JSON.stringify cannot write a number this large exactly.
    const param = freshDocParam()
      .replace('"amount":50000', '"amount":12345678901234567891')
      .replace('ID_BCA_VA', 'PH_GCASH');
    await post(h, signed(param).body);
    expect(h.events[0]!.amount).toBe('123456789012345678.91');
  });

  it('refuses a decimal amount (the platform sends integers) with 400', async () => {
    const h = createHarness();
    await expectRefused(
      h,
      signed(paymentParam({ amount: 500.1 })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
  });

  it('reads a payment naming no currency, country or prefixed channel in the country option (required)', async () => {
    // Before `country` was required this was a 500 at runtime; now it cannot be left out.
    const h = createHarness({ country: 'MY' });
    const res = await post(h, signed(paymentParam({ channelCode: 'GCASH', amount: 199 })).body);
    expect(res.text).toBe(OK_BODY);
    expect(h.events[0]).toMatchObject({ amount: '1.99', currency: 'MYR' });
  });
});

describe('times', () => {
  // One wall time three hours ago on a Jakarta clock: read in Jakarta (+07:00) or Manila (+08:00),
  // it is within the default maximum age either way.
  const wall = wallTime(3 * 3_600_000, 'Asia/Jakarta');
  const iso = wall.replace(' ', 'T');

  it('reads yyyy-MM-dd HH:mm:ss in the country zone (ID → +07:00, PH → +08:00)', async () => {
    const h = createHarness();
    const at = { returnTime: wall, createTime: wall };
    await post(
      h,
      signed(paymentParam({ ...at, channelCode: 'ID_BCA_VA', transactionId: 'A' })).body,
    );
    await post(
      h,
      signed(paymentParam({ ...at, channelCode: 'PH_GCASH', transactionId: 'B' })).body,
    );
    expect(h.events.map((e) => e.occurredAt)).toEqual([`${iso}+07:00`, `${iso}+08:00`]);
  });

  it('keeps an ISO 8601 time with its offset as written', async () => {
    const h = createHarness();
    const returnTime = `${iso}+05:30`;
    await post(h, signed(paymentParam({ returnTime, channelCode: 'ID_BCA_VA' })).body);
    expect(h.events[0]!.occurredAt).toBe(returnTime);
  });

  it('takes the zone from the timeZones option', async () => {
    const h = createHarness({ timeZones: { ID: 'Asia/Makassar' } });
    await post(
      h,
      signed(paymentParam({ returnTime: wall, createTime: wall, channelCode: 'ID_BCA_VA' })).body,
    );
    expect(h.events[0]!.occurredAt).toBe(`${iso}+08:00`);
  });

  it('uses createTime when returnTime is empty', async () => {
    const h = createHarness();
    await post(h, signed(paymentParam({ returnTime: '' })).body);
    expect(h.events[0]!.occurredAt).toBe(`${CREATE_TIME.replace(' ', 'T')}+08:00`);
  });

  it('refuses an unreadable time with 400 naming the field', async () => {
    const h = createHarness();
    const res = await expectRefused(
      h,
      signed(paymentParam({ returnTime: '01/13/2023 09:40' })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
    expect(res.text).toContain('returnTime');
  });
});

describe('refunds', () => {
  it('payment.refund.success emits payment.refunded with the refund id and the partial amount', async () => {
    const h = createHarness({ country: 'PH' });
    const res = await post(h, signed(refundParam()).body);
    expect(res.text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
    const event = h.events[0]!;
    expect(event).toMatchObject({
      id: 'signed-param:payment.refund.success:R1032653961085700001',
      type: 'payment.refunded',
      transactionId: 'C1032653961085706055',
      orderId: null,
      amount: '25.00',
      currency: 'PHP',
      occurredAt: RETURN_AT_PH,
      refund: { refundId: 'R1032653961085700001', amount: '25.00' },
    });
    expect(event.details).toMatchObject({
      mchRefundOrderId: 'RF20230101000001',
      feeRefunded: '0.00',
      refundReason: 'customer request',
    });
    expect(validatePaymentEvent(event)).toBe(true);
  });

  it('two partial refunds of one payment are two events; IDR refunds are whole rupiah', async () => {
    const h = createHarness({ country: 'ID' });
    await post(h, signed(refundParam({ refundTransactionId: 'R1', refundAmount: 10000 })).body);
    await post(h, signed(refundParam({ refundTransactionId: 'R2', refundAmount: 5000 })).body);
    expect(h.events.map((e) => [e.refund?.refundId, e.amount, e.currency])).toEqual([
      ['R1', '10000', 'IDR'],
      ['R2', '5000', 'IDR'],
    ]);
  });

  it.each(['payment.refund.failed', 'payment.refund.cancel'])(
    '%s is acknowledged and emitted on unhandled',
    async (eventName) => {
      const h = createHarness({ country: 'PH' });
      await expectAckedWithoutEvent(
        h,
        signed(refundParam({ eventName, refundStatus: 'FAILED', failedCode: -10000 })).body,
      );
      expect(h.unhandled).toHaveLength(1);
      expect(h.unhandled[0]!.reason).toContain(eventName);
    },
  );

  it('payment.refund.success carrying refundStatus FAILED (legacy example) is unhandled, not a refund', async () => {
    const h = createHarness({ country: 'PH' });
    await expectAckedWithoutEvent(h, signed(refundParam({ refundStatus: 'FAILED' })).body);
    expect(h.unhandled).toHaveLength(1);
  });

  it('refuses an unreadable refund time with 400 naming refundReturnTime', async () => {
    const h = createHarness({ country: 'PH' });
    const res = await expectRefused(
      h,
      signed(refundParam({ refundReturnTime: 'yesterday' })).body,
      400,
      'ERR_PAYLOAD_INVALID',
    );
    expect(res.text).toContain('refundReturnTime');
  });

  it('a PENDING refund is acknowledged and emits nothing', async () => {
    const h = createHarness({ country: 'PH' });
    await expectAckedWithoutEvent(h, signed(refundParam({ refundStatus: 'PENDING' })).body);
    expect(h.unhandled).toHaveLength(0);
  });
});

describe('not payment events', () => {
  it.each([
    ['a payout (disbursement.success)', payoutParam()],
    [
      'a failed payout',
      payoutParam({ eventName: 'disbursement.failed', transactionStatus: 'FAILED' }),
    ],
    ['a settlement', { eventName: 'settle.payment.success', amount: 1 }],
    ['an unknown event name', { eventName: 'ticket.status.closed', ticketId: 'T1' }],
    ['a name that is an Object.prototype key', { eventName: 'constructor' }],
  ])('%s is acknowledged and emitted on unhandled with its payload', async (_name, param) => {
    const h = createHarness();
    await expectAckedWithoutEvent(h, signed(param).body);
    expect(h.unhandled).toHaveLength(1);
    expect(h.unhandled[0]!.provider).toBe('signed-param');
    expect((h.unhandled[0]!.raw as { eventName: string }).eventName).toBe(param.eventName);
  });
});

describe('authenticity', () => {
  const genuine = () => signed(paymentParam());

  it('refuses a param changed by one byte with 401', async () => {
    const n = genuine();
    const tampered = n.param.replace('"amount":50010', '"amount":50011');
    expect(tampered).not.toBe(n.param);
    await expectRefused(
      createHarness(),
      JSON.stringify({ sign: n.sign, param: tampered }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('refuses a re-serialized param (same JSON, different spacing) with 401', async () => {
    const n = genuine();
    const respaced = JSON.stringify(JSON.parse(n.param), null, 1);
    expect(JSON.parse(respaced)).toEqual(JSON.parse(n.param));
    await expectRefused(
      createHarness(),
      JSON.stringify({ sign: n.sign, param: respaced }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('refuses a param sent as a parsed object instead of the signed text with 400', async () => {
    const n = genuine();
    await expectRefused(
      createHarness(),
      JSON.stringify({ sign: n.sign, param: JSON.parse(n.param) }),
      400,
      'ERR_PAYLOAD_MALFORMED',
    );
  });

  it('refuses a delivery signed with another key with 401', async () => {
    await expectRefused(
      createHarness(),
      signed(paymentParam(), stranger.privateKey).body,
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it.each([
    ['absent', (n: { param: string }) => JSON.stringify({ param: n.param })],
    ['empty', (n: { param: string }) => JSON.stringify({ param: n.param, sign: '' })],
    ['null', (n: { param: string }) => JSON.stringify({ param: n.param, sign: null })],
  ])('refuses a missing sign (%s) with 401', async (_name, build) => {
    await expectRefused(createHarness(), build(genuine()), 401, 'ERR_SIGNATURE_MISSING');
  });

  it('refuses a sign that is not Base64 or not a string with 401', async () => {
    const n = genuine();
    await expectRefused(
      createHarness(),
      JSON.stringify({ param: n.param, sign: 'not base64 !!' }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
    await expectRefused(
      createHarness(),
      JSON.stringify({ param: n.param, sign: 12345 }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('refuses a signed non-JSON param with 400', async () => {
    await expectRefused(
      createHarness(),
      signed('not json at all').body,
      400,
      'ERR_PAYLOAD_MALFORMED',
    );
  });

  it('refuses a signed param that is JSON but not an object with 400', async () => {
    await expectRefused(createHarness(), signed('[1,2,3]').body, 400, 'ERR_PAYLOAD_MALFORMED');
  });

  it('refuses a body that is not JSON, or has no param, with 400', async () => {
    await expectRefused(createHarness(), 'param=x&sign=y', 400, 'ERR_PAYLOAD_MALFORMED');
    await expectRefused(
      createHarness(),
      JSON.stringify({ sign: genuine().sign }),
      400,
      'ERR_PAYLOAD_MALFORMED',
    );
  });

  it('accepts an outer body whose param string is written with JSON escapes (the string as sent is unchanged)', async () => {
    const h = createHarness();
    const n = signed(paymentParam({ remark: 'pagbabayad — salamat' }));
    // Escape every non-ASCII character and "/" the way some JSON writers do.
    const escaped = JSON.stringify({ sign: n.sign, param: n.param })
      .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(/\//g, '\\/');
    expect(escaped).not.toContain('—');
    const res = await post(h, escaped);
    expect(res.text).toBe(OK_BODY);
    expect(h.events[0]!.details).toMatchObject({ remark: 'pagbabayad — salamat' });
  });

  it('accepts the doc layout (pretty outer body, sign first) and a charset in the content type', async () => {
    const h = createHarness();
    const n = buildNotification(paymentParam(), platform.privateKey, { pretty: true });
    expect(n.body).toContain('\n    "sign": ');
    const res = await post(h, n.body, 'application/json;charset=UTF-8');
    expect(res.text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
  });

  it('a replayed genuine notification is acknowledged and not dispatched again', async () => {
    const h = createHarness();
    const body = genuine().body;
    await post(h, body);
    const again = await post(h, body);
    expect(again.text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
  });

  it('refuses an oversized body with 413 before verifying anything', async () => {
    const h = createHarness({ limit: 1024 });
    const body = signed(paymentParam({ remark: 'x'.repeat(2048) })).body;
    const res = await post(h, body);
    expect(res.status).toBe(413);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('works behind express.json() when the raw bytes are kept', async () => {
    const h = createHarness({}, (app, middleware) => {
      app.use(
        express.json({
          verify: (req, _res, buf) => {
            (req as unknown as { rawBody: Buffer }).rawBody = buf;
          },
        }),
      );
      app.use('/webhooks/platform', middleware);
    });
    const res = await post(h, genuine().body);
    expect(res.text).toBe(OK_BODY);
    expect(h.events).toHaveLength(1);
  });
});
