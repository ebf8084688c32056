import { notifyHub, type PaymentHub } from '@payhook/core/plugin';
import type { Socket } from 'socket.io-client';
import type { SourceConfig } from './options';
import type { LailaolabProvider } from './provider';
import { PROVIDER_ID, SOURCE } from './schema';
import type { LailaolabSourceState } from './source';

/**
 * Everything a running source knows, in one object that its functions (connect and reconnect,
 * message handling, the watches on the hub's awaited list, close) share: no closure holds state
 * of its own.
 */
export interface SourceState {
  readonly hub: PaymentHub;
  readonly provider: LailaolabProvider;
  readonly config: SourceConfig;
  readonly socket: Socket;
  /** The secret key as it may appear in an error text: raw, URL-encoded, form-encoded. */
  readonly secretForms: readonly string[];
  phase: LailaolabSourceState;
  /** Failed connection attempts since the last successful connect. */
  attempt: number;
  everConnected: boolean;
  lastMessageAt: Date | null;
  lastConnectedAt: Date | null;
  reconnectTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  closing: Promise<void> | undefined;
  /**
   * Lailaolab payments awaiting on the hub's list as of this process's last read of it, counted
   * since by its own watches, unwatches and the hub's `awaited.*` notices (recovery.ts).
   */
  watched: number;
  /** The source's last sweep (the next one runs after it). */
  sweeping: Promise<unknown> | undefined;
  /** Stops following the hub's `awaited.*` notices (close()). */
  unfollow: () => void;
  /** Deliveries, watches and sweeps not finished yet: close() waits for them. */
  readonly inflight: Set<Promise<unknown>>;
}

export function createSourceState(init: {
  hub: PaymentHub;
  provider: LailaolabProvider;
  config: SourceConfig;
  socket: Socket;
  secretKey: string;
}): SourceState {
  const { secretKey, ...fixed } = init;
  return {
    ...fixed,
    secretForms: [
      secretKey,
      encodeURIComponent(secretKey),
      new URLSearchParams({ k: secretKey }).toString().slice(2),
    ],
    phase: 'connecting',
    attempt: 0,
    everConnected: false,
    lastMessageAt: null,
    lastConnectedAt: null,
    reconnectTimer: undefined,
    closed: false,
    closing: undefined,
    watched: 0,
    sweeping: undefined,
    unfollow: () => undefined,
    inflight: new Set(),
  };
}

/** Keeps `promise` in flight until it settles, so that close() waits for it. */
export function track<T>(state: SourceState, promise: Promise<T>): Promise<T> {
  state.inflight.add(promise);
  void promise.finally(() => state.inflight.delete(promise)).catch(() => undefined);
  return promise;
}

/** An error fit for logs and listeners: its message (and socket.io's description), key removed. */
export function sanitize(state: SourceState, error: unknown): Error {
  const e = error as { message?: unknown; description?: unknown };
  const description =
    e?.description instanceof Error
      ? `: ${e.description.message}`
      : typeof e?.description === 'string' || typeof e?.description === 'number'
        ? `: ${e.description}`
        : '';
  const text = `${String(e?.message ?? error)}${description}`;
  const redacted = state.secretForms.reduce(
    (t, form) => (form ? t.split(form).join('[secret]') : t),
    text,
  );
  return new Error(`${SOURCE}: ${redacted}`);
}

/** Logs a source report and emits it on the hub's `source.up`/`source.down`/`source.error`. */
export function report(
  state: SourceState,
  name: 'source.up' | 'source.down' | 'source.error',
  detail: string,
  error?: Error,
): void {
  const level = name === 'source.up' ? 'info' : 'warn';
  state.hub.logger[level]({ provider: PROVIDER_ID, detail }, `${SOURCE}: ${name} ${detail}`);
  notifyHub(
    state.hub,
    name,
    error ? { provider: PROVIDER_ID, detail, error } : { provider: PROVIDER_ID, detail },
  );
}
