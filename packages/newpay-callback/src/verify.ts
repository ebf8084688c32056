import type { KeyObject } from 'node:crypto';
import {
  checkSignedTime,
  JsonNumber,
  parseGatewayTime,
  parseJson,
  PayloadError,
  SignatureError,
  verified,
  verifyRsaSha256WithAny,
  type Delivery,
  type MaxAge,
  type VerifiedPayload,
} from '@payhook/core/plugin';
import {
  buildSignString,
  signStringReadings,
  signStringValue,
  type SignParams,
  type SignStringOptions,
  type SignStringReadings,
  type SignValue,
} from './signing';
import { SOURCE } from './schema';

export interface VerifierConfig {
  /** The platform public keys, tried in order (old and new during a rotation). */
  publicKeys: readonly KeyObject[];
  /** The merchant's appId as text. */
  appId: string;
  readings: SignStringReadings;
}

export interface CallbackVerifierConfig extends VerifierConfig {
  /** Whether several keys were configured: then the event says which one matched (`keyIndex`). */
  reportKeyIndex: boolean;
  maxAge: MaxAge;
  timeZone: string;
}

export interface ParsedJson {
  /** Numbers as their source text: what the payload is kept as. */
  lossless: Record<string, unknown>;
  /** The same tree with numbers as JsonNumber, so compact JSON can tell 1.50 from "1.50". */
  tagged: { [key: string]: SignValue };
}

/**
 * Parses the body once with core's lossless parser (numbers as JsonNumber: what the sign string is
 * built from, so compact JSON can tell the number 1.50 from the string "1.50"), then derives the
 * payload as kept and validated: the same tree with each number as its exact text.
 */
