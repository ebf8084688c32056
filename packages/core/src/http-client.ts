import { GatewayApiError } from './errors';

export interface GatewayRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as JSON when an object, as-is when a string. */
  body?: unknown;
  /** Default 10 s: a reconciliation call must not hang a worker. */
  timeoutMs?: number;
  source?: string;
}

export interface GatewayResponse {
  status: number;
  text: string;
  headers: Headers;
}

/**
 * One HTTP call to a gateway API, for the plugins' status queries and clients. Network failures and
 * timeouts become a retryable GatewayApiError; any HTTP answer is returned for the plugin to judge.
 * Neither the request body nor its headers appear in an error (they hold keys and signatures).
 */
export async function requestGateway(
  url: string,
  options: GatewayRequestOptions = {},
): Promise<GatewayResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 10_000);
  try {
    const response = await fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: controller.signal,
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  } catch (cause) {
    const timedOut = controller.signal.aborted;
    throw new GatewayApiError(
      `${timedOut ? 'timed out calling' : 'could not reach'} ${new URL(url).origin}${new URL(url).pathname}`,
      {
        source: options.source,
        retryable: true,
        cause,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a gateway API's HTTP answer is worth asking again: a server error or a rate limit is
 * temporary; any other refusal will be the same next time.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}
