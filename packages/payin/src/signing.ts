import { md5Hex, stringifyJson, timingSafeEqualHex, type JsonValue } from '@payhook/core/plugin';

/**
 * Cashy's one signing scheme, for webhooks it sends and API requests it receives alike
 * (https://docs.cashypro.com/en_us/quickstart/quickstart.html for requests, the callback check of
 * https://docs.cashypro.com/tza/overview.html for webhooks): `Sign = MD5(request body bytes +
 * apiKey)` as hex, the body exactly as it travels (no canonicalisation, no key sorting), the apiKey
 * appended as UTF-8 with no separator.
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

/**
 * Serializes a payload as Cashy writes it (compact, key order kept, `jsonNumber('100.10')` as the
 * bare number 100.10) and signs it: a delivery as Cashy would send it.
 */
export function buildCashyMessage(
  payload: { readonly [key: string]: JsonValue },
  options: CashySignOptions,
): SignedCashyMessage {
  return signCashyBody(stringifyJson(payload), options);
}
