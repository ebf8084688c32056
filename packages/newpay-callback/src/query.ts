import type { KeyObject } from 'node:crypto';
import { GatewayApiError, isPaymentError, StatusMismatchError } from '@payhook/core';
import {
  getAjv,
  requestGateway,
  toFieldProblems,
  type NormalizeResult,
} from '@payhook/core/plugin';
import { normalizeV2Payment } from './normalize';
import { v2PaymentDataSchema } from './schema';
import { signUniQueryPayRequest, SOURCE } from './sign';
import type { NewpayCallback, NewpayV2Callback, NewpayV2PaymentData } from './types';
import { parseNewpayJson, verifySignedParams, type VerifierConfig } from './verify';

export const DEFAULT_QUERY_BASE_URL = 'https://prod-openapi-v2.newpay.la/beta/pay';

export interface QueryConfig {
  verifier: VerifierConfig;
  timeZone: string;
  mchId: string;
  merchantPrivateKey: KeyObject;
  baseUrl: string;
  timeoutMs: number;
}

const apiError = (message: string, extra: ConstructorParameters<typeof GatewayApiError>[1] = {}) =>
  new GatewayApiError(`uniQueryPay: ${message}`, { source: SOURCE, ...extra });

/**
 * v2 `uniQueryPay` by newpayOrderNo (NewPay GitBook 5.2 "Query Order"). The answer's `data` is
 * signed like a callback and is verified with the platform key before it is believed.
 */
export function createFetchStatus(
  config: QueryConfig,
): (reference: string) => Promise<NormalizeResult<NewpayCallback> | null> {
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
    if (response.status < 200 || response.status >= 300) {
      throw apiError(`HTTP ${response.status}`, {
        httpStatus: response.status,
        retryable: response.status >= 500 || response.status === 429,
      });
    }
    let parsed;
    try {
      parsed = parseNewpayJson(response.text, 'answer');
    } catch (cause) {
      throw apiError('the answer is not a JSON object', { httpStatus: response.status, cause });
    }
    const { lossless, tagged } = parsed;
    if (lossless.success !== true) {
      const code = lossless.code;
      const message = lossless.message;
      throw apiError('NewPay refused the query', {
        httpStatus: response.status,
        gatewayCode: typeof code === 'string' ? code : undefined,
        gatewayMessage: typeof message === 'string' ? message.slice(0, 200) : undefined,
      });
    }
    if (lossless.data === null || lossless.data === undefined) return null;
    try {
      verifySignedParams(tagged.data as never, config.verifier, 'uniQueryPay answer');
    } catch (cause) {
      // Fail closed: an answer that does not verify is not evidence of anything.
      throw apiError('the answer does not verify', { httpStatus: response.status, cause });
    }
    if (!validateData(lossless.data)) {
      const problems = toFieldProblems(validateData.errors)
        .map((p) => `${p.path || '/'} ${p.message}`)
        .join('; ');
      throw apiError(`unexpected answer: ${problems}`, { httpStatus: response.status });
    }
    const data = lossless.data as unknown as NewpayV2PaymentData;
    if (data.newpayOrderNo !== reference) {
      throw new StatusMismatchError(
        `uniQueryPay: asked about ${reference}, NewPay answered about ${data.newpayOrderNo}`,
        SOURCE,
      );
    }
    const raw = {
      ...lossless,
      timestamp: typeof lossless.timestamp === 'string' ? lossless.timestamp : '',
      data,
    } as NewpayV2Callback<NewpayV2PaymentData>;
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
