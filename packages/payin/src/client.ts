import { randomBytes } from 'node:crypto';
import {
  GatewayApiError,
  isRetryableStatus,
  jsonNumber,
  normalizeDecimal,
  parseJson,
  requestGateway,
  type GatewayResponse,
  type JsonValue,
} from '@payhook/core/plugin';
import { buildCashyMessage, type SignCase } from './signing';
import { checkApiKey, checkBaseUrl, checkMerchantId, checkTimeout } from './options';
import { SOURCE, type CashyCreatedPayin, type CashyPayinOrder } from './schema';

export interface PayinClientOptions {
  /** API base URL, with any path prefix (`http://testclient.idcashypay.com/stage-api/`). */
  baseUrl: string;
  merchantId: string | number;
  apiKey: string;
  /** Per call, in ms (default 10,000). */
  timeoutMs?: number;
  /** Hex case of the Sign header sent (default 'upper', as in Cashy's examples). */
  signCase?: SignCase;
  /** Makes the `nonceStr` of each request (default 32 random hex characters, the field's limit). */
  nonceStr?: () => string;
}

/**
 * Body of /api/payIn ("Create Payin Order", https://docs.cashypro.com/en_us/<country>/payin.html).
 * `nonceStr` is filled in when absent.
 */
export interface CreatePayinRequest {
  currency: string;
  /** Payin PayType Enum value; sent as given (the docs type it int, their examples send strings). */
  payType: number | string;
  /** Decimal in major units; sent as a JSON number written exactly (`"100.10"` → `100.10`). */
  amount: string | number;
  mchOrderNo: string;
  notifyUrl: string;
  remark: string;
  realName: string;
  phone: string;
  email: string;
  /** Seconds (default 3600). */
  expireTime?: number;
  /** Only false is accepted today (default false). */
  reusableStatus?: boolean;
  idType?: string;
  idCard?: string;
  goodsSubject?: string;
  goodsBody?: string;
  nonceStr?: string;
}

/** The docs recommend the platform orderNo; mchOrderNo is used only when there is no orderNo. */
export type QueryPayinRequest =
  | { orderNo: string; mchOrderNo?: string; nonceStr?: string }
  | { orderNo?: string; mchOrderNo: string; nonceStr?: string };

export interface PayinClient {
  /** POST /api/payIn. Resolves with the answer's `data`; a gateway error is a GatewayApiError. */
  createPayin(request: CreatePayinRequest): Promise<CashyCreatedPayin>;
  /** POST /api/payInQuery. Resolves with the order; numbers are kept as their exact text. */
  queryPayin(request: QueryPayinRequest): Promise<CashyPayinOrder>;
}

/**
 * "can retry" in Cashy's error table (e.g. https://docs.cashypro.com/en_us/pak/appendix.html);
 * everything else needs a change first.
 */
const RETRYABLE_MESSAGES = new Set(['System_busy', 'System_Maintenance']);

export function createPayinClient(options: PayinClientOptions): PayinClient {
  const config: CallConfig = {
    base: checkBaseUrl(options?.baseUrl),
    merchantId: checkMerchantId(options.merchantId),
    apiKey: checkApiKey(options.apiKey),
    timeoutMs: checkTimeout(options.timeoutMs),
    signCase: options.signCase ?? 'upper',
  };
  const makeNonce = options.nonceStr ?? (() => randomBytes(16).toString('hex'));
  return {
    createPayin(request) {
      if (!request || typeof request.mchOrderNo !== 'string' || request.mchOrderNo.length === 0)
        return Promise.reject(new TypeError(`${SOURCE}: createPayin needs a mchOrderNo`));
      let amount: string;
      try {
        amount = normalizeDecimal(request.amount, { source: SOURCE });
      } catch {
        return Promise.reject(
          new TypeError(`${SOURCE}: createPayin amount must be a decimal amount in major units`),
        );
      }
      return call<CashyCreatedPayin>(config, 'api/payIn', payinBody(request, amount, makeNonce));
    },
    queryPayin(request) {
      const orderNo = request?.orderNo || undefined;
      const mchOrderNo = orderNo ? undefined : request?.mchOrderNo || undefined;
      if (!orderNo && !mchOrderNo)
        return Promise.reject(
          new TypeError(`${SOURCE}: queryPayin needs an orderNo or mchOrderNo`),
        );
      return call<CashyPayinOrder>(config, 'api/payInQuery', {
        mchOrderNo,
        orderNo,
        nonceStr: request.nonceStr ?? makeNonce(),
      });
    },
  };
}

