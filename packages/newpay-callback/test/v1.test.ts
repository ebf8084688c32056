import { jsonNumber, signRsaSha256 } from '@payhook/core/plugin';
import { flipLastDigit } from '@payhook/core/testing';
import { parseNewpayJson, type NewpayCallback } from '../src';
import {
  buildSignString,
  serializeBody,
  signNewpayParams,
  signV1Callback,
  withSign,
} from '../src/signing';
import {
  ACK_OK,
  ACK_RETRY,
  DOC_V1_TIMESTAMP,
  expectRefused,
  harness,
  keys,
  V1_TIME,
  v1Payment,
  v1Refund,
  vientiane,
} from './helpers';
import { normalizeCallback } from '../src/normalize';

const platform = keys.platform.privateKey;

describe('v1 payment callback', () => {
  it('occurredAt is the signed timestamp written in Asia/Vientiane (the doc sample, pinned)', () => {
    const body = signV1Callback(v1Payment({ timestamp: jsonNumber(DOC_V1_TIMESTAMP) }), platform);
    const raw = parseNewpayJson(body.body).lossless as unknown as NewpayCallback;
    const [draft] = normalizeCallback(raw, {
      timeZone: 'Asia/Vientiane',
      receivedAt: new Date(),
    }) as ReadonlyArray<{ occurredAt: string }>;
    // 1663738614280 ms = 2022-09-21T05:36:54.280Z, written in Asia/Vientiane (UTC+7).
    expect(draft!.occurredAt).toBe('2022-09-21T12:36:54.280+07:00');
  });

  it('transStatus 0 is payment.completed, acknowledged with {"transResult":"SUCCESS"}', async () => {
    const h = harness();
    const reply = await h.post(signV1Callback(v1Payment(), platform).body);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(ACK_OK);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'newpay:202209210000006950:completed',
      type: 'payment.completed',
      provider: 'newpay',
      orderId: '202209067002502223',
      transactionId: '202209210000006950',
      amount: '123.00',
      currency: 'LAK',
      occurredAt: vientiane(V1_TIME),
      verification: 'signature',
      details: { version: 'v1', transStatus: '0', payMethod: '1', settlementStatus: '1' },
    });
    expect(h.events[0]!.failure).toBeUndefined();
    // The raw payload keeps every number as its source text.
    expect(h.events[0]!.raw).toMatchObject({ appId: '6', transStatus: '0', orderAmt: '123.00' });
  });

  it('transStatus 1 is payment.failed carrying transInfo', async () => {
    const h = harness();
    const params = v1Payment({ transStatus: jsonNumber('1'), transInfo: 'Insufficient balance' });
    const reply = await h.post(signV1Callback(params, platform).body);
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'newpay:202209210000006950:failed',
      type: 'payment.failed',
      failure: { code: 'FAIL', message: 'Insufficient balance' },
    });
  });

  it('an unknown transStatus is acknowledged and reported as unhandled, not guessed', async () => {
    const h = harness();
    const reply = await h.post(
      signV1Callback(v1Payment({ transStatus: jsonNumber('2') }), platform).body,
    );
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(0);
    expect(h.unhandled[0]!.reason).toMatch(/unknown transStatus 2/);
  });

  it('a duplicate delivery is acknowledged and dispatched once (key: newpayOrderNo + outcome)', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment(), platform).body;
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    // A failure for the same order is another outcome, another key; the hub then supersedes it.
    const failed = signV1Callback(v1Payment({ transStatus: jsonNumber('1') }), platform).body;
    expect((await h.post(failed)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('a failing listener gets 500 {"transResult":"FAIL"} so NewPay retries', async () => {
    const h = harness();
    let calls = 0;
    h.hub.on('payment.completed', () => {
      calls++;
      if (calls === 1) throw new Error('database down');
    });
    const body = signV1Callback(v1Payment(), platform).body;
    const first = await h.post(body);
    expect(first.status).toBe(500);
    expect(first.text).toBe(ACK_RETRY);
    const second = await h.post(body);
    expect(second.status).toBe(200);
    expect(second.text).toBe(ACK_OK);
    expect(calls).toBe(2);
  });
});

