import {
  GatewayApiError,
  ProviderConfigError,
  type Delivery,
  type PaymentHub,
  type PaymentProvider,
  type ReceiveResult,
} from '@payhook/core';
import { assertRetentionCovers, notifyHub } from '@payhook/core/plugin';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { backoffDelay, resolveReconnect, type ReconnectOptions } from './backoff';
import { isTransactionId, PROVIDER_ID, SOURCE, type LailaolabConfirmation } from './normalize';
import { buildProvider, resolveProviderOptions, type LailaolabProviderOptions } from './provider';
import type { LailaolabPayload } from './types';
import { createMemoryWatchList, type WatchList } from './watch-list';

/**
 * https://payment-doc.lailaolab.com/v1/subscription:
 * `https://payment-Support.lailaolab.com/?key=<PAYMENT_Support_SECRET>`.
 */
export const DEFAULT_SOCKET_URL = 'https://payment-Support.lailaolab.com/';

export interface LailaolabSourceOptions extends LailaolabProviderOptions {
  /** Socket.IO server (default the documented https://payment-Support.lailaolab.com/). */
  url?: string;
  /** Put `?key=<secretKey>` (URL-encoded) on the URL, as the docs do (default true). */
  keyInUrl?: boolean;
  /** Backoff between reconnect attempts; forever by default. */
  reconnect?: ReconnectOptions;
  /** Status sweep of the watched transactions every N ms (default 60,000; 0 = only after connects). */
  sweepIntervalMs?: number;
  /** How long a watched transaction is followed (default 1 hour). */
  watchTtlMs?: number;
  /**
   * Where watched transactions are kept. Default: a list in this process (`maxWatched` entries),
   * which dies with it and is not seen by other instances. A shared one, such as
   * `createRedisWatchList({ store, name: 'lailaolab' })` from `@payhook/redis-store`, survives a
   * restart and is swept by every instance (give them a shared store too). The source never closes
   * it.
   */
  watchList?: WatchList;
  /**
   * Most transactions in the default watch list; those closest to their expiry are dropped beyond
   * it (default 10,000). A `watchList` you give has its own limit.
   */
  maxWatched?: number;
  /** Status queries in flight at once during a sweep (default 4). */
  statusConcurrency?: number;
  /** Connection attempt timeout (default 20,000 ms). */
  connectTimeoutMs?: number;
  /** Extra socket.io-client options (transports, extraHeaders...). Reconnection stays ours. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

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

export interface SweepReport {
  checked: number;
  /** Payment events processed for the first time by this sweep. */
  emitted: number;
  pending: number;
  notFound: number;
  /** Watches that ended by their time-to-live, without a query. */
  expired: number;
  errors: number;
}

export interface LailaolabSource {
  /**
   * The provider the source feeds to `hub.receive` (socket messages) and `hub.reconcile` (the
   * sweep); give it to the middleware to share it.
   */
  readonly provider: PaymentProvider<LailaolabPayload, LailaolabConfirmation | undefined>;
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
const emptySweepReport = (): SweepReport => ({
  checked: 0,
  emitted: 0,
  pending: 0,
  notFound: 0,
  expired: 0,
  errors: 0,
});

const FINAL: ReadonlyArray<ReceiveResult['outcome']> = [
  'processed',
  'duplicate',
  'superseded',
  'ignored',
];

function positive(value: number | undefined, fallback: number, option: string, zero = false) {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0 || (v === 0 && !zero))
    throw new ProviderConfigError(
      option,
      `must be a ${zero ? 'non-negative' : 'positive'} whole number`,
      {
        source: SOURCE,
      },
    );
  return v;
}

