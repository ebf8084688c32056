import {
  formatFieldProblems,
  GatewayApiError,
  getAjv,
  isRetryableStatus,
  parseJson,
  requestGateway,
  StatusMismatchError,
  toFieldProblems,
  type GatewayResponse,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type StatusLookup,
} from '@payhook/core/plugin';
import type { KeyObject } from 'node:crypto';
import { buildSignedRequest } from './signing';
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
  /** The mount's `orderIdPrefix`: a lookup by order number outside it is refused. */
  orderIdPrefix: string | undefined;
}

type Result = ReadonlyArray<PaymentEventDraft<SignedParamRaw>> | NotPaymentEvent | null;

/** The platform's "too many requests" code (docs.paycools.com/en/v1/common/PlatformApiErrorCode.html). */
const RETRYABLE_CODES = new Set(['21020']);

/**
 * fetchStatus: `POST {baseUrl}/open-api/payment/query` with `{appId, param, sign}`, param
 * `{mchOrderId | transactionId, countryCode, timestamp}` signed with the merchant private key
 * (https://docs.paycools.com/en/v2/Payment/CollectionStatus.html): the platform's transactionId
 * for a reference, the merchant's mchOrderId for `lookup.by` 'orderId', so an order awaited by the
 * merchant's number can be asked about before the platform's is known. The answer is not signed in
 * those docs: its authenticity rests on TLS to the configured baseUrl, hence
 * `verification: 'status-query'`.
 */
export function createPaymentQuery(
  config: PaymentQueryConfig,
  normalize: (data: SignedParamQueryData, receivedAt: Date) => Result,
): (key: string, lookup?: { by: StatusLookup }) => Promise<Result> {
  const validate = getAjv().compile(QUERY_DATA_SCHEMA);
  return async (key, lookup) => {
    const field = lookupField(lookup, key, config.orderIdPrefix);
    const request = buildSignedRequest(
      config.appId,
      { [field]: key, countryCode: config.country, timestamp: Date.now() },
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
      // Well-formed, but not what this plugin reads: the same query gets the same answer until the
      // gateway or the plugin changes, so it is no outage that should pause the sweep's other queries.
      throw new GatewayApiError(`payment query answer is not a payment: ${problems}`, {
        source: SOURCE,
        httpStatus: response.status,
        retryable: false,
      });
    }
    const payment = data as SignedParamQueryData;
    if (payment[field] !== key) {
      throw new StatusMismatchError(
        `payment query for ${field} ${key} answered about ${field} ${String(payment[field] ?? '(none)')}`,
        SOURCE,
      );
    }
    return normalize(payment, receivedAt);
  };
}

/**
 * The param field for `lookup` (none: by reference, core's contract), once the key is one this
 * mount may ask about: a mount with `orderIdPrefix` handles only its own orders (mounts.ts), so an
 * order number outside the prefix belongs to another mount, or to nobody here.
 */
function lookupField(
  lookup: { by: StatusLookup } | undefined,
  key: string,
  orderIdPrefix: string | undefined,
): 'transactionId' | 'mchOrderId' {
  // A JavaScript caller's null or other word is refused rather than read as a reference.
  const by: unknown = lookup === undefined ? 'reference' : lookup?.by;
  if (by !== 'reference' && by !== 'orderId')
    throw new TypeError(
      `${SOURCE}: fetchStatus looks up by 'reference' or 'orderId', not ${String(by)}`,
    );
  const field = by === 'reference' ? 'transactionId' : 'mchOrderId';
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError(`${SOURCE}: fetchStatus needs the ${field}`);
  if (field === 'mchOrderId' && orderIdPrefix !== undefined && !key.startsWith(orderIdPrefix))
    throw new TypeError(
      `${SOURCE}: fetchStatus by orderId ${JSON.stringify(key).slice(0, 70)} does not start with this mount's orderIdPrefix ${JSON.stringify(orderIdPrefix)}: a mount asks only about its own orders (the orderIdPrefix rule)`,
    );
  return field;
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
    // JSON, but not the platform's envelope: no retry changes it (a proxy page is not JSON above).
    throw new GatewayApiError(`${what} is not a JSON object`, { source: SOURCE, retryable: false });
  return value as Record<string, unknown>;
}