export function parseNewpayJson(input: Buffer | string, what = 'body'): ParsedJson {
  const tagged = parseJson(input, { numbers: 'json-number', source: SOURCE, what });
  if (!isPlainObject(tagged)) {
    throw new PayloadError(`${what} is not a JSON object`, {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  }
  return {
    lossless: numbersAsText(tagged) as Record<string, unknown>,
    tagged: tagged as { [key: string]: SignValue },
  };
}

function numbersAsText(value: unknown): unknown {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return value.map(numbersAsText);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = numbersAsText(value[key]);
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The text of a scalar as received ("6" for both 6 and "6"), or undefined. */
export function scalarText(value: SignValue): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof JsonNumber) return value.text;
  return undefined;
}

/**
 * Fields that name the event or decide it: ids (they build the event id), amounts, currency,
 * statuses, payMethod, appId and the signed times. Their values are machine text, so a separator in
 * one of them is refused outright; other values only when they would make string1 ambiguous.
 */
const DECIDING_FIELDS = new Set([
  'appId',
  'newpayOrderNo',
  'orderNo',
  'mchOrderNo',
  'newpayRefundOrderNo',
  'refundOrderNo',
  'newpayRefundNo',
  'mchRefundNo',
  'orderAmt',
  'refundOrderAmt',
  'refundAmt',
  'currency',
  'transStatus',
  'tranStatus',
  'payStatus',
  'refundStatus',
  'payMethod',
  'timestamp',
  'paytime',
]);

/** A `&` whose piece of string1 (up to the next `&`) holds a `=`: it would read as a new pair. */
const SECOND_READING = /&[^&]*=/;

/**
 * string1 joins `k=v` with `&` and escapes nothing, so a value can absorb the pairs after it
 * (`newpayRefundOrderNo` = `711&orderNo=…`) and the signature still verifies. Splitting string1 at
 * each `&` whose piece holds a `=`, then each pair at its first `=`, gives back exactly these
 * parameters when no key holds `&` or `=` and no value holds a `&` followed by a `=` before the
 * next `&`: then no other parameter set has this string1 (for the reading that verified). Anything
 * else is refused, and the deciding fields may hold neither separator at all.
 */
function assertSingleReading(
  params: SignParams,
  options: Required<SignStringOptions>,
  what: string,
): void {
  for (const key of Object.keys(params)) {
    if (key === 'sign') continue;
    const text = signStringValue(params[key], options);
    if (text === null) continue;
    // Fast path: a name and a value holding neither "&" nor "=" can trip none of the three checks
    // below (each needs one of them). Most parameters are such; the regexes then never run.
    // On the bench's v1 callback (13 parameters) this loop measured 1.25–1.80 µs per call before,
    // 0.65–1.03 after (old and new bodies side by side, 3 rounds of 200,000 calls each, `npx tsx`
    // on the shared 2-core VM, 2026-12-06).
    if (!hasSeparator(key) && !hasSeparator(text)) continue;
    const problem = /[&=]/.test(key)
      ? 'a parameter name holds "&" or "="'
      : DECIDING_FIELDS.has(key) && /[&=]/.test(text)
        ? `${key} holds "&" or "="`
        : SECOND_READING.test(text)
          ? `${key} holds "&" followed by "="`
          : null;
    if (problem) {
      throw new SignatureError(
        `${what}: ${problem}, so its signed string also reads as other parameters: refused`,
        { source: SOURCE },
      );
    }
  }
}

const hasSeparator = (text: string): boolean => text.includes('&') || text.includes('=');

/**
 * The readings of a verifier's `readings`, built once per readings object: signStringReadings made
 * a fresh array of fresh objects on every delivery, 0.75 µs per call (200,000 calls, `npx tsx`) and
 * 1.2 % of newpay's hub.receive samples (`bench/profile-receive.ts newpay 8000`, 2026-12-06).
 * The verifier's readings are frozen (options.ts), so the list cannot go stale.
 */
const READINGS = new WeakMap<SignStringReadings, ReadonlyArray<Required<SignStringOptions>>>();
function readingsOf(readings: SignStringReadings | undefined) {
  if (readings === undefined) return signStringReadings(readings);
  let list = READINGS.get(readings);
  if (!list) {
    list = signStringReadings(readings).map((r) => Object.freeze(r));
    READINGS.set(readings, list);
  }
  return list;
}

/**
 * Checks `sign` inside `params` against every accepted reading of the sign string and every
 * configured platform key, that the parameters are the only ones the signed string can mean, then
 * the appId. Returns the index of the key that matched; throws SignatureError (401) otherwise.
 */
export function verifySignedParams(
  params: SignParams,
  config: VerifierConfig,
  what: string,
): number {
  const sign = params.sign;
  if (sign === undefined || sign === null || sign === '') {
    throw new SignatureError(`${what} carries no sign`, {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  }
  if (typeof sign !== 'string') {
    throw new SignatureError(`${what} sign is not a Base64 string`, { source: SOURCE });
  }
  let keyIndex = -1;
  let reading: Required<SignStringOptions> | undefined;
  // At most four readings: an array, not a Set, of the strings already tried.
  const tried: string[] = [];
  for (const options of readingsOf(config.readings)) {
    const candidate = buildSignString(params, options);
    if (tried.includes(candidate)) continue;
    tried.push(candidate);
    keyIndex = verifyRsaSha256WithAny(candidate, sign, config.publicKeys);
    if (keyIndex >= 0) {
      reading = options;
      break;
    }
  }
  if (!reading) {
    throw new SignatureError(
      `${what} signature does not verify with the NewPay platform public key`,
      { source: SOURCE },
    );
  }
  assertSingleReading(params, reading, what);
  // After the signature: NewPay signs every merchant's callbacks with one platform key, so a
  // genuine callback for another app verifies and must still be refused.
  const appId = scalarText(params.appId);
  if (appId === undefined || appId === '') {
    throw new SignatureError(`${what} names no appId`, {
      code: 'ERR_SENDER_UNKNOWN',
      source: SOURCE,
    });
  }
  if (appId !== config.appId) {
    throw new SignatureError(`${what} is for appId ${JSON.stringify(appId.slice(0, 40))}`, {
      code: 'ERR_SENDER_UNKNOWN',
      source: SOURCE,
    });
  }
  return keyIndex;
}

/**
 * A v2 body has its signed parameters in `data`; a v1 body is the parameters. The envelope of v2
 * (success, message, code, timestamp) is outside the signature.
 */
export function signedPart(tagged: { [key: string]: SignValue }): SignParams {
  const data = tagged.data;
  if (
    data !== null &&
    typeof data === 'object' &&
    !Array.isArray(data) &&
    !(data instanceof JsonNumber)
  )
    return data as SignParams;
  return tagged;
}

/**
 * The signed time of a callback: v1 `timestamp`, v2 `data.paytime` (both inside the signature).
 * Refuses one older than maxAgeMs or further ahead than clockSkewMs (401 ERR_DELIVERY_STALE), so
 * that a genuine callback replayed after the store forgot it is not processed again. A v2 callback
 * without paytime (a refund, or a payment NewPay sent none for) has no signed time: the store's
 * retention is then its only replay bound. A missing v1 timestamp is refused by the schema.
 */
function checkCallbackTime(
  params: SignParams,
  field: 'timestamp' | 'paytime',
  config: CallbackVerifierConfig,
  receivedAt: Date,
): void {
  const value = params[field];
  if (value === undefined || value === null || value === '') return;
  const text = scalarText(value);
  // Not a scalar: the schema refuses it next, with the field named.
  if (text === undefined) return;
  const path = field === 'paytime' ? 'data/paytime' : field;
  const at = parseGatewayTime(text, { timeZone: config.timeZone, source: SOURCE, field: path });
  checkSignedTime(at, config.maxAge, {
    now: receivedAt.getTime(),
    what: `the signed ${field}`,
    source: SOURCE,
  });
}

export function verifyCallbackBody(
  delivery: Pick<Delivery, 'body' | 'receivedAt'>,
  config: CallbackVerifierConfig,
): Record<string, unknown> | VerifiedPayload<Record<string, unknown>> {
  const { lossless, tagged } = parseNewpayJson(delivery.body);
  const params = signedPart(tagged);
  const keyIndex = verifySignedParams(params, config, 'callback');
  checkCallbackTime(
    params,
    params === tagged ? 'timestamp' : 'paytime',
    config,
    delivery.receivedAt,
  );
  return config.reportKeyIndex ? verified(lossless, { keyIndex }) : lossless;
}
