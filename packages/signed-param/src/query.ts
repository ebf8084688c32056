import { GatewayApiError, StatusMismatchError } from '@payhook/core';
import {
  formatFieldProblems,
  getAjv,
  isRetryableStatus,
  parseJson,
  requestGateway,
  toFieldProblems,
  type GatewayResponse,
  type NotPaymentEvent,
  type PaymentEventDraft,
} from '@payhook/core/plugin';
import type { KeyObject } from 'node:crypto';
import { buildSignedRequest } from './sign';
import type { CountryCode } from './tables';
import {
  SOURCE,
  QUERY_DATA_SCHEMA,
  type SignedParamQueryData,
  type SignedParamRaw,
} from './schema';

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
  const validate = getAjv().compile(QUERY_DATA_SCHEMA);
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
    const data = readData(response);
    if (data === undefined || data === null) return null;
    if (!validate(data)) {
      const problems = formatFieldProblems(toFieldProblems(validate.errors));
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

/** The answer's `data`, once the HTTP status and the platform's code both say success. */
function readData(response: GatewayResponse): unknown {
  if (response.status < 200 || response.status >= 300) {
    throw new GatewayApiError(`payment query answered HTTP ${response.status}`, {
      source: SOURCE,
      httpStatus: response.status,
      retryable: isRetryableStatus(response.status),
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
  return typeof answer.data === 'string'
    ? parseAnswer(answer.data, 'payment query data')
    : answer.data;
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
