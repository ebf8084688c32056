import { generateKeyPairSync } from 'node:crypto';
import { PayloadError, ProviderConfigError } from '../src';
import { utcIso } from '../src/time';
import {
  compareDecimal,
  decimalEquals,
  decimalFromMinorUnits,
  decimalToMinorUnits,
  addDecimal,
  instantToIso,
  loadPrivateKey,
  loadPublicKey,
  normalizeDecimal,
  parseGatewayTime,
  parseJson,
  signRsaSha256,
  timingSafeEqualHex,
  verifyRsaSha256,
  assertTimeZone,
  assertSafeJson,
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  JsonNumber,
  jsonNumber,
  stringifyJson,
  type JsonValue,
} from '../src/plugin';

describe('parseJson', () => {
  it('keeps numbers as their exact source text when asked', () => {
    const value = parseJson(
      '{"amount":100.10,"ref":12345678901234567890,"n":-1.5e3,"s":"a\\"b","a":[1,true,null]}',
      { numbers: 'text' },
    );
    expect(value).toEqual({
      amount: '100.10',
      ref: '12345678901234567890',
      n: '-1.5e3',
      s: 'a"b',
      a: ['1', true, null],
    });
  });

  it('parses to ordinary numbers by default', () => {
    expect(parseJson(Buffer.from('{"amount":100.10}'))).toEqual({ amount: 100.1 });
  });

  it.each([
    ['truncated', '{"a":1'],
    ['trailing data', '{"a":1} x'],
    ['a bare word', 'nope'],
    ['a bad escape', '"\\x"'],
    ['a control character', '"a\u0001"'],
    ['a leading zero', '{"a":01}'],
    ['empty', ''],
  ])('refuses %s in both modes', (_label, text) => {
    expect(() => parseJson(text)).toThrow(PayloadError);
    expect(() => parseJson(text, { numbers: 'text' })).toThrow(PayloadError);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses the key %s at any depth, even escaped',
    (key) => {
      const escaped = key.replace('_', '\\u005f');
      for (const text of [`{"a":{"${key}":{"x":1}}}`, `{"a":[{"${escaped}":1}]}`]) {
        expect(() => parseJson(text)).toThrow(/forbidden key/);
        expect(() => parseJson(text, { numbers: 'text' })).toThrow(/forbidden key/);
      }
    },
  );

  it('refuses hostile nesting without overflowing the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => parseJson(deep)).toThrow(/deeper than 32/);
    expect(() => parseJson(deep, { numbers: 'text' })).toThrow(/deeper than 32/);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() => parseJson(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/not valid UTF-8/);
  });
});

describe('money', () => {
  it.each([
    [12345, 2, '123.45'],
    [5, 2, '0.05'],
    [-5, 2, '-0.05'],
    [0, 2, '0.00'],
    ['007', 0, '7'],
    [123456789012345678901234567890n, 2, '1234567890123456789012345678.90'],
    ['99999999999999999999', 2, '999999999999999999.99'],
  ])('decimalFromMinorUnits(%p, %p) = %p', (value, exp, expected) => {
    expect(decimalFromMinorUnits(value as never, exp)).toBe(expected);
  });

  it.each([1.5, '1.5', 'abc', Number.MAX_SAFE_INTEGER + 2])(
    'decimalFromMinorUnits refuses %p',
    (value) => {
      expect(() => decimalFromMinorUnits(value as never, 2)).toThrow(PayloadError);
    },
  );

  it.each([
    ['100.10', undefined, '100.10'],
    ['100.1', 2, '100.10'],
    [100.1, 2, '100.10'],
    [0.1, 2, '0.10'],
    ['0100', 2, '100.00'],
    ['-0.00', undefined, '0.00'],
    ['123.450', 2, '123.45'],
  ])('normalizeDecimal(%p, scale %p) = %p', (value, scale, expected) => {
    expect(normalizeDecimal(value, { scale })).toBe(expected);
  });

  it.each([
    ['1.005', 2],
    ['1e3', undefined],
    [Infinity, undefined],
    ['', undefined],
    ['1,000', undefined],
    [1e21, undefined],
  ])('normalizeDecimal refuses %p (never rounds)', (value, scale) => {
    expect(() => normalizeDecimal(value as never, { scale })).toThrow(PayloadError);
  });

  it('decimalToMinorUnits converts exactly, by text, and never rounds', () => {
    expect(decimalToMinorUnits('500.1', 2)).toBe('50010');
    expect(decimalToMinorUnits('0.05', 2)).toBe('5');
    expect(decimalToMinorUnits('50000', 0)).toBe('50000');
    expect(decimalToMinorUnits('90071992547409.93', 2)).toBe('9007199254740993');
    expect(() => decimalToMinorUnits('1.005', 2)).toThrow(PayloadError);
  });

  it('addDecimal adds exactly across scales', () => {
    expect(addDecimal('100.10', '0.5')).toBe('100.60');
    expect(addDecimal('0.1', '0.2')).toBe('0.3');
    expect(addDecimal('99999999999999999.99', '0.01')).toBe('100000000000000000.00');
    expect(addDecimal('5', '-7.25')).toBe('-2.25');
    expect(() => addDecimal('1', 'x')).toThrow(TypeError);
  });

  it('compares exactly', () => {
    expect(decimalEquals('100.1', '100.10')).toBe(true);
    expect(compareDecimal('0.30', '0.3000000000000000001')).toBe(-1);
    expect(compareDecimal('-1', '0')).toBe(-1);
    expect(compareDecimal('10', '9.99')).toBe(1);
  });
});

