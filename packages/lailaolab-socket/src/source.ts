import {
  ProviderConfigError,
  type Delivery,
  type PaymentHub,
  type ReceiveResult,
} from '@payhook/core';
import { mountProvider } from '@payhook/core/plugin';
import { io, type Socket } from 'socket.io-client';
import { backoffDelay } from './backoff';
import {
  resolveProviderOptions,
  resolveSourceOptions,
  type LailaolabSourceOptions,
} from './options';
import { buildProvider, type LailaolabProvider } from './provider';
import {
  FINAL,
  forget,
  isWatched,
  sweep,
  unwatch,
  watch,
  watching,
  type SweepReport,
} from './recovery';
import { isTransactionId, SOURCE } from './schema';
import { createSourceState, report, sanitize, track, type SourceState } from './source-state';
import { createMemoryWatchList } from './watch-list';

export type LailaolabSourceState =
  'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'closed';

export interface LailaolabSourceStatus {
  state: LailaolabSourceState;
  connected: boolean;
  /** ISO time of the last message on the channel, or null. */
  lastMessageAt: string | null;
  lastConnectedAt: string | null;
  /**
   * Transactions being watched for a missed payment: the watch list's size when this process last
   * wrote or read it (a shared list may have changed since), plus watches not yet written to it.
   */
  watched: number;
  /** Failed connection attempts since the last successful connect. */
  reconnectAttempt: number;
}

