import { jsonNumber, signRsaSha256 } from '@payhook/core/plugin';
import {
  buildSignString,
  serializeBody,
  signNewpayParams,
  signV2Callback,
  withSign,
  type SignParams,
} from '../src/signing';
import {
  ACK_OK,
  expectRefused,
  harness,
  keys,
  V2_ENVELOPE_TIME,
  V2_PAYTIME,
  v2Payment,
  v2Refund,
  vientiane,
} from './helpers';

const platform = keys.platform.privateKey;
const deliver = (data: SignParams, options: Parameters<typeof signV2Callback>[3] = {}): string =>
  signV2Callback(data, platform, { timestamp: V2_ENVELOPE_TIME }, options).body;
const envelope = (data: SignParams): string =>
  serializeBody({
    success: true,
    message: 'success',
    code: '200',
    timestamp: V2_ENVELOPE_TIME,
    data,
  });

describe('v2 payment callback (payStatus)', () => {
  it('SUCCESS is payment.completed, occurredAt from the signed paytime', async () => {
    const h = harness();
    const reply = await h.post(deliver(v2Payment()));
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'newpay:NP20250102000000123:completed',
      type: 'payment.completed',
      orderId: 'M20250102001',
      transactionId: 'NP20250102000000123',
      amount: '15000.00',
      currency: 'LAK',
      occurredAt: vientiane(V2_PAYTIME),
      verification: 'signature',
      details: { version: 'v2', payStatus: 'SUCCESS', orderType: 'ONLINE', payMethod: '11' },
    });
  });

  it.each(['FAIL', 'EXPIRED'])('%s is payment.failed', async (payStatus) => {
    const h = harness();
    const data = v2Payment({ payStatus, paytime: undefined });
    const reply = await h.post(deliver(data));
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'newpay:NP20250102000000123:failed',
      type: 'payment.failed',
      failure: { code: payStatus },
    });
    // No paytime, and the envelope timestamp is not signed: the time it was received.
    expect(h.events[0]!.occurredAt).toBe(vientiane(Date.parse(h.events[0]!.receivedAt)));
  });

  it('PROCESSING is not final: acknowledged, no event, store untouched', async () => {
    const h = harness();
    const reply = await h.post(deliver(v2Payment({ payStatus: 'PROCESSING' })));
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(0);
    expect(h.unhandled).toHaveLength(0);
    expect(h.store.calls.claim).toBe(0);
  });

  it('an unknown payStatus is acknowledged as unhandled', async () => {
    const h = harness();
    const reply = await h.post(deliver(v2Payment({ payStatus: 'CLOSED' })));
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(0);
    expect(h.unhandled[0]!.reason).toMatch(/unknown payStatus CLOSED/);
  });

  it('appId as the number 6 or the string "6" verifies (value as received)', async () => {
    const h = harness();
    await h.post(deliver(v2Payment({ appId: jsonNumber('6'), paytime: String(V2_PAYTIME) })));
    expect(h.events).toHaveLength(1);
    expect(h.events[0]!.occurredAt).toBe(vientiane(V2_PAYTIME));
  });
});

describe('v2 refund callback (refundStatus)', () => {
  it('SUCCESS is payment.refunded keyed by newpayOrderNo + refund number', async () => {
    const h = harness();
    const reply = await h.post(deliver(v2Refund()));
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      id: 'newpay:NP20250102000000123:refund:NPR20250103000000009:refunded',
      type: 'payment.refunded',
      orderId: 'M20250102001',
      transactionId: 'NP20250102000000123',
      amount: '5000.00',
      currency: 'LAK',
      refund: { refundId: 'NPR20250103000000009', amount: '5000.00' },
      details: { version: 'v2', merchantRefundNo: 'MR20250103001', originalAmount: '15000.00' },
    });
  });

  it('two partial refunds of one order are two events', async () => {
    const h = harness();
    await h.post(deliver(v2Refund()));
    await h.post(deliver(v2Refund({ newpayRefundNo: 'NPR2', mchRefundNo: 'MR2' })));
    expect(h.events.map((e) => e.id)).toEqual([
      'newpay:NP20250102000000123:refund:NPR20250103000000009:refunded',
      'newpay:NP20250102000000123:refund:NPR2:refunded',
    ]);
  });

  it('PROCESSING is acknowledged with no event; FAIL is unhandled', async () => {
    const h = harness();
    expect((await h.post(deliver(v2Refund({ refundStatus: 'PROCESSING' })))).text).toBe(ACK_OK);
    expect(h.unhandled).toHaveLength(0);
    expect((await h.post(deliver(v2Refund({ refundStatus: 'FAIL' })))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(0);
    expect(h.unhandled).toHaveLength(1);
    expect(h.unhandled[0]!.reason).toMatch(/refund NPR20250103000000009 .* failed/);
  });
});

