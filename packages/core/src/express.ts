import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyConsumedError,
  ConfigError,
  MethodNotAllowedError,
  PayloadError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  type PaymentErrorLike,
} from './errors';
import { mountProvider, rejectDelivery, type PaymentHub, type ReceiveResult } from './hub';
import type { AnyPaymentProvider, Delivery, HttpReply, PaymentProvider } from './provider';

export interface WebhookMiddlewareOptions {
  /** Largest body accepted, in bytes (default 64 KiB); larger is 413 before any crypto runs. */
  limit?: number;
  /** Called after each delivery with its result, e.g. for metrics. */
  onResult?: (result: ReceiveResult) => void;
}

/** What the adapter needs of a request: Node's IncomingMessage plus what body parsers may leave. */
export type WebhookRequest = IncomingMessage & {
  rawBody?: unknown;
  body?: unknown;
  _body?: boolean;
};
export type WebhookMiddleware = (
  req: WebhookRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/** What every gateway's `createXMiddleware` returns: the middleware, and the provider it runs. */
export type GatewayMiddleware<Raw = unknown> = WebhookMiddleware & {
  readonly provider: PaymentProvider<Raw>;
};

const DEFAULT_LIMIT = 64 * 1024;
const NO_BYTES = Buffer.alloc(0);

/**
 * The one factory shape of every gateway package: `createXMiddleware(hub, options)` takes the
 * provider's options plus the adapter's (`limit`, `onResult`) and returns the middleware with
 * `.provider`, so no gateway drops an adapter option or returns a different shape.
 */
export function createGatewayMiddleware<Options extends object, Raw>(
  hub: PaymentHub,
  options: Options & WebhookMiddlewareOptions,
  createProvider: (providerOptions: Options) => PaymentProvider<Raw>,
): GatewayMiddleware<Raw> {
  const { limit, onResult, ...providerOptions } = options ?? ({} as Options);
  const provider = createProvider(providerOptions as Options);
  return Object.assign(createWebhookMiddleware(hub, provider, { limit, onResult }), { provider });
}

/**
 * A body parser's `verify` hook that keeps the exact bytes for payhook when a parser has to run
 * first: `app.use(express.json({ verify: keepRawBody }))`. Typed on Node's IncomingMessage, so the
 * documented fix compiles under strict TypeScript.
 */
export function keepRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as WebhookRequest).rawBody = buf;
}

/** What one mounted adapter needs for every request: its hub, provider and checked options. */
interface Adapter {
  hub: PaymentHub;
  provider: AnyPaymentProvider;
  limit: number;
  accepted: readonly string[];
  acceptsAny: boolean;
  onResult?: WebhookMiddlewareOptions['onResult'];
}

/**
 * The Express adapter (it needs nothing of Express: a Node http handler works too). Mount it with
 * `app.use('/webhooks/x', middleware)`; it answers every request that reaches it.
 */
export function createWebhookMiddleware(
  hub: PaymentHub,
  provider: AnyPaymentProvider,
  options: WebhookMiddlewareOptions = {},
): WebhookMiddleware {
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit <= 0)
    throw new ConfigError('limit', 'must be a positive number of bytes', {
      source: provider.source,
    });
  mountProvider(hub, provider);
  const accepted = provider.contentTypes;
  const adapter: Adapter = {
    hub,
    provider,
    limit,
    accepted,
    acceptsAny: accepted.includes('*/*'),
    onResult: options.onResult,
  };
  return (req, res) => {
    const refusal = checkRequest(adapter, req);
    if (refusal) return refuse(adapter, req, res, refusal);
    handleDelivery(adapter, req, res);
  };
}

/** Why a request is refused before its body is read (method, content type or encoding), if it is. */
function checkRequest(adapter: Adapter, req: IncomingMessage): PaymentErrorLike | undefined {
  const { provider, accepted } = adapter;
  if (req.method !== 'POST') return new MethodNotAllowedError(String(req.method), provider.source);
  const contentType = mediaType(req.headers['content-type']);
  if (!adapter.acceptsAny && !accepted.includes(contentType))
    return new UnsupportedMediaTypeError(contentType || '(none)', accepted, provider.source);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity')
    return new UnsupportedMediaTypeError(
      `${contentType}; content-encoding=${encoding}`,
      accepted,
      provider.source,
    );
  return undefined;
}

/** Reads the exact bytes, runs them through the hub and sends its reply. */
function handleDelivery(adapter: Adapter, req: IncomingMessage, res: ServerResponse): void {
  const { hub, provider, limit, onResult } = adapter;
  const receivedAt = new Date();
  readRawBody(req, limit, provider.source)
    .then(
      (body) => {
        const delivery: Delivery = {
          body,
          headers: req.headers,
          transport: 'http',
          receivedAt,
          method: 'POST',
          url: req.url,
        };
        return hub.receive(provider, delivery).then((result) => {
          send(res, result.reply);
          onResult?.(result);
        });
      },
      (error: PaymentErrorLike) =>
        refuse(adapter, req, res, error, error.code === 'ERR_PAYLOAD_TOO_LARGE'),
    )
    .catch((error: unknown) => {
      // receive() reports its own failures; this is the last guard so a request never hangs.
      hub.logger.error(
        { err: error },
        '@payhook/core: unexpected failure in the webhook middleware',
      );
      if (!res.headersSent) send(res, provider.ack.retry);
    });
}

function refuse(
  { hub, provider }: Adapter,
  req: IncomingMessage,
  res: ServerResponse,
  error: PaymentErrorLike,
  closeConnection = false,
): void {
  // The body was not read (or not all of it): the inbox records the headers with no bytes.
  const delivery: Delivery = {
    body: NO_BYTES,
    headers: req.headers,
    transport: 'http',
    receivedAt: new Date(),
    method: req.method,
    url: req.url,
  };
  const reply = rejectDelivery(hub, provider, error, delivery);
  if (error.code === 'ERR_METHOD_NOT_ALLOWED') reply.headers = { ...reply.headers, allow: 'POST' };
  if (closeConnection) reply.headers = { ...reply.headers, connection: 'close' };
  send(res, reply);
}

function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/**
 * One writeHead with the reply's headers rather than a statusCode store and a setHeader per header:
 * on an Express response (whose prototype Express swaps) those were the largest self time of this
 * file in a profile of the load bench's server. Headers set earlier with setHeader are kept
 * (writeHead merges them, its own winning).
 */
function send(res: ServerResponse, reply: HttpReply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

/**
 * The raw bytes, from wherever they are: `req.rawBody` (kept by a parser's verify hook), a Buffer or
 * string `req.body` (express.raw / express.text), or the stream itself, read here with the limit.
 * A stream some parser already drained with nothing kept is refused at once, never waited on.
 */
export function readRawBody(req: WebhookRequest, limit: number, source?: string): Promise<Buffer> {
  const kept = req.rawBody !== undefined ? req.rawBody : req.body;
  if (Buffer.isBuffer(kept) || typeof kept === 'string') {
    const body = Buffer.isBuffer(kept) ? kept : Buffer.from(kept, 'utf8');
    return body.length > limit
      ? Promise.reject(new PayloadTooLargeError(limit, source))
      : Promise.resolve(body);
  }
  if (req._body === true || req.readableEnded) return Promise.reject(new BodyConsumedError(source));
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit, source));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop buffering; the 413 goes out with Connection: close so the rest is never read.
        req.pause();
        reject(new PayloadTooLargeError(limit, source));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(
        new PayloadError(`the request body could not be read: ${error.message}`, {
          code: 'ERR_PAYLOAD_MALFORMED',
          source,
        }),
      );
    };
    const onAborted = (): void => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
