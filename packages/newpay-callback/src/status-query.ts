import {
  formatFieldProblems,
  GatewayApiError,
  getAjv,
  isPaymentError,
  isRetryableStatus,
  requestGateway,
  StatusMismatchError,
  toFieldProblems,
  type GatewayResponse,
  type NormalizeResult,
  type StatusLookup,
} from '@payhook/core/plugin';
import { normalizeV2Payment } from './normalize';
import type { ResolvedQuery } from './options';
import {
  SOURCE,
  v2PaymentDataSchema,
  type NewpayCallback,
  type NewpayV2Callback,
  type NewpayV2PaymentData,
} from './schema';
import { signUniQueryPayRequest } from './signing';
import { parseNewpayJson, verifySignedParams, type VerifierConfig } from './verify';

export interface QueryConfig extends ResolvedQuery {
  verifier: VerifierConfig;
  timeZone: string;
}

type FetchStatus = (
  key: string,
  lookup?: { by: StatusLookup },
) => Promise<NormalizeResult<NewpayCallback> | null>;
type DataValidator = ReturnType<ReturnType<typeof getAjv>['compile']>;

const apiError = (message: string, extra: ConstructorParameters<typeof GatewayApiError>[1] = {}) =>
  new GatewayApiError(`uniQueryPay: ${message}`, { source: SOURCE, ...extra });

/**
 * The uniQueryPay field a key goes in, which the answer's `data` must then echo: `uniQueryPay`
 * takes `newpayOrderNo` or `mchOrderNo`, "one of the two order numbers is required" (NewPay GitBook
 * 5.2 "Query Order", https://newpay-api-document.gitbook.io/newpay-api-document/). So the hub can
 * ask about a payment it awaits by the merchant's order number, before it knows NewPay's.
 */
const LOOKUP_FIELDS = { reference: 'newpayOrderNo', orderId: 'mchOrderNo' } as const;
type LookupField = (typeof LOOKUP_FIELDS)[StatusLookup];

/** The field for `lookup` (none: by reference, core's contract); anything else is a caller's bug. */
function lookupField(lookup: { by: StatusLookup } | undefined): LookupField {
  // A JavaScript caller's null or other word is refused rather than read as a reference.
  const by: unknown = lookup === undefined ? 'reference' : lookup?.by;
  if (by !== 'reference' && by !== 'orderId')
    throw new TypeError(
      `${SOURCE}: fetchStatus looks up by 'reference' or 'orderId', not ${String(by)}`,
    );
  return LOOKUP_FIELDS[by];
}

/**
 * v2 `uniQueryPay` by newpayOrderNo, or by mchOrderNo when `lookup.by` is 'orderId' (NewPay GitBook
 * 5.2 "Query Order"). The answer's `data` is signed like a callback and is verified with the
 * platform key before it is believed.
 */
export function createFetchStatus(config: QueryConfig): FetchStatus {
  const validateData = getAjv().compile(v2PaymentDataSchema);
  const url = `${config.baseUrl.replace(/\/+$/, '')}/uniQueryPay`;
  return async (key, lookup) => {
    const field = lookupField(lookup);
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError(`${SOURCE}: fetchStatus needs a ${field}`);
    }
    const body = signUniQueryPayRequest(
      { appId: config.verifier.appId, mchId: config.mchId, [field]: key },
      config.merchantPrivateKey,
    );
    const response = await requestGateway(url, {
      method: 'POST',
      body,
      timeoutMs: config.timeoutMs,
      source: SOURCE,
    });
    const receivedAt = new Date();
    const raw = readAnswer(response, { field, key }, config.verifier, validateData);
    if (raw === null) return null;
    try {
      // No age check here: we asked, and an old paytime is the answer about an old payment.
      const result = normalizeV2Payment(raw, {
        timeZone: config.timeZone,
        receivedAt,
        verification: 'status-query',
      });
      return Array.isArray(result) ? result.map((draft) => ({ ...draft, raw })) : result;
    } catch (cause) {
      if (isPaymentError(cause)) throw apiError(`unexpected answer: ${cause.message}`, { cause });
      throw cause;
    }
  };
}

/**
 * The answer about `asked`, verified and checked, as a v2 callback; null when NewPay has no data
 * for it. Anything else (an HTTP error, a refusal, a bad signature, another order) throws.
 */
function readAnswer(
  response: GatewayResponse,
  asked: { field: LookupField; key: string },
  verifier: VerifierConfig,
  validateData: DataValidator,
): NewpayV2Callback<NewpayV2PaymentData> | null {
  const httpStatus = response.status;
  if (httpStatus < 200 || httpStatus >= 300) {
    throw apiError(`HTTP ${httpStatus}`, { httpStatus, retryable: isRetryableStatus(httpStatus) });
  }
  let parsed;
  try {
    parsed = parseNewpayJson(response.text, 'answer');
  } catch (cause) {
    throw apiError('the answer is not a JSON object', { httpStatus, cause });
  }
  const { lossless, tagged } = parsed;
  if (lossless.success !== true) {
    const { code, message } = lossless;
    // A refusal (SIGN_ERROR, an unknown appId) needs a change of configuration first.
    throw apiError('NewPay refused the query', {
      retryable: false,
      httpStatus,
      gatewayCode: typeof code === 'string' ? code : undefined,
      gatewayMessage: typeof message === 'string' ? message.slice(0, 200) : undefined,
    });
  }
  if (lossless.data === null || lossless.data === undefined) return null;
  try {
    verifySignedParams(tagged.data as never, verifier, 'uniQueryPay answer');
  } catch (cause) {
    // Fail closed: an answer that does not verify is not evidence of anything.
    throw apiError('the answer does not verify', { httpStatus, cause, retryable: false });
  }
  if (!validateData(lossless.data)) {
    const problems = formatFieldProblems(toFieldProblems(validateData.errors));
    // Verified, but not what this plugin reads: the same query gets the same answer until NewPay
    // or the plugin changes (no outage that should pause the sweep's other queries).
    throw apiError(`unexpected answer: ${problems}`, { httpStatus, retryable: false });
  }
  const data = lossless.data as unknown as NewpayV2PaymentData;
  // The field asked by: an answer by mchOrderNo names the newpayOrderNo we did not know yet.
  const answered = data[asked.field];
  if (answered !== asked.key) {
    throw new StatusMismatchError(
      `uniQueryPay: asked about ${asked.field} ${asked.key}, NewPay answered about ${asked.field} ${String(answered ?? '(none)')}`,
      SOURCE,
    );
  }
  const timestamp = typeof lossless.timestamp === 'string' ? lossless.timestamp : '';
  return { ...lossless, timestamp, data } as NewpayV2Callback<NewpayV2PaymentData>;
}