describe('time', () => {
  it('utcIso writes what toISOString writes, across the years it handles and outside them', () => {
    const instants = [
      0, 1, 999, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000,
    ];
    for (let ms = 0; ms < 253_402_300_800_000; ms += 86_399_987_654) instants.push(ms);
    for (let i = 0; i < 2_000; i++) instants.push(Math.floor(Math.random() * 2e12));
    for (const ms of instants) expect(utcIso(ms)).toBe(new Date(ms).toISOString());
    expect(() => utcIso(NaN)).toThrow(RangeError);
  });

  it.each([
    ['2025-09-23 11:37:55', 'Asia/Vientiane', '2025-09-23T11:37:55+07:00'],
    ['23/09/2025 11:37:55', 'Asia/Vientiane', '2025-09-23T11:37:55+07:00'],
    ['2025-09-23 11:37:55', 'Asia/Manila', '2025-09-23T11:37:55+08:00'],
    ['2025-09-23 11:37:55', 'Asia/Kolkata', '2025-09-23T11:37:55+05:30'],
    ['2025-01-15 10:00:00', 'America/New_York', '2025-01-15T10:00:00-05:00'],
    ['2025-07-15 10:00:00', 'America/New_York', '2025-07-15T10:00:00-04:00'],
    ['2025-09-23T11:37:55Z', 'Asia/Vientiane', '2025-09-23T11:37:55Z'],
    ['2025-09-23T11:37:55.120+0700', 'Asia/Manila', '2025-09-23T11:37:55.120+07:00'],
  ])('parseGatewayTime(%p in %s) = %s', (text, zone, expected) => {
    expect(parseGatewayTime(text, { timeZone: zone })).toBe(expected);
  });

  it('reads epoch milliseconds in the zone, as a number or digit string', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5);
    expect(parseGatewayTime(ms, { timeZone: 'Asia/Jakarta' })).toBe('2025-01-02T10:04:05+07:00');
    expect(parseGatewayTime(String(ms), { timeZone: 'Asia/Jakarta' })).toBe(
      '2025-01-02T10:04:05+07:00',
    );
    expect(new Date(instantToIso(ms + 7, 'Asia/Manila')).getTime()).toBe(ms + 7);
  });

  it.each([
    '2025-02-30 10:00:00',
    '2025-13-01 10:00:00',
    '31/04/2025 10:00:00',
    '2025-09-23',
    'yesterday',
    12,
  ])('refuses %p', (value) => {
    expect(() =>
      parseGatewayTime(value, { timeZone: 'Asia/Vientiane', field: 'txnDateTime' }),
    ).toThrow(/txnDateTime/);
  });

  it('refuses an unknown zone at configuration time', () => {
    expect(() => assertTimeZone('Asia/Atlantis', 'timeZone')).toThrow(/unknown time zone/);
  });
});

