import type { PaymentHub } from '@payhook/core';
import { notifyHub } from '@payhook/core/plugin';
import type { Socket } from 'socket.io-client';
import type { SourceConfig } from './options';
import type { LailaolabProvider } from './provider';
import type { SweepReport } from './recovery';
import { PROVIDER_ID, SOURCE } from './schema';
import type { LailaolabSourceState } from './source';
import type { WatchList } from './watch-list';

/**
 * Everything a running source knows, in one object that its functions (connect and reconnect,
 * message handling, recovery of watched transactions, close) share: no closure holds state of
 * its own.
 */
export interface SourceState {
  readonly hub: PaymentHub;
  readonly provider: LailaolabProvider;
  readonly config: SourceConfig;
  readonly watchList: WatchList;
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
  sweepTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  closing: Promise<void> | undefined;
  /**
   * Watches this process could not write to the watch list (its backend down), id → expiry: swept
   * from here and written again at the next sweep.
   */
  readonly unsaved: Map<string, number>;
  /** The watch list's size as of its last answer to this process. */
  listSize: number;
  /** Deliveries, watch writes and sweeps not finished yet: close() waits for them. */
  readonly inflight: Set<Promise<unknown>>;
  /** The sweep running now, and the one queued behind it. */
  running: Promise<SweepReport> | undefined;
  queued: Promise<SweepReport> | undefined;
}

export function createSourceState(init: {
  hub: PaymentHub;
  provider: LailaolabProvider;
  config: SourceConfig;
  watchList: WatchList;
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
    sweepTimer: undefined,
    closed: false,
    closing: undefined,
    unsaved: new Map(),
    listSize: 0,
    inflight: new Set(),
    running: undefined,
    queued: undefined,
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
