import {
  mountProvider,
  ProviderConfigError,
  type Delivery,
  type PaymentHub,
  type ReceiveResult,
} from '@payhook/core/plugin';
import { io, type Socket } from 'socket.io-client';
import { backoffDelay } from './backoff';
import {
  resolveProviderOptions,
  resolveSourceOptions,
  type LailaolabSourceOptions,
} from './options';
import { buildProvider, type LailaolabProvider } from './provider';
import { followAwaited, sweep, unwatch, watch, watching, type SweepReport } from './recovery';
import { isTransactionId, PROVIDER_ID, SOURCE } from './schema';
import { createSourceState, report, sanitize, track, type SourceState } from './source-state';
import { awaitedOn } from './confirm';

export type LailaolabSourceState =
  'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'closed';

export interface LailaolabSourceStatus {
  state: LailaolabSourceState;
  connected: boolean;
  /** ISO time of the last message on the channel, or null. */
  lastMessageAt: string | null;
  lastConnectedAt: string | null;
  /**
   * Lailaolab payments awaiting on the hub's awaited list: as of this process's last read of it
   * (`watching()`, every `sweep()`), counted since by its own watches and unwatches and by the
   * hub's `awaited.settled`/`awaited.overdue` notices (another instance's changes show at the
   * next read).
   */
  watched: number;
  /** Failed connection attempts since the last successful connect. */
  reconnectAttempt: number;
}

export interface LailaolabSource {
  /**
   * The provider the source feeds to `hub.receive` (socket messages) and the hub's sweeper
   * (`hub.reconcile`); give it to the middleware to share it.
   */
  readonly provider: LailaolabProvider;
  /**
   * Awaits a transaction (e.g. right after generating its QR): `hub.expectPayment(provider,
   * { reference: transactionId, until: now + (ttlMs ?? watchTtlMs) })`. The first of the socket,
   * the webhook and the hub's sweeper to bring its final answer settles it; with none by `until`,
   * the hub sends `awaited.overdue`. Throws a TypeError at once for an id that is not a transaction
   * id or a bad ttl. Resolves true once the hub's awaited list holds it (awaiting, or already
   * settled); false, reported on `source.error`, when the list refused it (full, `until` beyond
   * the hub's `awaited.maxAwaitMs`), could not be written, or holds it as ended (unwatched or
   * overdue: not awaited again until the list purges it). Never rejects.
   */
  watch(transactionId: string, options?: { ttlMs?: number }): Promise<boolean>;
  /**
   * Stops awaiting it: the awaited list has no delete, so this makes its entry overdue
   * (`lastResult: 'unwatched'`) without the `awaited.overdue` notice; a later `watch()` of the same
   * id resolves false until the list purges the entry (`awaited.keepFinishedMs` after its `until`).
   * Resolves whether it was awaiting. Never rejects (a failure is on `source.error`).
   */
  unwatch(transactionId: string): Promise<boolean>;
  /**
   * The transactions awaiting on the hub's list (Lailaolab's, by reference), soonest `until` first,
   * at most 10,000; rejects when the list cannot be read.
   */
  watching(): Promise<string[]>;
  /**
   * Asks now, through the hub's sweeper, about every awaiting Lailaolab payment, due or not, once
   * each (what `hub.sweep({ provider: 'lailaolab', all: true })` is meant for; recovery.ts says why
   * it is not that call yet); also run after every connect. The gateway's budget of status queries
   * still applies. The periodic sweep is the hub's (its `awaited.sweepEveryMs`). Never rejects.
   */
  sweep(): Promise<SweepReport>;
  status(): LailaolabSourceStatus;
  /**
   * Disconnects, stops its timers and waits for deliveries, watches and sweeps in flight.
   * Idempotent. The hub's sweeper is the hub's: `hub.close()` stops it.
   */
  close(): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/**
 * Subscribes to the Lailaolab channel `join::<secret>` and hands every message to `hub.receive`.
 * Reconnects with backoff and jitter, reports on `source.up`/`source.down`/`source.error`, and
 * recovers payments made while disconnected by having the hub's sweeper ask the status API about
 * the awaited (watched) transactions after every connect.
 */
export function createLailaolabSource(
  hub: PaymentHub,
  options: LailaolabSourceOptions,
): LailaolabSource {
  if (!hub || typeof hub.receive !== 'function' || typeof hub.reconcile !== 'function')
    throw new ProviderConfigError('hub', 'must be a PaymentHub from createPaymentHub()', {
      source: SOURCE,
    });
  const resolved = resolveProviderOptions(options, hub.logger);
  const config = resolveSourceOptions(options, resolved.secretKey);
  // The webhook's budget spares the transactions awaited on the hub.
  const provider = buildProvider(resolved, awaitedOn(hub, resolved.mode));
  // Before any socket opens: the hub must remember events longer than a confirmation may be old.
  mountProvider(hub, provider);
  for (const warning of config.deprecations)
    hub.logger.warn({ provider: PROVIDER_ID }, `${SOURCE}: ${warning}`);
  const socket: Socket = io(config.url, {
    ...config.socketOptions,
    forceNew: true,
    // Our own backoff: socket.io's does not reconnect after a server-side disconnect or a refused
    // connection, and a merchant's payment feed must.
    reconnection: false,
    autoConnect: false,
    timeout: config.connectTimeoutMs,
  });
  const state = createSourceState({ hub, provider, config, socket, secretKey: resolved.secretKey });
  listen(state);
  state.unfollow = followAwaited(state);
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
  // The channel has no replay: whatever was paid while we were away is found by asking, about
  // every awaited payment, not only the due ones. Always: a shared awaited list may hold
  // transactions another process (or an earlier run) watched.
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

/** A final outcome settled its awaited payment already (in hub.receive); a retryable one awaits it. */
function afterMessage(state: SourceState, result: ReceiveResult, transactionId?: string): void {
  // Nothing redelivers a socket message: a listener failure, a busy claim or a confirmation that
  // could not be had (the status API down: the confirm step's 5xx) awaits the transaction, and the
  // hub's sweeper asks about it again.
  const retry = result.outcome === 'failed' || result.outcome === 'busy';
  if (retry && isTransactionId(transactionId) && !state.closed) void watch(state, transactionId);
}

function sourceStatus(state: SourceState): LailaolabSourceStatus {
  return {
    state: state.phase,
    connected: state.socket.connected,
    lastMessageAt: state.lastMessageAt?.toISOString() ?? null,
    lastConnectedAt: state.lastConnectedAt?.toISOString() ?? null,
    watched: state.watched,
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
    state.unfollow();
    state.socket.disconnect();
    state.socket.off();
    if (wasConnected) report(state, 'source.down', `closed by close()`);
    while (state.inflight.size > 0) await Promise.allSettled([...state.inflight]);
  })();
  return state.closing;
}