export interface LailaolabSource {
  /**
   * The provider the source feeds to `hub.receive` (socket messages) and `hub.reconcile` (the
   * sweep); give it to the middleware to share it.
   */
  readonly provider: LailaolabProvider;
  /**
   * Follow a transaction until it completes or its watch expires (e.g. right after generating its
   * QR): the source asks the status API about it after every reconnect and on the sweep interval.
   * Throws a TypeError at once for an id that is not a transaction id. Resolves true once the
   * watch list holds it; false when the list could not be written (reported on `source.error`):
   * the watch is then kept in this process and written again at the next sweep. Never rejects.
   */
  watch(transactionId: string, options?: { ttlMs?: number }): Promise<boolean>;
  /** Stops following it; whether it was watched. Never rejects (a failure is on `source.error`). */
  unwatch(transactionId: string): Promise<boolean>;
  /** The watched transactions, soonest expiry first; rejects when the watch list cannot be read. */
  watching(): Promise<string[]>;
  /** Runs a status sweep now (also run after every connect and on the interval). */
  sweep(): Promise<SweepReport>;
  status(): LailaolabSourceStatus;
  /** Disconnects, stops every timer and waits for deliveries in flight. Idempotent. */
  close(): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/**
 * Subscribes to the Lailaolab channel `join::<secret>` and hands every message to `hub.receive`.
 * Reconnects with backoff and jitter, reports on `source.up`/`source.down`/`source.error`, and
 * recovers payments made while disconnected by asking the status API about watched transactions.
 */
export function createLailaolabSource(
  hub: PaymentHub,
  options: LailaolabSourceOptions,
): LailaolabSource {
  if (!hub || typeof hub.receive !== 'function' || typeof hub.reconcile !== 'function')
    throw new ProviderConfigError('hub', 'must be a PaymentHub from createPaymentHub()', {
      source: SOURCE,
    });
  const resolved = resolveProviderOptions(options);
  // The webhook's budget spares the transactions this source watches; its state exists from
  // below on, before any delivery can reach the provider.
  const ref: { state?: SourceState } = {};
  const provider = buildProvider(resolved, (id) =>
    ref.state ? isWatched(ref.state, id) : Promise.resolve(false),
  );
  // Before any socket opens: the hub must remember events longer than a confirmation may be old.
  mountProvider(hub, provider);
  const config = resolveSourceOptions(options, resolved.secretKey);
  const watchList = config.watchList ?? createMemoryWatchList({ maxEntries: config.maxWatched });
  const socket: Socket = io(config.url, {
    ...config.socketOptions,
    forceNew: true,
    // Our own backoff: socket.io's does not reconnect after a server-side disconnect or a refused
    // connection, and a merchant's payment feed must.
    reconnection: false,
    autoConnect: false,
    timeout: config.connectTimeoutMs,
  });
  const state = createSourceState({
    hub,
    provider,
    config,
    watchList,
    socket,
    secretKey: resolved.secretKey,
  });
  ref.state = state;
  listen(state);
  if (config.sweepIntervalMs > 0) {
    state.sweepTimer = setInterval(() => void sweep(state), config.sweepIntervalMs);
    // The socket or the reconnect timer keeps the process alive; the sweep timer need not.
    state.sweepTimer.unref();
  }
  socket.connect();
  return {
    provider,
    watch: (transactionId, watchOptions) => watch(state, transactionId, watchOptions),
    unwatch: (transactionId) => unwatch(state, transactionId),
    watching: () => watching(state),
    sweep: () => sweep(state),
    status: () => sourceStatus(state),
    close: () => closeSource(state),
  };
}

/** Wires the socket's events to the functions below; each one does nothing once closed. */
function listen(state: SourceState): void {
  const { socket } = state;
  const unlessClosed =
    <A extends unknown[]>(handler: (state: SourceState, ...args: A) => void) =>
    (...args: A): void => {
      if (!state.closed) handler(state, ...args);
    };
  socket.on(state.config.channel, unlessClosed(onMessage));
  socket.on('connect', unlessClosed(onConnect));
  socket.on('disconnect', unlessClosed(onDisconnect));
  socket.on('connect_error', unlessClosed(onConnectError));
}

function onConnect(state: SourceState): void {
  const { where } = state.config;
  const detail = state.everConnected
    ? `reconnected to ${where} after ${state.attempt} failed attempt(s)`
    : `connected to ${where}`;
  state.everConnected = true;
  state.attempt = 0;
  state.phase = 'connected';
  state.lastConnectedAt = new Date();
  report(state, 'source.up', detail);
  // The channel has no replay: whatever was paid while we were away is found by asking. Always:
  // a shared watch list may hold transactions another process (or an earlier run) watched.
  void sweep(state);
}

function onDisconnect(state: SourceState, reason: string): void {
  report(state, 'source.down', `disconnected from ${state.config.where}: ${reason}`);
  scheduleReconnect(state);
}

function onConnectError(state: SourceState, error: Error): void {
  const { where } = state.config;
  // socket.active is false when the server refused us (its middleware said no), true for a
  // network failure.
  const refused = !state.socket.active;
  report(
    state,
    'source.error',
    refused
      ? `${where} refused the connection (wrong secretKey?)`
      : `could not connect to ${where}`,
    sanitize(state, error),
  );
  scheduleReconnect(state);
}

/** The next connection attempt after the backoff delay, or `stopped` once maxAttempts is spent. */
function scheduleReconnect(state: SourceState): void {
  if (state.closed || state.reconnectTimer || state.socket.connected) return;
  const { reconnect, where } = state.config;
  if (state.attempt >= reconnect.maxAttempts) {
    state.phase = 'stopped';
    report(
      state,
      'source.error',
      `gave up after ${state.attempt} failed connection attempts to ${where}`,
    );
    return;
  }
  state.phase = state.everConnected ? 'reconnecting' : 'connecting';
  const delay = backoffDelay(state.attempt, reconnect);
  state.attempt++;
  state.reconnectTimer = setTimeout(() => {
    state.reconnectTimer = undefined;
    if (!state.closed) state.socket.connect();
  }, delay);
}

/** One message of the channel, handed to hub.receive as a decoded socket delivery. */
function onMessage(state: SourceState, message: unknown): void {
  const receivedAt = new Date();
  state.lastMessageAt = receivedAt;
  const delivery: Delivery = { body: EMPTY, headers: {}, message, transport: 'socket', receivedAt };
  const transactionId =
    message &&
    typeof message === 'object' &&
    typeof (message as { transactionId?: unknown }).transactionId === 'string'
      ? (message as { transactionId: string }).transactionId
      : undefined;
  void track(
    state,
    state.hub.receive(state.provider, delivery).then(
      (result) => afterMessage(state, result, transactionId),
      (error: unknown) =>
        report(
          state,
          'source.error',
          'a socket message could not be processed',
          sanitize(state, error),
        ),
    ),
  );
}

function afterMessage(state: SourceState, result: ReceiveResult, transactionId?: string): void {
  if (FINAL.includes(result.outcome)) {
    for (const event of result.events)
      if (event.type === 'payment.completed') void track(state, forget(state, event.transactionId));
    return;
  }
  // Nothing redelivers a socket message: a listener failure, a busy claim or a confirmation that
  // could not be had (the status API down: the confirm step's 5xx) puts the transaction on the
  // watch list, and the next sweep asks about it again.
  const retry = result.outcome === 'failed' || result.outcome === 'busy';
  if (retry && isTransactionId(transactionId) && !state.closed) void watch(state, transactionId);
}

function sourceStatus(state: SourceState): LailaolabSourceStatus {
  return {
    state: state.phase,
    connected: state.socket.connected,
    lastMessageAt: state.lastMessageAt?.toISOString() ?? null,
    lastConnectedAt: state.lastConnectedAt?.toISOString() ?? null,
    watched: state.listSize + state.unsaved.size,
    reconnectAttempt: state.attempt,
  };
}

/** Disconnects, stops the timers and waits for everything in flight; the same promise each call. */
function closeSource(state: SourceState): Promise<void> {
  if (state.closing) return state.closing;
  state.closed = true;
  state.closing = (async () => {
    const wasConnected = state.socket.connected;
    state.phase = 'closed';
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = undefined;
    clearInterval(state.sweepTimer);
    state.socket.disconnect();
    state.socket.off();
    if (wasConnected) report(state, 'source.down', `closed by close()`);
    while (state.inflight.size > 0) await Promise.allSettled([...state.inflight]);
  })();
  return state.closing;
}