describe('v1 refund callback: the status is inverted (1 = success)', () => {
  describe.each(['tranStatus', 'transStatus'] as const)('spelled %s', (field) => {
    it(`${field} 1 is payment.refunded`, async () => {
      const h = harness();
      const reply = await h.post(signV1Callback(v1Refund('1', field), platform).body);
      expect(reply.text).toBe(ACK_OK);
      expect(h.events).toHaveLength(1);
      expect(h.events[0]).toMatchObject({
        id: 'newpay:202209210000006950:refund:202209220000000711:refunded',
        type: 'payment.refunded',
        orderId: '202209067002502223',
        transactionId: '202209210000006950',
        amount: '23.00',
        currency: 'LAK',
        refund: { refundId: '202209220000000711', amount: '23.00' },
        details: { version: 'v1', statusField: field, merchantRefundNo: 'R202209220001' },
      });
    });

    it(`${field} 0 is a refused refund: acknowledged, unhandled, no payment event`, async () => {
      const h = harness();
      const reply = await h.post(signV1Callback(v1Refund('0', field), platform).body);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe(ACK_OK);
      expect(h.events).toHaveLength(0);
      expect(h.unhandled).toHaveLength(1);
      expect(h.unhandled[0]!.reason).toMatch(/refund 202209220000000711 .* failed/);
    });
  });

  it('pins the inversion: the same status value means opposite things in the two callbacks', async () => {
    const h = harness();
    await h.post(signV1Callback(v1Payment({ transStatus: jsonNumber('1') }), platform).body);
    await h.post(signV1Callback(v1Refund('1', 'transStatus'), platform).body);
    expect(h.events.map((e) => e.type)).toEqual(['payment.failed', 'payment.refunded']);
    const h0 = harness();
    await h0.post(signV1Callback(v1Payment({ transStatus: jsonNumber('0') }), platform).body);
    await h0.post(signV1Callback(v1Refund('0', 'transStatus'), platform).body);
    expect(h0.events.map((e) => e.type)).toEqual(['payment.completed']);
    expect(h0.unhandled).toHaveLength(1);
  });

  it('transStatus and tranStatus that disagree are refused with 400', async () => {
    const h = harness();
    const params = v1Refund('1', 'tranStatus', { transStatus: jsonNumber('0') });
    await expectRefused(h, signV1Callback(params, platform).body, 400, 'ERR_PAYLOAD_INVALID');
  });
});