/** The socket URL with the key as the docs put it: `?key=` URL-encoded (keys hold `$`, `/`, `.`). */
export function lailaolabSocketUrl(url: string, secretKey: string, keyInUrl = true): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ProviderConfigError('url', 'must be an absolute http(s) or ws(s) URL', {
      source: SOURCE,
      cause,
    });
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol))
    throw new ProviderConfigError('url', 'must be an absolute http(s) or ws(s) URL', {
      source: SOURCE,
    });
  if (keyInUrl) parsed.searchParams.set('key', secretKey);
  return parsed.toString();
}

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
  const { secretKey } = resolved;
  const provider = buildProvider(resolved);
  // Before any socket opens: the hub must remember events longer than a confirmation may be old.
  assertRetentionCovers(hub, provider);
  const reconnect = resolveReconnect(options.reconnect);
  const sweepIntervalMs = positive(options.sweepIntervalMs, 60_000, 'sweepIntervalMs', true);
  const watchTtlMs = positive(options.watchTtlMs, 3_600_000, 'watchTtlMs');
  const maxWatched = positive(options.maxWatched, 10_000, 'maxWatched');
  const given = options.watchList;
  if (
    given !== undefined &&
    (!given ||
      typeof given.add !== 'function' ||
      typeof given.remove !== 'function' ||
      typeof given.list !== 'function')
  )
    throw new ProviderConfigError(
      'watchList',
      'must have add, remove and list (createMemoryWatchList, createRedisWatchList)',
      { source: SOURCE },
    );
  if (given !== undefined && options.maxWatched !== undefined)
    throw new ProviderConfigError(
      'maxWatched',
      'applies to the default watch list only: give the limit to your watchList',
      { source: SOURCE },
    );
  const watchList: WatchList = given ?? createMemoryWatchList({ maxEntries: maxWatched });
  const concurrency = positive(options.statusConcurrency, 4, 'statusConcurrency');
  const connectTimeoutMs = positive(options.connectTimeoutMs, 20_000, 'connectTimeoutMs');
  const url = lailaolabSocketUrl(
    options.url ?? DEFAULT_SOCKET_URL,
    secretKey,
    options.keyInUrl ?? true,
  );
  const where = (() => {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  })();
  // The documented channel carries every transaction of the merchant
  // (https://payment-doc.lailaolab.com/v1/subscription).
  const channel = `join::${secretKey}`;

  const encodedForms = [
    secretKey,
    encodeURIComponent(secretKey),
    new URLSearchParams({ k: secretKey }).toString().slice(2),
  ];
  const redact = (text: string): string =>
    encodedForms.reduce((t, form) => (form ? t.split(form).join('[secret]') : t), text);
  const sanitize = (error: unknown): Error => {
    const e = error as { message?: unknown; description?: unknown };
    const description =
      e?.description instanceof Error
        ? `: ${e.description.message}`
        : typeof e?.description === 'string' || typeof e?.description === 'number'
          ? `: ${e.description}`
          : '';
    return new Error(`${SOURCE}: ${redact(`${String(e?.message ?? error)}${description}`)}`);
  };

  const report = (
    name: 'source.up' | 'source.down' | 'source.error',
    detail: string,
    error?: Error,
  ): void => {
    const level = name === 'source.up' ? 'info' : 'warn';
    hub.logger[level]({ provider: PROVIDER_ID, detail }, `${SOURCE}: ${name} ${detail}`);
    notifyHub(
      hub,
      name,
      error ? { provider: PROVIDER_ID, detail, error } : { provider: PROVIDER_ID, detail },
    );
  };

  let state: LailaolabSourceState = 'connecting';
  let attempt = 0;
  let everConnected = false;
  let lastMessageAt: Date | null = null;
  let lastConnectedAt: Date | null = null;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  /**
   * Watches this process could not write to the watch list (its backend down), id → expiry: swept
   * from here and written again at the next sweep.
   */
  const unsaved = new Map<string, number>();
  /** The watch list's size as of its last answer to this process. */
  let listSize = 0;
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    inflight.add(promise);
    void promise.finally(() => inflight.delete(promise)).catch(() => undefined);
    return promise;
  };
  const listFailure = (what: string, error: unknown): void =>
    report('source.error', `the watch list could not ${what}`, sanitize(error));

  /** Writes one watch; false (reported, kept in `unsaved`) when the list could not be written. */
  const save = async (id: string, expiresAt: number): Promise<boolean> => {
    try {
      const { size, dropped } = await watchList.add(id, expiresAt);
      listSize = size;
      if (unsaved.get(id) === expiresAt) unsaved.delete(id);
      for (const oldest of dropped)
        hub.logger.warn(
          { provider: PROVIDER_ID, transactionId: oldest },
          `${SOURCE}: the watch list is full; transaction ${oldest}, closest to its expiry, is no longer followed`,
        );
      return true;
    } catch (error) {
      listFailure(`store the watch of transaction ${id}`, error);
      return false;
    }
  };

  /** Ends a watch (paid, or asked); a failure is reported: the next sweep ends it again. */
  const forget = async (id: string): Promise<boolean> => {
    const local = unsaved.delete(id);
    try {
      const { removed, size } = await watchList.remove(id);
      listSize = size;
      return removed || local;
    } catch (error) {
      listFailure(`remove transaction ${id}`, error);
      return local;
    }
  };

  const watch = (
    transactionId: string,
    watchOptions: { ttlMs?: number } = {},
  ): Promise<boolean> => {
    if (!isTransactionId(transactionId))
      throw new TypeError(
        `${SOURCE}: watch() needs a Lailaolab transaction id (1-64 letters, digits, '-' or '_')`,
      );
    const ttl = watchOptions.ttlMs ?? watchTtlMs;
    const expiresAt = Math.ceil(Date.now() + ttl);
    if (!Number.isFinite(ttl) || ttl <= 0 || !Number.isSafeInteger(expiresAt))
      throw new TypeError(`${SOURCE}: ttlMs must be a positive number of milliseconds`);
    // Counted and swept from here until the list has it.
    unsaved.set(transactionId, expiresAt);
    return track(save(transactionId, expiresAt));
  };

  const socket: Socket = io(url, {
    ...options.socketOptions,
    forceNew: true,
    // Our own backoff: socket.io's does not reconnect after a server-side disconnect or a refused
    // connection, and a merchant's payment feed must.
    reconnection: false,
    autoConnect: false,
    timeout: connectTimeoutMs,
  });

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer || socket.connected) return;
    if (attempt >= reconnect.maxAttempts) {
      state = 'stopped';
      report('source.error', `gave up after ${attempt} failed connection attempts to ${where}`);
      return;
    }
    state = everConnected ? 'reconnecting' : 'connecting';
    const delay = backoffDelay(attempt, reconnect);
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!closed) socket.connect();
    }, delay);
  };

  const afterMessage = (result: ReceiveResult, transactionId: string | undefined): void => {
    if (FINAL.includes(result.outcome)) {
      for (const event of result.events)
        if (event.type === 'payment.completed') void track(forget(event.transactionId));
      return;
    }
    // Nothing redelivers a socket message: a listener failure, a busy claim or a confirmation that
    // could not be had (the status API down: the confirm step's 5xx) puts the transaction on the
    // watch list, and the next sweep asks about it again.
    const retry = result.outcome === 'failed' || result.outcome === 'busy';
    if (retry && isTransactionId(transactionId) && !closed) void watch(transactionId);
  };

  socket.on(channel, (message: unknown) => {
    if (closed) return;
    const receivedAt = new Date();
    lastMessageAt = receivedAt;
    const delivery: Delivery = {
      body: EMPTY,
      headers: {},
      message,
      transport: 'socket',
      receivedAt,
    };
    const transactionId =
      message &&
      typeof message === 'object' &&
      typeof (message as { transactionId?: unknown }).transactionId === 'string'
        ? (message as { transactionId: string }).transactionId
        : undefined;
    void track(
      hub.receive(provider, delivery).then(
        (result) => afterMessage(result, transactionId),
        (error: unknown) =>
          report('source.error', 'a socket message could not be processed', sanitize(error)),
      ),
    );
  });

  socket.on('connect', () => {
    if (closed) return;
    const detail = everConnected
      ? `reconnected to ${where} after ${attempt} failed attempt(s)`
      : `connected to ${where}`;
    everConnected = true;
    attempt = 0;
    state = 'connected';
    lastConnectedAt = new Date();
    report('source.up', detail);
    // The channel has no replay: whatever was paid while we were away is found by asking. Always:
    // a shared watch list may hold transactions another process (or an earlier run) watched.
    void sweep();
  });

  socket.on('disconnect', (reason: string) => {
    if (closed) return;
    report('source.down', `disconnected from ${where}: ${reason}`);
    scheduleReconnect();
  });

  socket.on('connect_error', (error: Error) => {
    if (closed) return;
    // socket.active is false when the server refused us (its middleware said no), true for a
    // network failure.
    const refused = !socket.active;
    report(
      'source.error',
      refused
        ? `${where} refused the connection (wrong secretKey?)`
        : `could not connect to ${where}`,
      sanitize(error),
    );
    scheduleReconnect();
  });

  let running: Promise<SweepReport> | undefined;
  let queued: Promise<SweepReport> | undefined;

  const runSweep = async (): Promise<SweepReport> => {
    const result = emptySweepReport();
    const now = Date.now();
    // Watches that could not be written: those that ended stop here, the others are written again
    // (until the first failure: the backend is still away).
    for (const [id, expiresAt] of [...unsaved]) {
      if (expiresAt <= now) {
        unsaved.delete(id);
        result.expired++;
      } else if (closed) break;
      else if (!(await save(id, expiresAt))) {
        result.errors++;
        break;
      }
    }
    let ids: string[] = [];
    try {
      const entries = await watchList.list();
      ids = [...entries.ids];
      result.expired += entries.expired;
      listSize = ids.length;
    } catch (error) {
      result.errors++;
      listFailure('be read', error);
    }
    const listed = new Set(ids);
    for (const [id, expiresAt] of unsaved) if (expiresAt > now && !listed.has(id)) ids.push(id);
    let stop = false;
    const checkOne = async (id: string): Promise<void> => {
      if (!isTransactionId(id)) {
        // A shared list another program wrote to: nothing the status API could be asked about.
        result.errors++;
        report('source.error', 'the watch list holds an entry that is not a transaction id');
        await forget(id);
        return;
      }
      result.checked++;
      // The same claim and dispatch path as a notification: a payment the socket or the webhook
      // already delivered is a duplicate here, not a second event.
      let received: ReceiveResult;
      try {
        received = await hub.reconcile(provider, id);
      } catch (error) {
        result.errors++;
        report('source.error', `status query for transaction ${id} failed`, sanitize(error));
        return;
      }
      const error = received.error;
      if (error instanceof GatewayApiError || received.outcome === 'rejected') {
        result.errors++;
        report('source.error', `status query for transaction ${id} failed`, sanitize(error));
        // An unreachable API fails for every id alike: wait for the next sweep.
        if (error instanceof GatewayApiError && error.retryable) stop = true;
        return;
      }
      // Unhandled with events: no listener for their type yet (the watch goes on); without: the
      // gateway knows no such transaction.
      if (received.outcome === 'unhandled' && received.events.length === 0) result.notFound++;
      else if (received.outcome === 'pending') result.pending++;
      else if (FINAL.includes(received.outcome) && received.events.length > 0) {
        await forget(id);
        if (received.outcome === 'processed') result.emitted += received.events.length;
      }
    };
    const workers = Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (!stop && !closed && ids.length > 0) await checkOne(ids.shift()!);
    });
    await Promise.all(workers);
    return result;
  };

  const sweep = (): Promise<SweepReport> => {
    if (closed) return Promise.resolve(emptySweepReport());
    if (queued) return queued;
    const start = (): Promise<SweepReport> => {
      running = track(runSweep()).finally(() => {
        running = undefined;
      });
      return running;
    };
    if (running) {
      queued = running.then(() => {
        queued = undefined;
        return start();
      });
      return queued;
    }
    return start();
  };

  if (sweepIntervalMs > 0) {
    sweepTimer = setInterval(() => void sweep(), sweepIntervalMs);
    // The socket or the reconnect timer keeps the process alive; the sweep timer need not.
    sweepTimer.unref();
  }

  socket.connect();

  return {
    provider,
    watch,
    unwatch: (transactionId) =>
      isTransactionId(transactionId)
        ? track(forget(transactionId))
        : Promise.resolve(unsaved.delete(transactionId)),
    async watching() {
      const { ids } = await watchList.list();
      listSize = ids.length;
      const now = Date.now();
      const listed = new Set(ids);
      const pending = [...unsaved].filter(([id, at]) => at > now && !listed.has(id));
      return [...ids, ...pending.map(([id]) => id)];
    },
    sweep,
    status: () => ({
      state,
      connected: socket.connected,
      lastMessageAt: lastMessageAt?.toISOString() ?? null,
      lastConnectedAt: lastConnectedAt?.toISOString() ?? null,
      watched: listSize + unsaved.size,
      reconnectAttempt: attempt,
    }),
    close() {
      if (closing) return closing;
      closed = true;
      closing = (async () => {
        const wasConnected = socket.connected;
        state = 'closed';
        clearTimeout(reconnectTimer);
        reconnectTimer = undefined;
        clearInterval(sweepTimer);
        socket.disconnect();
        socket.off();
        if (wasConnected) report('source.down', `closed by close()`);
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
      })();
      return closing;
    },
  };
}