describe('v2 nested objects in the sign string (assumed: compact JSON)', () => {
  it('a sign over compact JSON with sorted keys verifies', async () => {
    const h = harness();
    await h.post(deliver(v2Payment(), { nestedKeys: 'sorted' }));
    expect(h.events).toHaveLength(1);
  });

  it('a sign over compact JSON in the order written verifies', async () => {
    const h = harness();
    await h.post(deliver(v2Payment(), { nestedKeys: 'received' }));
    expect(h.events).toHaveLength(1);
  });

  it('reordered keys, nested ones included, verify under the sorted reading', async () => {
    const h = harness();
    const data = v2Payment();
    const sign = signNewpayParams(data, platform, { nestedKeys: 'sorted' });
    const reordered = Object.fromEntries(
      Object.entries({ ...data, sign, orderAmt: { currency: 'LAK', value: '15000.00' } }).reverse(),
    );
    expect((await h.post(envelope(reordered))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('a wrong guess fails closed: a sign over flattened keys is 401', async () => {
    const h = harness();
    const data = v2Payment();
    const flat = buildSignString({
      ...data,
      orderAmt: undefined,
      'orderAmt.currency': 'LAK',
      'orderAmt.value': '15000.00',
    });
    const body = envelope({ ...data, sign: signRsaSha256(flat, platform) });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a wrong guess fails closed: a sign that skips the object is 401', async () => {
    const h = harness();
    const data = v2Payment();
    const skipped = buildSignString({ ...data, orderAmt: undefined });
    const body = envelope({ ...data, sign: signRsaSha256(skipped, platform) });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('nestedKeys "sorted" refuses a sign made in written order', async () => {
    const h = harness({ nestedKeys: 'sorted' });
    await expectRefused(
      h,
      deliver(v2Payment(), { nestedKeys: 'received' }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a nested amount changed from "15000.00" to 15000.00 no longer verifies', async () => {
    const h = harness();
    const signed = withSign(v2Payment(), platform);
    const body = envelope({
      ...signed,
      orderAmt: { value: jsonNumber('15000.00'), currency: 'LAK' },
    });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });
});

describe('refused v2 deliveries change nothing', () => {
  it('a tampered nested amount is 401', async () => {
    const h = harness();
    const signed = withSign(v2Payment(), platform);
    const body = envelope({ ...signed, orderAmt: { value: '1.00', currency: 'LAK' } });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_INVALID');
  });

  it('a tampered payStatus is 401', async () => {
    const h = harness();
    const signed = withSign(v2Payment({ payStatus: 'FAIL' }), platform);
    await expectRefused(
      h,
      envelope({ ...signed, payStatus: 'SUCCESS' }),
      401,
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('a sign outside data (at the envelope) counts as missing', async () => {
    const h = harness();
    const sign = signNewpayParams(v2Payment(), platform);
    const body = serializeBody({
      success: true,
      timestamp: V2_ENVELOPE_TIME,
      data: v2Payment(),
      sign,
    });
    await expectRefused(h, body, 401, 'ERR_SIGNATURE_MISSING');
  });

  it('a genuine callback for another appId is 401 ERR_SENDER_UNKNOWN', async () => {
    const h = harness();
    await expectRefused(h, deliver(v2Payment({ appId: '7' })), 401, 'ERR_SENDER_UNKNOWN');
  });

  it('a genuine callback without the envelope timestamp is 400', async () => {
    const h = harness();
    const body = serializeBody({ success: true, data: withSign(v2Payment(), platform) });
    await expectRefused(h, body, 400, 'ERR_PAYLOAD_INVALID');
  });

  it('a genuine refund without any refund number is 400', async () => {
    const h = harness();
    const data = v2Refund({ newpayRefundNo: undefined, mchRefundNo: undefined });
    await expectRefused(h, deliver(data), 400, 'ERR_PAYLOAD_INVALID');
  });
});