/**
 * The /api/payIn body, in the field order of the docs' table: Cashy signs the bytes, so any order
 * works, but a stable one keeps requests comparable in logs.
 */
function payinBody(
  request: CreatePayinRequest,
  amount: string,
  makeNonce: () => string,
): { readonly [key: string]: JsonValue } {
  return {
    currency: request.currency,
    payType: request.payType,
    amount: jsonNumber(amount),
    reusableStatus: request.reusableStatus ?? false,
    mchOrderNo: request.mchOrderNo,
    expireTime: request.expireTime ?? 3600,
    notifyUrl: request.notifyUrl,
    nonceStr: request.nonceStr ?? makeNonce(),
    remark: request.remark,
    realName: request.realName,
    phone: request.phone,
    email: request.email,
    idType: request.idType,
    idCard: request.idCard,
    goodsSubject: request.goodsSubject,
    goodsBody: request.goodsBody,
  };
}

interface CallConfig {
  base: URL;
  merchantId: string;
  apiKey: string;
  timeoutMs: number;
  signCase: SignCase;
}

/** One signed POST; resolves with the answer's `data` when Cashy says code 200. */
async function call<T>(
  config: CallConfig,
  path: string,
  payload: { readonly [key: string]: JsonValue },
): Promise<T> {
  const signed = buildCashyMessage(payload, {
    merchantId: config.merchantId,
    apiKey: config.apiKey,
    signCase: config.signCase,
    contentType: 'application/json',
  });
  const response = await requestGateway(new URL(path, config.base).toString(), {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
    timeoutMs: config.timeoutMs,
    source: SOURCE,
  });
  return readAnswer(response, path) as T;
}

/** The `{code, msg, data}` envelope: only code 200 over a 2xx answer is success. */
function readAnswer(response: GatewayResponse, path: string): object {
  const status = response.status;
  let answer: unknown;
  try {
    answer = parseJson(response.text, { numbers: 'text', source: SOURCE, what: 'answer' });
  } catch (cause) {
    answer = undefined;
    if (status >= 200 && status < 300)
      throw new GatewayApiError(`/${path} answered HTTP ${status} with a body that is not JSON`, {
        source: SOURCE,
        httpStatus: status,
        cause,
      });
  }
  const envelope =
    answer !== null && typeof answer === 'object' && !Array.isArray(answer)
      ? (answer as { code?: unknown; msg?: unknown; data?: unknown })
      : {};
  const code = envelope.code === undefined ? undefined : String(envelope.code);
  const msg = typeof envelope.msg === 'string' ? envelope.msg : undefined;
  const failure = { source: SOURCE, gatewayCode: code, gatewayMessage: msg, httpStatus: status };
  if (code !== '200' || status < 200 || status >= 300) {
    throw new GatewayApiError(
      `/${path} failed: ${msg ?? 'no msg'} (code ${code ?? 'none'}, HTTP ${status})`,
      // No Cashy verdict at all (a proxy's 502, a rate limiter's 429): the HTTP status decides.
      {
        ...failure,
        retryable: msg !== undefined ? RETRYABLE_MESSAGES.has(msg) : isRetryableStatus(status),
      },
    );
  }
  const data = envelope.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    // Cashy said SUCCESS with nothing to read: asking again gets the same (no outage to wait out).
    throw new GatewayApiError(`/${path} answered SUCCESS without data`, {
      ...failure,
      retryable: false,
    });
  return data;
}
