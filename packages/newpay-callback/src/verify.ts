import type { KeyObject } from 'node:crypto';
import {
  JsonNumber,
  parseJson,
  PayloadError,
  SignatureError,
  verifyRsaSha256,
} from '@payhook/core';
import {
  signStringCandidates,
  SOURCE,
  type SignParams,
  type SignStringReadings,
  type SignValue,
} from './sign';

export interface VerifierConfig {
  publicKey: KeyObject;
  /** The merchant's appId as text. */
  appId: string;
  readings: SignStringReadings;
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
 * Checks `sign` inside `params` against every accepted reading of the sign string, then the appId.
 * Throws SignatureError (401); never returns on a mismatch.
 */
export function verifySignedParams(params: SignParams, config: VerifierConfig, what: string): void {
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
  const verified = signStringCandidates(params, config.readings).some((candidate) =>
    verifyRsaSha256(candidate, sign, config.publicKey),
  );
  if (!verified) {
    throw new SignatureError(
      `${what} signature does not verify with the NewPay platform public key`,
      { source: SOURCE },
    );
  }
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

export function verifyCallbackBody(body: Buffer, config: VerifierConfig): Record<string, unknown> {
  const { lossless, tagged } = parseNewpayJson(body);
  verifySignedParams(signedPart(tagged), config, 'callback');
  return lossless;
}
