import { verify } from 'node:crypto';
import { buildNotification, buildSignedRequest, serializeParam, signParam } from '../src/signing';
import { DOC_EXAMPLE_PARAM, merchant, paymentParam, platform } from './helpers';

const verifies = (param: string, sign: string, key = platform.publicKey) =>
  verify('sha256', Buffer.from(param, 'utf8'), key, Buffer.from(sign, 'base64'));

describe('the platform signing side', () => {
  it('buildNotification signs the exact param text with SHA256withRSA (checked with node:crypto)', () => {
    const n = buildNotification(DOC_EXAMPLE_PARAM, platform.privateKey);
    expect(n.param).toBe(DOC_EXAMPLE_PARAM);
    expect(JSON.parse(n.body)).toEqual({ sign: n.sign, param: DOC_EXAMPLE_PARAM });
    expect(Object.keys(JSON.parse(n.body))).toEqual(['sign', 'param']);
    expect(Buffer.from(n.sign, 'base64')).toHaveLength(256);
    expect(verifies(n.param, n.sign)).toBe(true);
    expect(verifies(`${n.param} `, n.sign)).toBe(false);
  });

  it('serializes an object param the way the doc example is written', () => {
    const fields = JSON.parse(DOC_EXAMPLE_PARAM) as Record<string, unknown>;
    expect(serializeParam(fields)).toBe(DOC_EXAMPLE_PARAM);
  });

  it('writes integer fields held as text or bigint as JSON numbers, other text as strings', () => {
    expect(
      serializeParam({
        amount: '12345678901234567891',
        failedCode: -10004,
        feeRefunded: 5n,
        remark: '100',
      }),
    ).toBe('{"amount":12345678901234567891,"failedCode":-10004,"feeRefunded":5,"remark":"100"}');
    expect(serializeParam({ amount: 'abc', skipped: undefined })).toBe('{"amount":"abc"}');
  });

  it('accepts the private key as PEM or Base64 PKCS#8 DER', () => {
    const pem = platform.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = platform.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const param = serializeParam(paymentParam());
    expect(verifies(param, signParam(param, pem))).toBe(true);
    expect(verifies(param, signParam(param, der))).toBe(true);
  });

  it('buildSignedRequest builds the merchant {appId, param, sign} envelope', () => {
    const r = buildSignedRequest(
      'app-1',
      { transactionId: 'T1', countryCode: 'PH', timestamp: 1677133173758 },
      merchant.privateKey,
    );
    expect(r.param).toBe('{"transactionId":"T1","countryCode":"PH","timestamp":1677133173758}');
    expect(JSON.parse(r.body)).toEqual({ appId: 'app-1', sign: r.sign, param: r.param });
    expect(verifies(r.param, r.sign, merchant.publicKey)).toBe(true);
  });
});
