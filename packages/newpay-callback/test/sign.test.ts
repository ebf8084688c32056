import { JsonNumber, jsonNumber, verifyRsaSha256 } from '@payhook/core/plugin';
import { parseNewpayJson } from '../src';
import {
  buildSignString,
  serializeBody,
  signStringCandidates,
  signUniQueryPayRequest,
  signV1Callback,
  signV2Callback,
  toCompactJson,
} from '../src/signing';
import { DOC_V1_TIMESTAMP, keys, v1Payment as fixture, v2Payment } from './helpers';

/** The doc sample exactly, its timestamp included (the fixtures carry a recent one). */
const v1Payment = (overrides: Parameters<typeof fixture>[0] = {}) =>
  fixture({ timestamp: jsonNumber(DOC_V1_TIMESTAMP), ...overrides });

// string1 of the v1 doc sample (https://pre-lnp-openapi.newpay.la/5-result-callback.html), built by
// the rule of NewPay "8. Signature and verification": keys sorted, `sign` left out, `extra=` kept.
const DOC_STRING1 =
  'appId=6&currency=LAK&extra=&newpayOrderNo=202209210000006950&orderAmt=123.00&orderNo=202209067002502223' +
  '&payMethod=1&settlementStatus=1&subject=1&timestamp=1663738614280&transInfo=Transaction Success&transStatus=0';

describe('buildSignString', () => {
  it('reproduces the documented string1 of the v1 sample (empty values kept)', () => {
    expect(buildSignString(v1Payment())).toBe(DOC_STRING1);
    expect(buildSignString(v1Payment(), { emptyValues: 'keep' })).toBe(DOC_STRING1);
  });

  it('drops "" values under the other reading, and null values under both', () => {
    expect(buildSignString(v1Payment(), { emptyValues: 'drop' })).toBe(
      DOC_STRING1.replace('extra=&', ''),
    );
    const withNull = v1Payment({ subject: null });
    expect(buildSignString(withNull)).not.toContain('subject');
    expect(buildSignString(withNull, { emptyValues: 'drop' })).not.toContain('subject');
  });

  it('leaves sign out and does not depend on the order of the keys', () => {
    const params = v1Payment({ sign: 'abc' });
    const reversed = Object.fromEntries(Object.entries(params).reverse());
    expect(buildSignString(reversed)).toBe(DOC_STRING1);
  });

  it('writes numbers and strings with the same text, keeping number text exactly', () => {
    const asNumbers = buildSignString({ appId: jsonNumber('6'), amt: jsonNumber('1.50') });
    const asStrings = buildSignString({ appId: '6', amt: '1.50' });
    expect(asNumbers).toBe('amt=1.50&appId=6');
    expect(asStrings).toBe(asNumbers);
    // A plain JS number can only say 1.5: the reason JsonNumber exists.
    expect(buildSignString({ amt: 1.5, ok: true })).toBe('amt=1.5&ok=true');
  });

  it('writes a nested object as compact JSON, keys sorted or as received', () => {
    const data = v2Payment();
    expect(buildSignString(data)).toContain('&orderAmt={"currency":"LAK","value":"15000.00"}&');
    expect(buildSignString(data, { nestedKeys: 'received' })).toContain(
      '&orderAmt={"value":"15000.00","currency":"LAK"}&',
    );
    expect(toCompactJson({ b: jsonNumber('1.50'), a: ['x', null, true] })).toBe(
      '{"a":["x",null,true],"b":1.50}',
    );
  });

  it('lists each distinct reading once', () => {
    expect(signStringCandidates({ a: '1', b: jsonNumber('2') })).toHaveLength(1);
    expect(signStringCandidates(v1Payment())).toHaveLength(2);
    expect(signStringCandidates(v2Payment())).toHaveLength(4);
    expect(
      signStringCandidates(v2Payment(), { emptyValues: 'keep', nestedKeys: 'sorted' }),
    ).toEqual([buildSignString(v2Payment())]);
  });

  it('refuses text that is not a JSON number', () => {
    expect(() => new JsonNumber('1,50')).toThrow(/not JSON number text/);
    expect(() => jsonNumber('NaN')).toThrow(TypeError);
  });
});

describe('signed deliveries', () => {
  it('a v1 callback carries a SHA256withRSA sign over string1, whatever the key order', () => {
    const a = signV1Callback(v1Payment(), keys.platform.privateKey);
    const b = signV1Callback(v1Payment(), keys.platform.privateKey, { keyOrder: 'reversed' });
    expect(a.body).not.toBe(b.body);
    const signA = JSON.parse(a.body).sign;
    expect(JSON.parse(b.body).sign).toBe(signA);
    expect(verifyRsaSha256(DOC_STRING1, signA, keys.platform.publicKey)).toBe(true);
    expect(a.headers['content-type']).toBe('application/json');
    // Numbers stay JSON numbers in the body.
    expect(a.body).toContain('"appId":6,');
    expect(a.body).toContain('"timestamp":1663738614280');
  });

  it('a v2 callback has sign inside data and an unsigned envelope', () => {
    const delivery = signV2Callback(v2Payment(), keys.platform.privateKey, {
      timestamp: jsonNumber('1735873200000'),
    });
    const body = JSON.parse(delivery.body);
    expect(Object.keys(body)).toEqual(['success', 'message', 'code', 'timestamp', 'data']);
    expect(body.sign).toBeUndefined();
    expect(
      verifyRsaSha256(buildSignString(v2Payment()), body.data.sign, keys.platform.publicKey),
    ).toBe(true);
  });

  it('signs a uniQueryPay request with the merchant key', () => {
    const signed = signUniQueryPayRequest(
      { appId: '6', mchId: 'M001', newpayOrderNo: 'NP1' },
      keys.merchant.privateKey,
    );
    expect(
      verifyRsaSha256('appId=6&mchId=M001&newpayOrderNo=NP1', signed.sign, keys.merchant.publicKey),
    ).toBe(true);
    expect(() =>
      signUniQueryPayRequest({ appId: '6', mchId: 'M001' }, keys.merchant.privateKey),
    ).toThrow(/newpayOrderNo or mchOrderNo/);
  });
});

describe('parseNewpayJson', () => {
  it('keeps every number as its source text and remembers which values were numbers', () => {
    const { lossless, tagged } = parseNewpayJson(
      '{"a":1.50,"b":"1.50","n":{"v":12345678901234567890}}',
    );
    expect(lossless).toEqual({ a: '1.50', b: '1.50', n: { v: '12345678901234567890' } });
    expect(tagged.a).toBeInstanceOf(JsonNumber);
    expect(tagged.b).toBe('1.50');
    expect(serializeBody(tagged)).toBe('{"a":1.50,"b":"1.50","n":{"v":12345678901234567890}}');
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => parseNewpayJson('[1,2]')).toThrow(/not a JSON object/);
    expect(() => parseNewpayJson('{"a":')).toThrow(/not valid JSON/);
  });
});
