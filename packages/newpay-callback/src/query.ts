import { GatewayApiError, isPaymentError, StatusMismatchError } from '@payhook/core';
import {
  formatFieldProblems,
  getAjv,
  isRetryableStatus,
  requestGateway,
  toFieldProblems,
  type GatewayResponse,
  type NormalizeResult,
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
import { signUniQueryPayRequest } from './sign';
import { parseNewpayJson, verifySignedParams, type VerifierConfig } from './verify';

export interface QueryConfig extends ResolvedQuery {
  verifier: VerifierConfig;
  timeZone: string;
}

type FetchStatus = (reference: string) => Promise<NormalizeResult<NewpayCallback> | null>;
type DataValidator = ReturnType<ReturnType<typeof getAjv>['compile']>;

const apiError = (message: string, extra: ConstructorParameters<typeof GatewayApiError>[1] = {}) =>
  new GatewayApiError(`uniQueryPay: ${message}`, { source: SOURCE, ...extra });

/**
 * v2 `uniQueryPay` by newpayOrderNo (NewPay GitBook 5.2 "Query Order"). The answer's `data` is
 * signed like a callback and is verified with the platform key before it is believed.
 */
export function createFetchStatus(config: QueryConfig): FetchStatus {
  const validateData = getAjv().compile(v2PaymentDataSchema);
  const url = `${config.baseUrl.replace(/\/+$/, '')}/uniQueryPay`;
  return async (reference) => {
    if (typeof reference !== 'string' || reference.length === 0) {
      throw new TypeError(`${SOURCE}: fetchStatus needs a newpayOrderNo`);
    }
    const body = signUniQueryPayRequest(
      { appId: config.verifier.appId, mchId: config.mchId, newpayOrderNo: reference },
      config.merchantPrivateKey,
    );
    const response = await requestGateway(url, {
      method: 'POST',
      body,
      timeoutMs: config.timeoutMs,
      source: SOURCE,
    });
    const receivedAt = new Date();
    const raw = readAnswer(response, reference, config.verifier, validateData);
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
 * The answer about `reference`, verified and checked, as a v2 callback; null when NewPay has no
 * data for it. Anything else (an HTTP error, a refusal, a bad signature, another order) throws.
 */
function readAnswer(
  response: GatewayResponse,
  reference: string,
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
    throw apiError('NewPay refused the query', {
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
    throw apiError('the answer does not verify', { httpStatus, cause });
  }
  if (!validateData(lossless.data)) {
    const problems = formatFieldProblems(toFieldProblems(validateData.errors));
    throw apiError(`unexpected answer: ${problems}`, { httpStatus });
  }
  const data = lossless.data as unknown as NewpayV2PaymentData;
  if (data.newpayOrderNo !== reference) {
    throw new StatusMismatchError(
      `uniQueryPay: asked about ${reference}, NewPay answered about ${data.newpayOrderNo}`,
      SOURCE,
    );
  }
  const timestamp = typeof lossless.timestamp === 'string' ? lossless.timestamp : '';
  return { ...lossless, timestamp, data } as NewpayV2Callback<NewpayV2PaymentData>;
}