describe('sign string readings', () => {
  it('a sign made with empty values kept verifies', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment(), platform, { emptyValues: 'keep' }).body;
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('a sign made with empty values dropped verifies', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment(), platform, { emptyValues: 'drop' }).body;
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('pinning emptyValues refuses the other reading', async () => {
    const h = harness({ emptyValues: 'keep' });
    const body = signV1Callback(v1Payment(), platform, { emptyValues: 'drop' }).body;
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('either reading still needs the platform key', async () => {
    for (const emptyValues of ['keep', 'drop'] as const) {
      const h = harness();
      const body = signV1Callback(v1Payment(), keys.stranger.privateKey, { emptyValues }).body;
      await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
    }
  });

  it('a sign over a differently-built string (URL-encoded values) fails closed', async () => {
    const h = harness();
    const params = v1Payment();
    const encoded = buildSignString(params).replace('Transaction Success', 'Transaction%20Success');
    const sign = signRsaSha256(encoded, platform);
    await expectRefused(h, serializeBody({ ...params, sign }), 401, 'ERR_SIGNATURE_INVALID');
  });
});

describe('number-vs-string fields: verified as received, normalized after', () => {
  it('appId, timestamp and transStatus as strings give the same signature and event', async () => {
    const asNumbers = v1Payment();
    const asStrings = v1Payment({
      appId: '6',
      timestamp: String(V1_TIME),
      transStatus: '0',
      payMethod: '1',
      settlementStatus: '1',
    });
    expect(signNewpayParams(asStrings, platform)).toBe(signNewpayParams(asNumbers, platform));
    const h = harness({ appId: '6' });
    // Signed as numbers, delivered as strings: the sign string is the same text.
    const sign = signNewpayParams(asNumbers, platform);
    const reply = await h.post(serializeBody({ ...asStrings, sign }));
    expect(reply.text).toBe(ACK_OK);
    expect(h.events[0]).toMatchObject({
      amount: '123.00',
      occurredAt: vientiane(V1_TIME),
    });
  });

  it('an amount sent as the JSON number 1.50 keeps its text: signed as "1.50", emitted as "1.50"', async () => {
    const h = harness();
    const params = v1Payment({ orderAmt: jsonNumber('1.50') });
    const body = signV1Callback(params, platform).body;
    expect(body).toContain('"orderAmt":1.50');
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events[0]!.amount).toBe('1.50');
  });

  it('a sign over "1.5" does not verify a body that says 1.50', async () => {
    const h = harness();
    const sign = signNewpayParams(v1Payment({ orderAmt: '1.5' }), platform);
    const body = serializeBody({ ...v1Payment({ orderAmt: jsonNumber('1.50') }), sign });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });
});

describe('refused v1 deliveries change nothing', () => {
  it('reordered JSON keys still verify (the sign string is canonical)', async () => {
    const h = harness();
    const reversed = signV1Callback(v1Payment(), platform, { keyOrder: 'reversed' }).body;
    const sorted = signV1Callback(v1Payment(), platform, { keyOrder: 'sorted' }).body;
    expect(reversed).not.toBe(sorted);
    expect((await h.post(reversed)).text).toBe(ACK_OK);
    expect((await h.post(sorted)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('a tampered amount is 401', async () => {
    const h = harness();
    const signed = withSign(v1Payment(), platform);
    await expectRefused(
      h,
      serializeBody({ ...signed, orderAmt: '1230.00' }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a tampered status (failure turned into success) is 401', async () => {
    const h = harness();
    const signed = withSign(v1Payment({ transStatus: jsonNumber('1') }), platform);
    const body = serializeBody({ ...signed, transStatus: jsonNumber('0') });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a tampered timestamp digit is 401', async () => {
    const h = harness();
    const body = flipLastDigit({ body: signV1Callback(v1Payment(), platform).body }).body as string;
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('an added parameter is 401', async () => {
    const h = harness();
    const signed = withSign(v1Payment(), platform);
    await expectRefused(h, serializeBody({ ...signed, bonus: '1' }), 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a missing sign is 401 ERR_SIGNATURE_MISSING', async () => {
    // A hub each: every refusal is reported once on its own `error` channel.
    await expectRefused(harness(), serializeBody(v1Payment()), 401, 'ERR_SIGNATURE_MISSING');
    await expectRefused(
      harness(),
      serializeBody({ ...v1Payment(), sign: '' }),
      401,
      'ERR_SIGNATURE_MISSING',
    );
  });

  it('a sign that is not Base64 text is 401', async () => {
    // A hub each: every refusal is reported once on its own `error` channel.
    await expectRefused(
      harness(),
      serializeBody({ ...v1Payment(), sign: jsonNumber('12') }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
    await expectRefused(
      harness(),
      serializeBody({ ...v1Payment(), sign: 'not base64 !' }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a signature by another key is 401', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment(), keys.stranger.privateKey).body;
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a genuine callback for another appId is 401 ERR_SENDER_UNKNOWN', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment({ appId: jsonNumber('7') }), platform).body;
    await expectRefused(h, body, 401, 'ERR_SENDER_UNKNOWN');
    expect(h.errors.map((e) => e.code)).toEqual(['ERR_SENDER_UNKNOWN']);
  });

  it('a genuine callback without appId is 401 ERR_SENDER_UNKNOWN', async () => {
    const h = harness();
    const params = { ...v1Payment() };
    delete (params as Record<string, unknown>).appId;
    await expectRefused(h, signV1Callback(params, platform).body, 401, 'ERR_SENDER_UNKNOWN');
  });

  it('a genuine callback with a non-decimal amount is 400 naming the field', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment({ orderAmt: '12,00' }), platform).body;
    const reply = await h.post(body);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.fields).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/orderAmt' })]),
    );
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('a genuine callback with an unreadable timestamp is 400', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment({ timestamp: 'yesterday' }), platform).body;
    await expectRefused(h, body, 400, 'ERR_PAYLOAD_INVALID');
  });

  it('malformed JSON is 400', async () => {
    // A hub each: every refusal is reported once on its own `error` channel.
    await expectRefused(harness(), '{"appId":6,"sign":', 400, 'ERR_PAYLOAD_MALFORMED');
    await expectRefused(harness(), '"just a string"', 400, 'ERR_PAYLOAD_MALFORMED');
  });

  it('a body that is not JSON content is 415', async () => {
    const h = harness();
    const reply = await h.post(signV1Callback(v1Payment(), platform).body, 'text/plain');
    expect(reply.status).toBe(415);
    expect(h.events).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('an oversized body is 413 before any verification', async () => {
    const h = harness();
    const body = signV1Callback(v1Payment({ extra: 'x'.repeat(70 * 1024) }), platform).body;
    await expectRefused(h, body, 413, 'ERR_PAYLOAD_TOO_LARGE');
  });
});
