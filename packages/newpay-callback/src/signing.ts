import { KeyObject } from 'node:crypto';
import {
  JsonNumber,
  loadPrivateKey,
  signRsaSha256,
  stringifyJson,
  type JsonValue,
  type KeyInput,
} from '@payhook/core/plugin';
import { SOURCE } from './schema';

/**
 * NewPay's signing side, written the way NewPay would do it, so that simulators, the CLI and this
 * package's tests produce deliveries byte for byte instead of by hand.
 *
 * The rule (NewPay "8. Signature and verification",
 * https://newpay-api-document.gitbook.io/newpay-api-document/8.-signature-and-verification): every
 * parameter except `sign`, sorted by key, joined as `k=v&k=v`, then SHA256withRSA (RSA PKCS#1 v1.5,
 * SHA-256), Base64.
 * Values are their JSON scalar text: `1`, `0`, `123.00`, `1663738614280`, `true`.
 *
 * Two points the docs leave open are exposed as options instead of being decided here:
 * - `emptyValues`: the docs both drop and keep `""` values; `keep` writes `extra=`, `drop` omits it.
 * - `nestedKeys`: v2's `orderAmt` is an object and the docs do not say how it enters the string.
 *   We assume compact JSON (`orderAmt={"currency":"LAK","value":"1.00"}`), with keys either sorted
 *   like the top level (`sorted`) or in the order the object was written (`received`).
 */

/** A parameter value: core's JsonValue, where JsonNumber keeps a number's exact text (`1.50`). */
export type SignValue = JsonValue;

export type SignParams = { readonly [key: string]: SignValue };

export type EmptyValueReading = 'keep' | 'drop';
export type NestedKeyOrder = 'sorted' | 'received';

export interface SignStringOptions {
  /** How `""` values enter the string: `keep` (`extra=`, the default) or `drop`. */
  emptyValues?: EmptyValueReading;
  /** Key order inside nested objects written as compact JSON (default `sorted`). */
  nestedKeys?: NestedKeyOrder;
}

/** Compact JSON (no whitespace), numbers as written, object keys sorted or in the given order. */
export function toCompactJson(value: SignValue, nestedKeys: NestedKeyOrder = 'sorted'): string {
  return value === undefined ? 'null' : stringifyJson(value, { sortKeys: nestedKeys === 'sorted' });
}

/** The text one parameter contributes after `k=`, or null when it does not take part. */
export function signStringValue(
  value: SignValue,
  options: Required<SignStringOptions>,
): string | null {
  if (value === null || value === undefined) return null;
  if (value === '') return options.emptyValues === 'keep' ? '' : null;
  if (typeof value === 'string') return value;
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'number') return stringifyJson(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return toCompactJson(value, options.nestedKeys);
}

/**
 * NewPay's string1: parameters except `sign`, sorted by key (UTF-16 code units, as Java's
 * String.compareTo does), `k=v` joined with `&`, no URL encoding.
 */
export function buildSignString(params: SignParams, options: SignStringOptions = {}): string {
  const resolved: Required<SignStringOptions> = {
    emptyValues: options.emptyValues ?? 'keep',
    nestedKeys: options.nestedKeys ?? 'sorted',
  };
  const parts: string[] = [];
  for (const key of Object.keys(params).sort()) {
    if (key === 'sign') continue;
    const text = signStringValue(params[key], resolved);
    if (text !== null) parts.push(`${key}=${text}`);
  }
  return parts.join('&');
}

export interface SignStringReadings {
  emptyValues?: EmptyValueReading | 'either';
  nestedKeys?: NestedKeyOrder | 'either';
}

/** Each combination of readings accepted, in the order they are tried. */
export function signStringReadings(
  readings: SignStringReadings = {},
): Array<Required<SignStringOptions>> {
  const empties: EmptyValueReading[] =
    (readings.emptyValues ?? 'either') === 'either'
      ? ['keep', 'drop']
      : [readings.emptyValues as EmptyValueReading];
  const orders: NestedKeyOrder[] =
    (readings.nestedKeys ?? 'either') === 'either'
      ? ['sorted', 'received']
      : [readings.nestedKeys as NestedKeyOrder];
  return empties.flatMap((emptyValues) =>
    orders.map((nestedKeys) => ({ emptyValues, nestedKeys })),
  );
}

