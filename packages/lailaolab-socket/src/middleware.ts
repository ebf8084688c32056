import type { ServerResponse } from 'node:http';
import {
  createWebhookMiddleware,
  ProviderConfigError,
  type PaymentHub,
  type PaymentProvider,
  type ReceiveResult,
  type WebhookMiddleware,
  type WebhookMiddlewareOptions,
} from '@payhook/core';
import { type GatewayMiddleware } from '@payhook/core/plugin';
import { PROVIDER_ID, SOURCE } from './normalize';
import { createLailaolabProvider, type LailaolabProviderOptions } from './provider';
import type { LailaolabSource } from './source';
import type { LailaolabPayload } from './types';

export interface LailaolabMiddlewareOptions
  extends Partial<LailaolabProviderOptions>, WebhookMiddlewareOptions {
  /**
   * The running socket source, if any: its provider is shared and its state is reported on GET.
   * The middleware never opens a socket of its own. Without a source, `secretKey` is required
   * (the webhook is confirmed through the status API with it).
   */
  source?: LailaolabSource;
}

export interface LailaolabHealth {
  provider: string;
  /** `none` when the middleware was mounted without a source. */
  socket: 'none' | 'connected' | 'disconnected' | 'closed';
  connected: boolean | null;
  lastMessageAt: string | null;
  lastConnectedAt: string | null;
  watched: number;
}

/**
 * Express middleware for the Lailaolab portal webhook (POST, unsigned: every payment outcome is
 * confirmed through the status API before it is emitted) and a health route (GET/HEAD) for the
 * host app's probes: 200 when the socket is connected or there is none, 503 otherwise.
 */
export function createLailaolabMiddleware(
  hub: PaymentHub,
  options: LailaolabMiddlewareOptions,
): GatewayMiddleware<LailaolabPayload> {
  if (!options || typeof options !== 'object')
    throw new ProviderConfigError('options', 'must be an object', { source: SOURCE });
  const source = options.source;
  if (source !== undefined && (typeof source.status !== 'function' || !source.provider))
    throw new ProviderConfigError('source', 'must come from createLailaolabSource()', {
      source: SOURCE,
    });
  const provider: PaymentProvider<LailaolabPayload> =
    source?.provider ?? createLailaolabProvider(options as LailaolabProviderOptions);
  const onResult = options.onResult;
  const webhook = createWebhookMiddleware(hub, provider, {
    limit: options.limit,
    onResult(result: ReceiveResult) {
      // Heard through the webhook: the socket source need not keep asking about it.
      if (source && (result.outcome === 'processed' || result.outcome === 'duplicate'))
        for (const event of result.events)
          if (event.type === 'payment.completed') source.unwatch(event.transactionId);
      onResult?.(result);
    },
  });

  const health = (res: ServerResponse, head: boolean): void => {
    const s = source?.status();
    const body: LailaolabHealth = {
      provider: PROVIDER_ID,
      socket: !s
        ? 'none'
        : s.state === 'closed'
          ? 'closed'
          : s.connected
            ? 'connected'
            : 'disconnected',
      connected: s ? s.connected : null,
      lastMessageAt: s?.lastMessageAt ?? null,
      lastConnectedAt: s?.lastConnectedAt ?? null,
      watched: s?.watched ?? 0,
    };
    const text = JSON.stringify(body);
    res.statusCode = !s || s.connected ? 200 : 503;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(head ? undefined : text);
  };

  const middleware: WebhookMiddleware = (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return health(res, req.method === 'HEAD');
    return webhook(req, res, next);
  };
  return Object.assign(middleware, { provider });
}
