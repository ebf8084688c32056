import { md5Hex, timingSafeEqualHex } from '@payhook/core';

/**
 * Cashy's one signing scheme, for webhooks it sends and API requests it receives alike
 * (providers.md §4.2): `Sign = MD5(request body bytes + apiKey)` as hex, the body exactly as it
 * travels (no canonicalisation, no key sorting), the apiKey appended as UTF-8 with no separator.
 *
 * This module is the single implementation: the webhook verifier, the API client and the
 * simulators of `@payhook/testing` all use it, so they cannot disagree.
 */

/** Hex case of a Sign header. Cashy's examples are upper case (`A6FC73F7D22EC8B4A064C8FFCC592CBF`). */
export type SignCase = 'upper' | 'lower';

/** MD5(body + apiKey) as hex; lower case unless asked otherwise. */
export function cashySign(
  body: Buffer | string,
  apiKey: string,
  signCase: SignCase = 'lower',
): string {
  const hex = md5Hex(
    typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    Buffer.from(apiKey, 'utf8'),
  );
  return signCase === 'upper' ? hex.toUpperCase() : hex;
}

/**
 * Checks a Sign header against the raw body, in constant time and ignoring hex case (the docs do
 * not state the case; their examples are upper case, Node's digest is lower case).
 */
export function verifyCashySign(body: Buffer | string, sign: string, apiKey: string): boolean {
  if (typeof sign !== 'string') return false;
  return timingSafeEqualHex(cashySign(body, apiKey), sign);
}

/**
 * A JSON number written exactly as given (`100.10`, `10000.0`). JS numbers cannot hold a trailing
 * zero, and Cashy writes amounts as JSON numbers, so a delivery "exactly as Cashy would" needs this.
 */
export class JsonNumber {
  constructor(readonly text: string) {
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text))
      throw new TypeError(`@payhook/payin: "${text}" is not a JSON number`);
  }
}

/** Marks decimal text to be written as a bare JSON number: `jsonNumber('100.10')` → `100.10`. */
export function jsonNumber(text: string): JsonNumber {
  return new JsonNumber(text);
}

export type CashyJsonValue =
  | string
  | number
  | boolean
  | null
  | JsonNumber
  | CashyJsonValue[]
  | { [key: string]: CashyJsonValue | undefined };

/**
 * JSON.stringify with `JsonNumber` written verbatim and key order kept as given. Undefined members
 * are left out, like JSON.stringify does.
 */
export function serializeCashyJson(value: CashyJsonValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('@payhook/payin: value cannot be written as JSON');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(serializeCashyJson).join(',')}]`;
  const members: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    members.push(`${JSON.stringify(key)}:${serializeCashyJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

export interface CashySignOptions {
  merchantId: string | number;
  apiKey: string;
  /** Hex case of the Sign header (default 'upper', as in Cashy's examples). */
  signCase?: SignCase;
  /** Content-Type header (default the showdoc value `application/json;charset=UTF-8`). */
  contentType?: string;
}

/** A signed Cashy HTTP message: the exact body and the headers that go with it. */
export interface SignedCashyMessage {
  body: string;
  headers: Record<string, string>;
}

/**
 * Signs body bytes the way Cashy does for its webhooks and expects for API requests. The
 * content-type key is lower case so that it replaces, rather than doubles, a default header.
 */
export function signCashyBody(body: string, options: CashySignOptions): SignedCashyMessage {
  return {
    body,
    headers: {
      'content-type': options.contentType ?? 'application/json;charset=UTF-8',
      MerchantId: String(options.merchantId),
      Sign: cashySign(body, options.apiKey, options.signCase ?? 'upper'),
    },
  };
}

/** Serializes a payload (see `serializeCashyJson`) and signs it: a delivery as Cashy would send it. */
export function buildCashyMessage(
  payload: { [key: string]: CashyJsonValue | undefined },
  options: CashySignOptions,
): SignedCashyMessage {
  return signCashyBody(serializeCashyJson(payload), options);
}