/**
 * Every distinct string1 the accepted readings give for these parameters. Each one still has to
 * carry a signature made with NewPay's private key, so accepting several costs no authenticity.
 */
export function signStringCandidates(
  params: SignParams,
  readings: SignStringReadings = {},
): string[] {
  return [
    ...new Set(signStringReadings(readings).map((options) => buildSignString(params, options))),
  ];
}

function privateKeyObject(key: KeyInput): KeyObject {
  return key instanceof KeyObject && key.type === 'private'
    ? key
    : loadPrivateKey(key, 'privateKey', SOURCE);
}

/** SHA256withRSA over string1, Base64: the `sign` value. */
export function signNewpayParams(
  params: SignParams,
  privateKey: KeyInput,
  options: SignStringOptions = {},
): string {
  return signRsaSha256(buildSignString(params, options), privateKeyObject(privateKey));
}

/** The parameters with their `sign` added last, as NewPay's examples show it. */
export function withSign<T extends SignParams>(
  params: T,
  privateKey: KeyInput,
  options: SignStringOptions = {},
): T & { sign: string } {
  return { ...params, sign: signNewpayParams(params, privateKey, options) };
}

/** JSON text of a body, keys in the given order, JsonNumber written as its text. */
export function serializeBody(value: SignValue): string {
  return toCompactJson(value, 'received');
}

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

export interface CallbackSignOptions extends SignStringOptions {
  /** Reorders the body's keys (the signature does not depend on it). */
  keyOrder?: 'as-given' | 'reversed' | 'sorted';
}

function reorder<T extends SignParams>(params: T, keyOrder: CallbackSignOptions['keyOrder']): T {
  if (!keyOrder || keyOrder === 'as-given') return params;
  const keys = Object.keys(params).sort();
  if (keyOrder === 'reversed') keys.reverse();
  return Object.fromEntries(keys.map((k) => [k, params[k]])) as T;
}

/** A v1 payment or refund callback: the flat parameters plus `sign`, POSTed as application/json. */
export function signV1Callback(
  params: SignParams,
  platformPrivateKey: KeyInput,
  options: CallbackSignOptions = {},
): SignedDelivery {
  const signed = withSign(params, platformPrivateKey, options);
  return {
    body: serializeBody(reorder(signed, options.keyOrder)),
    headers: { 'content-type': 'application/json' },
  };
}

export interface V2Envelope {
  success?: boolean;
  message?: string;
  code?: string | number | JsonNumber;
  timestamp?: number | string | JsonNumber;
}

/** A v2 callback: `{success, message, code, timestamp, data}` with `sign` inside `data` only. */
export function signV2Callback(
  data: SignParams,
  platformPrivateKey: KeyInput,
  envelope: V2Envelope = {},
  options: CallbackSignOptions = {},
): SignedDelivery {
  const signed = withSign(data, platformPrivateKey, options);
  const body: SignParams = {
    success: envelope.success ?? true,
    message: envelope.message ?? 'success',
    code: envelope.code ?? '200',
    timestamp: envelope.timestamp ?? Date.now(),
    data: reorder(signed, options.keyOrder),
  };
  return { body: serializeBody(body), headers: { 'content-type': 'application/json' } };
}

export interface UniQueryPayRequest {
  appId: string;
  mchId: string;
  newpayOrderNo?: string;
  mchOrderNo?: string;
}

/**
 * The body of a v2 `uniQueryPay` request, signed with the merchant private key. NewPay verifies it
 * with the merchant public key registered in its portal.
 */
export function signUniQueryPayRequest(
  request: UniQueryPayRequest,
  merchantPrivateKey: KeyInput,
): UniQueryPayRequest & { sign: string } {
  if (!request.newpayOrderNo && !request.mchOrderNo) {
    throw new TypeError(`${SOURCE}: uniQueryPay needs newpayOrderNo or mchOrderNo`);
  }
  const params: Record<string, string> = { appId: request.appId, mchId: request.mchId };
  if (request.newpayOrderNo) params.newpayOrderNo = request.newpayOrderNo;
  if (request.mchOrderNo) params.mchOrderNo = request.mchOrderNo;
  return withSign(params, merchantPrivateKey) as unknown as UniQueryPayRequest & { sign: string };
}
