import type { ServerResponse } from 'node:http';
import { PROVIDER_ID } from './schema';
import type { LailaolabSource } from './source';

export interface LailaolabHealth {
  provider: string;
  /** `none` when the middleware was mounted without a source. */
  socket: 'none' | 'connected' | 'disconnected' | 'closed';
  connected: boolean | null;
  lastMessageAt: string | null;
  lastConnectedAt: string | null;
  watched: number;
}

/** The middleware's GET/HEAD answer: 200 when the socket is connected or there is none, else 503. */
export function writeHealth(
  res: ServerResponse,
  source: LailaolabSource | undefined,
  head: boolean,
): void {
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
}
