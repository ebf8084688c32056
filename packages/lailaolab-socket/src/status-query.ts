import {
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  formatFieldProblems,
  GatewayApiError,
  getAjv,
  isRetryableStatus,
  parseJson,
  PayloadError,
  requestGateway,
  toFieldProblems,
} from '@payhook/core/plugin';
import {
  isTransactionId,
  SOURCE,
  statusResponseSchema,
  type LailaolabStatusData,
  type LailaolabStatusResponse,
} from './schema';

/**
 * The API host in the Lailaolab docs (e.g. https://payment-doc.lailaolab.com/v1/payment-link);
 * PhaJay's SDK uses https://payment-gateway.phajay.co.
 */
export const DEFAULT_API_BASE = 'https://payment-gateway.lailaolab.com';
export const STATUS_PATH = '/v1/api/payment/check-transaction/status/';

export interface LailaolabStatusClientOptions {
  /**
   * The key sent as `Authorization: Basic base64(<key>)`: a sandbox key's answers are about
   * sandbox transactions only, so the provider gives it the key of its mount's mode.
   */
  apiKey: string;
  /** Default https://payment-gateway.lailaolab.com. */
  apiBase?: string;
  /** Per request, default 10,000 ms. */
  timeoutMs?: number;
}

export type LailaolabStatusResult =
  | { found: true; data: LailaolabStatusData; response: LailaolabStatusResponse }
  | { found: false; response: LailaolabStatusResponse | null };

export interface LailaolabStatusClient {
  readonly apiBase: string;
  /**
   * Asks the gateway about one transaction. Throws GatewayApiError when it cannot answer, and a
   * PayloadError, before any request, for an id that is not a Lailaolab transaction id.
   */
  check(transactionId: string): Promise<LailaolabStatusResult>;
}

export function checkApiBase(value: unknown, option = 'apiBase'): string {
  if (value === undefined) return DEFAULT_API_BASE;
  checkHttpUrl(value, option, SOURCE);
  return value as string;
}

export function checkKey(value: unknown, option: string): string {
  return checkRequiredText(value, option, 'the secret key from the PhaJay portal', SOURCE);
}

/**
 * The status API client (https://payment-doc.lailaolab.com/v1/check-transaction-status, as cited by
 * the barlus SDK): `GET {apiBase}/v1/api/payment/check-transaction/status/{id}` with the raw key
 * Base64-encoded as Basic credentials, no `user:` separator (barlus request.go, react-phajay
 * base-client.ts). Numbers are kept as their exact text.
 */
export function createLailaolabStatusClient(
  options: LailaolabStatusClientOptions,
): LailaolabStatusClient {
  const apiKey = checkKey(options.apiKey, 'apiKey');
  const apiBase = checkApiBase(options.apiBase).replace(/\/+$/, '');
  const timeoutMs = checkPositiveMs(options.timeoutMs, 10_000, 'timeoutMs', SOURCE);
  const authorization = `Basic ${Buffer.from(apiKey, 'utf8').toString('base64')}`;
  const validate = getAjv().compile(statusResponseSchema);

  return {
    apiBase,
    async check(transactionId) {
      // Checked, not only encoded: encodeURIComponent leaves `.` as it is, and a `..` segment
      // would take the call (with the merchant's key) one level up the gateway's API.
      if (!isTransactionId(transactionId))
        throw new PayloadError(
          "transactionId is not a Lailaolab transaction id (1-64 letters, digits, '-' or '_'); no status query was made",
          { source: SOURCE },
        );
      const response = await requestGateway(
        `${apiBase}${STATUS_PATH}${encodeURIComponent(transactionId)}`,
        { headers: { authorization }, timeoutMs, source: SOURCE },
      );
      const fail = (problem: string, retryable: boolean, gatewayMessage?: string): never => {
        throw new GatewayApiError(
          `status API answered HTTP ${response.status} for transaction ${transactionId}: ${problem}`,
          { source: SOURCE, retryable, httpStatus: response.status, gatewayMessage },
        );
      };
      let body: unknown;
      try {
        body = parseJson(response.text, { numbers: 'text', source: SOURCE, what: 'status answer' });
      } catch {
        body = undefined;
      }
      const message =
        body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
      // barlus transaction.go: not found is a message-only answer with data null.
      if (message === 'PAYMENT_NOT_FOUND' && (response.status === 200 || response.status === 404))
        return { found: false, response: body as LailaolabStatusResponse };
      if (response.status === 401 || response.status === 403)
        fail('the key was refused', false, typeof message === 'string' ? message : undefined);
      if (response.status < 200 || response.status >= 300)
        fail(
          'unexpected status',
          isRetryableStatus(response.status),
          typeof message === 'string' ? message : undefined,
        );
      if (body === undefined) fail('the body is not JSON', true);
      if (!validate(body))
        fail(`unexpected shape (${formatFieldProblems(toFieldProblems(validate.errors))})`, false);
      const typed = body as LailaolabStatusResponse;
      if (!typed.data) return { found: false, response: typed };
      if (typed.data.transactionId !== transactionId)
        fail(`it describes another transaction (${typed.data.transactionId})`, false);
      return { found: true, data: typed.data, response: typed };
    },
  };
}
