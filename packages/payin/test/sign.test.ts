import { ProviderConfigError } from '@payhook/core';
import { createPayinClient, createPayinProvider, resolvePatchOrigin } from '../src';
import { cashySign, signCashyBody, verifyCashySign } from '../src/signing';

describe('sign: MD5(raw body + apiKey)', () => {
  // Known answer computed outside this code: printf '%s' '{"a":1}k' | md5sum
  it('matches an independently computed MD5', () => {
    expect(cashySign('{"a":1}', 'k')).toBe('9b43dfdc68ec43f9d26faf2a55cde10f');
    expect(cashySign(Buffer.from('{"a":1}'), 'k', 'upper')).toBe(
      '9B43DFDC68EC43F9D26FAF2A55CDE10F',
    );
  });

  it('signs UTF-8 bytes, so a body with non-ASCII text signs the same as a string or a Buffer', () => {
    const body = '{"realName":"Nguyễn"}';
    expect(cashySign(body, 'key')).toBe(cashySign(Buffer.from(body, 'utf8'), 'key'));
    expect(cashySign(body, 'key')).not.toBe(cashySign(Buffer.from(body, 'latin1'), 'key'));
  });

  it('verifies either hex case and refuses a different body, key or a truncated sign', () => {
    const sign = cashySign('{}', 'key');
    expect(verifyCashySign('{}', sign.toUpperCase(), 'key')).toBe(true);
    expect(verifyCashySign('{}', sign, 'key')).toBe(true);
    expect(verifyCashySign('{ }', sign, 'key')).toBe(false);
    expect(verifyCashySign('{}', sign, 'key2')).toBe(false);
    expect(verifyCashySign('{}', sign.slice(0, 31), 'key')).toBe(false);
  });

  it('signCashyBody produces the headers Cashy sends, Sign upper case by default', () => {
    const m = signCashyBody('{"x":1}', { merchantId: 100001, apiKey: 'k' });
    expect(m.headers).toEqual({
      'content-type': 'application/json;charset=UTF-8',
      MerchantId: '100001',
      Sign: cashySign('{"x":1}', 'k').toUpperCase(),
    });
  });
});

describe('resolvePatchOrigin', () => {
  it.each([
    ['MCH2023008800001', 'MCH20230088', 'MCH20230088', '00001'],
    ['MCH2023008800002', null, 'MCH20230088', '00002'],
    ['MCH2023008800003', '', 'MCH20230088', '00003'],
    ['2a6421c4-3758-4d1a-b47e-f7d0e7133f9e', null, '2a6421c4-3758-4d1a-b47e-f7d0e7133f9e', null],
    ['OTHER00001', 'MCH20230088', 'MCH20230088', null],
  ])('%s with patchMchOrderNo %p → %s, serial %p', (mch, patchMch, original, serial) => {
    expect(resolvePatchOrigin(mch, patchMch)).toEqual({ originalMchOrderNo: original, serial });
  });
});

describe('options are checked at construction', () => {
  const good = { merchantId: '100001', apiKey: 'k' };
  it.each([
    ['merchantId', { ...good, merchantId: undefined }],
    ['merchantId', { ...good, merchantId: 'M100' }],
    ['apiKey', { ...good, apiKey: '' }],
    ['timeZone', { ...good, timeZone: 'Mars/Olympus' }],
    ['currency', { ...good, currency: 'idr' }],
    ['amountScale', { ...good, amountScale: 7 }],
    ['statusQuery.baseUrl', { ...good, statusQuery: { baseUrl: 'ftp://cashy' } }],
    [
      'statusQuery.timeoutMs',
      { ...good, statusQuery: { baseUrl: 'https://cashy.example', timeoutMs: 0 } },
    ],
  ])('a bad %s throws ProviderConfigError naming it', (option, options) => {
    let error: unknown;
    try {
      createPayinProvider(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as ProviderConfigError).option).toBe(option);
    expect((error as Error).message).toMatch(/^@payhook\/payin: /);
    expect((error as Error).message).not.toContain('"k"');
  });

  it('the client checks its options too', () => {
    expect(() => createPayinClient({ ...good, baseUrl: 'not a url' })).toThrow(ProviderConfigError);
  });
});