describe('keys and signatures', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spkiPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const spkiB64 = (pair.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString(
    'base64',
  );
  const pkcs1B64 = (pair.publicKey.export({ type: 'pkcs1', format: 'der' }) as Buffer).toString(
    'base64',
  );
  const pkcs8B64 = (pair.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString(
    'base64',
  );

  it('loads a public key as PEM, bare Base64 SPKI (wrapped or not) and PKCS#1 DER', () => {
    for (const input of [spkiPem, spkiB64, spkiB64.replace(/(.{64})/g, '$1\n'), pkcs1B64]) {
      const key = loadPublicKey(input, 'publicKey');
      expect(key.type).toBe('public');
      expect(key.equals(pair.publicKey)).toBe(true);
    }
  });

  it('signs and verifies SHA256withRSA; a changed byte or another key fails', () => {
    const priv = loadPrivateKey(pkcs8B64, 'privateKey');
    const signature = signRsaSha256('a=1&b=2', priv);
    expect(verifyRsaSha256('a=1&b=2', signature, pair.publicKey)).toBe(true);
    expect(verifyRsaSha256('a=1&b=3', signature, pair.publicKey)).toBe(false);
    expect(verifyRsaSha256('a=1&b=2', signature, other.publicKey)).toBe(false);
    expect(verifyRsaSha256('a=1&b=2', '', pair.publicKey)).toBe(false);
    expect(verifyRsaSha256('a=1&b=2', 'not base64!', pair.publicKey)).toBe(false);
  });

  it.each([
    ['garbage', 'not a key'],
    ['truncated DER', spkiB64.slice(0, 100)],
    [
      'a private key in the public slot',
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    ],
    ['broken PEM', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
  ])(
    'a bad key (%s) is a ProviderConfigError naming the option, without echoing the key',
    (_label, input) => {
      let error: unknown;
      try {
        loadPublicKey(input, 'platformPublicKey', '@payhook/x');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as ProviderConfigError).option).toBe('platformPublicKey');
      expect((error as Error).message).toMatch(/^@payhook\/x: option "platformPublicKey"/);
      if (input.length > 60) expect((error as Error).message).not.toContain(input.slice(30, 60));
    },
  );

  it('compares hex digests in constant time, ignoring case', () => {
    expect(timingSafeEqualHex('abcdef01', 'ABCDEF01')).toBe(true);
    expect(timingSafeEqualHex('abcdef01', 'abcdef02')).toBe(false);
    expect(timingSafeEqualHex('abcdef01', 'abcdef0')).toBe(false);
  });
});

describe('JsonNumber and stringifyJson', () => {
  it('parses numbers to JsonNumber with their exact text, and writes them back byte for byte', () => {
    const text = '{"b":1.50,"a":"1.50","n":[12345678901234567890,-0.0],"o":{"z":null,"y":true}}';
    const value = parseJson(text, { numbers: 'json-number' }) as Record<string, unknown>;
    expect(value.b).toBeInstanceOf(JsonNumber);
    expect((value.b as JsonNumber).text).toBe('1.50');
    expect(value.a).toBe('1.50');
    expect(stringifyJson(value as JsonValue)).toBe(text);
    expect(stringifyJson(value as JsonValue, { sortKeys: true })).toBe(
      '{"a":"1.50","b":1.50,"n":[12345678901234567890,-0.0],"o":{"y":true,"z":null}}',
    );
  });

  it('drops undefined members and refuses what JSON cannot hold', () => {
    expect(stringifyJson({ a: undefined, b: jsonNumber('100.10'), c: [undefined] })).toBe(
      '{"b":100.10,"c":[null]}',
    );
    expect(() => stringifyJson(undefined)).toThrow(TypeError);
    expect(() => stringifyJson({ a: NaN })).toThrow(TypeError);
    expect(() => jsonNumber('1.')).toThrow(TypeError);
    expect(() => jsonNumber('0x10')).toThrow(TypeError);
  });

  it('assertSafeJson applies parseJson checks to an already decoded tree', () => {
    const decoded = JSON.parse('{"a":{"__proto__":{"polluted":true}}}');
    expect(() => assertSafeJson(decoded, { what: 'socket message' })).toThrow(
      /socket message carries the forbidden key "__proto__"/,
    );
    let deep: unknown = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(() => assertSafeJson(deep)).toThrow(/deeper than 32/);
    expect(() => assertSafeJson({ a: [1, { b: 2 }] })).not.toThrow();
  });
});

describe('option checks', () => {
  const caught = (fn: () => unknown): ProviderConfigError => {
    try {
      fn();
    } catch (error) {
      return error as ProviderConfigError;
    }
    throw new Error('expected a ProviderConfigError');
  };

  it('checkHttpUrl accepts http(s) and names the option otherwise', () => {
    expect(checkHttpUrl('https://api.example.com/base/', 'baseUrl').pathname).toBe('/base/');
    for (const bad of ['ftp://x', 'not a url', 42, undefined]) {
      const error = caught(() => checkHttpUrl(bad, 'query.baseUrl', '@payhook/x'));
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect(error.option).toBe('query.baseUrl');
      expect(error.message).toBe('@payhook/x: option "query.baseUrl" must be an http(s) URL');
    }
  });

  it('checkPositiveMs takes the fallback when absent and refuses the rest', () => {
    expect(checkPositiveMs(undefined, 10_000, 'timeoutMs')).toBe(10_000);
    expect(checkPositiveMs(250, 10_000, 'timeoutMs')).toBe(250);
    for (const bad of [0, -1, 1.5, '100', NaN]) {
      expect(caught(() => checkPositiveMs(bad, 10_000, 'timeoutMs')).option).toBe('timeoutMs');
    }
  });

  it('checkRequiredText refuses empty and non-strings, saying where to find the value', () => {
    expect(checkRequiredText('k', 'apiKey', 'the apiKey')).toBe('k');
    expect(
      caught(() => checkRequiredText('  ', 'apiKey', 'the apiKey from the portal')).message,
    ).toMatch(/option "apiKey" is required: the apiKey from the portal/);
    expect(caught(() => checkRequiredText(7, 'apiKey', 'x')).option).toBe('apiKey');
  });
});
