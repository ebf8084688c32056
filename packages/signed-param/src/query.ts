import { GatewayApiError, StatusMismatchError } from '@payhook/core';
import {
  getAjv,
  parseJson,
  requestGateway,
  toFieldProblems,
  type NotPaymentEvent,
  type PaymentEventDraft,
} from '@payhook/core/plugin';
import type { KeyObject } from 'node:crypto';
import { buildSignedRequest } from './sign';
import { SOURCE } from './source';
import type { CountryCode } from './tables';
import type { SignedParamQueryData, SignedParamRaw } from './types';

export interface PaymentQueryConfig {
  /** `{baseUrl}/open-api/payment/query` */
  url: string;
  appId: string;
  merchantKey: KeyObject;
  country: CountryCode;
  timeoutMs: number;
}

type Result = ReadonlyArray<PaymentEventDraft<SignedParamRaw>> | NotPaymentEvent | null;

/** The platform's "too many requests" code (docs.paycools.com/en/v1/common/PlatformApiErrorCode.html). */
const RETRYABLE_CODES = new Set(['21020']);

const DATA_SCHEMA = {
  type: 'object',
  required: ['transactionId', 'amount', 'transactionStatus'],
  properties: {
    transactionId: { type: 'string', minLength: 1 },
    amount: { type: 'string', pattern: '^[0-9]+$' },
    transactionStatus: { type: 'string', minLength: 1 },
    currency: { type: ['string', 'null'], pattern: '^([A-Z]{3})?$' },
  },
};

/**
 * fetchStatus: `POST {baseUrl}/open-api/payment/query` with `{appId, param, sign}`, param
 * `{transactionId, countryCode, timestamp}` signed with the merchant private key
 * (docs.paycools.com/en/v2/Payment/CollectionStatus.html). The answer is not signed in those docs:
 * its authenticity rests on TLS to the configured baseUrl, hence `verification: 'status-query'`.
 */
export function createPaymentQuery(
  config: PaymentQueryConfig,
  normalize: (data: SignedParamQueryData, receivedAt: Date) => Result,
): (transactionId: string) => Promise<Result> {
  const validate = getAjv().compile(DATA_SCHEMA);
  return async (transactionId) => {
    if (typeof transactionId !== 'string' || transactionId.length === 0)
      throw new TypeError(`${SOURCE}: fetchStatus needs the platform transactionId`);
    const request = buildSignedRequest(
      config.appId,
      { transactionId, countryCode: config.country, timestamp: Date.now() },
      config.merchantKey,
    );
    const response = await requestGateway(config.url, {
      method: 'POST',
      body: request.body,
      headers: { 'content-type': 'application/json' },
      timeoutMs: config.timeoutMs,
      source: SOURCE,
    });
    const receivedAt = new Date();
    if (response.status < 200 || response.status >= 300) {
      throw new GatewayApiError(`payment query answered HTTP ${response.status}`, {
        source: SOURCE,
        httpStatus: response.status,
        retryable: response.status >= 500 || response.status === 429,
      });
    }
    const answer = parseAnswer(response.text, 'payment query answer') as {
      code?: unknown;
      message?: unknown;
      data?: unknown;
    };
    const code = answer.code === undefined ? undefined : String(answer.code);
    if (code !== '10000') {
      const message = typeof answer.message === 'string' ? answer.message.slice(0, 200) : undefined;
      throw new GatewayApiError(
        `payment query refused with code ${code ?? '(none)'}${message ? ` (${message})` : ''}`,
        {
          source: SOURCE,
          gatewayCode: code,
          gatewayMessage: message,
          httpStatus: response.status,
          retryable: code !== undefined && RETRYABLE_CODES.has(code),
        },
      );
    }
    // The newer portal documents `data` as JSON text ("<business_data_json>"), v2 as an object.
    const data =
      typeof answer.data === 'string'
        ? parseAnswer(answer.data, 'payment query data')
        : answer.data;
    if (data === undefined || data === null) return null;
    if (!validate(data)) {
      const problems = toFieldProblems(validate.errors)
        .map((p) => `${p.path || '/'} ${p.message}`)
        .join('; ');
      throw new GatewayApiError(`payment query answer is not a payment: ${problems}`, {
        source: SOURCE,
        httpStatus: response.status,
      });
    }
    const payment = data as SignedParamQueryData;
    if (payment.transactionId !== transactionId) {
      throw new StatusMismatchError(
        `payment query for ${transactionId} answered about ${payment.transactionId}`,
        SOURCE,
      );
    }
    return normalize(payment, receivedAt);
  };
}

function parseAnswer(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseJson(text, { numbers: 'text', source: SOURCE, what });
  } catch (cause) {
    throw new GatewayApiError(`${what} is not JSON`, { source: SOURCE, retryable: true, cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new GatewayApiError(`${what} is not a JSON object`, { source: SOURCE });
  return value as Record<string, unknown>;
}
