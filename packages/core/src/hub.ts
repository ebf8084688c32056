import { EventEmitter } from 'eventemitter3';
import {
  PAYMENT_EVENT_TYPES,
  isPaymentEventType,
  type PaymentEvent,
  type PaymentEventType,
} from './events';
import {
  ConfigError,
  ListenerError,
  ListenerTimeoutError,
  PayloadError,
  PaymentError,
  SignatureError,
  StoreError,
  isPaymentError,
  type PaymentErrorLike,
} from './errors';
import { silentLogger, type Logger } from './logger';
import {
  unwrapVerified,
  type Delivery,
  type HttpReply,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type AnyPaymentProvider,
} from './provider';
import { createMemoryStore, isMemoryStore, type IdempotencyStore } from './store';

export interface ListenerContext {
  /** Aborted when the handler timeout passes: the gateway is then told to retry. */
  signal: AbortSignal;
  delivery: Delivery;
}

export interface UnhandledDelivery {
  provider: string;
  /** The payment event nobody listens to, when that is why it is unhandled. */
  event?: PaymentEvent;
  /** Why it is not a payment event ("payout", "unknown event name refund.created"...). */
  reason: string;
  /**
   * Whether the delivery's authenticity was established (signature, secret channel or status
   * query). False for an unsigned notice nobody confirmed: report it, never act on it.
   */
  verified: boolean;
  raw: unknown;
  delivery: Delivery;
}

export interface ErrorContext {
  provider?: string;
  event?: PaymentEvent;
  delivery?: Delivery;
}

/** Reported by long-lived sources (the Lailaolab socket) on `source.up`, `source.down`, `source.error`. */
export interface SourceStatus {
  provider: string;
  detail?: string;
  error?: Error;
}

type PaymentChannels = {
  [K in PaymentEventType]: [event: PaymentEvent & { type: K }, context: ListenerContext];
};

interface NoticeChannels {
  unhandled: [delivery: UnhandledDelivery];
  duplicate: [event: PaymentEvent];
  /** A delivery was superseded: e.g. a failure notice for a payment already completed. */
  superseded: [event: PaymentEvent, reason: string];
  error: [error: PaymentErrorLike, context: ErrorContext];
  'source.up': [status: SourceStatus];
  'source.down': [status: SourceStatus];
  'source.error': [status: SourceStatus];
}

export type HubChannels = PaymentChannels & NoticeChannels;
export type HubEventName = keyof HubChannels;
export type HubListener<K extends HubEventName> = (...args: HubChannels[K]) => unknown;
export type AnyPaymentListener = (event: PaymentEvent, context: ListenerContext) => unknown;

export type ReceiveOutcome =
  | 'processed'
  | 'duplicate'
  | 'busy'
  | 'unhandled'
  | 'ignored'
  | 'pending'
  | 'superseded'
  | 'failed'
  | 'rejected';

export interface ReceiveResult {
  outcome: ReceiveOutcome;
  /** What to answer the gateway: its own success or retry body, or an error reply. */
  reply: HttpReply;
  /** The normalized events of the delivery (dispatched or not). */
  events: PaymentEvent[];
  error?: PaymentErrorLike;
}

export interface PaymentHubOptions {
  store?: IdempotencyStore;
  logger?: Logger;
  /**
   * How long the gateway waits for its answer while listeners run (default 8,000 ms). Past it the
   * gateway gets its retry body, but the listeners keep running and keep the event's claim (renewed
   * every leaseMs / 3) until they settle: committed when they resolve, released when they reject.
   * Redeliveries meanwhile get the retry body too.
   */
  handlerTimeoutMs?: number;
  /**
   * How long a claim holds without renewal (default 30,000 ms): only a process that dies stops
   * renewing, so this is how soon a redelivery can take over the event of a crashed process.
   */
  leaseMs?: number;
  /**
   * How long a processed event is remembered (default 72 h). It must outlive the gateways' retry
   * windows (Cashy: about 17 h) and every provider's maxAgeMs (checked at mount).
   */
  retentionMs?: number;
  /**
   * How long a commit that fails after the listeners succeeded is retried, with backoff, before
   * it is reported on `error` as ERR_COMMIT_FAILED (default 5,000 ms; shorter than leaseMs).
   */
  commitRetryMs?: number;
  /**
   * Payment types the merchant does not handle on purpose: with no listener, they are acknowledged
   * and reported on `unhandled` as ignored. Any other type with no listener gets the retry body and
   * is never marked done, so adding the listener later still processes the redelivery.
   */
  ignore?: readonly PaymentEventType[];
  /**
   * Most events dispatched at once (listeners still running count, timed out or not). Beyond it a
   * delivery gets the retry body at once, without a claim. Default: no cap.
   */
  maxInFlight?: number;
}

export interface PaymentHub {
  on<K extends HubEventName>(name: K, listener: HubListener<K>): PaymentHub;
  once<K extends HubEventName>(name: K, listener: HubListener<K>): PaymentHub;
  off<K extends HubEventName>(name: K, listener: HubListener<K>): PaymentHub;
  /** Every payment event, whatever its type; awaited like the typed listeners. */
  onAny(listener: AnyPaymentListener): PaymentHub;
  offAny(listener: AnyPaymentListener): PaymentHub;
  /**
   * The transport-free entry point: verify → validate → confirm → normalize → claim → dispatch →
   * commit/release.
   */
  receive(provider: AnyPaymentProvider, delivery: Delivery): Promise<ReceiveResult>;
  /**
   * Asks the gateway about a payment (the provider's `fetchStatus`) and processes what it says
   * through the same claim/dispatch path as a notification: a payment seen both ways is processed
   * once. `outcome: 'unhandled'` when the gateway knows no such payment.
   */
  reconcile(provider: AnyPaymentProvider, reference: string): Promise<ReceiveResult>;
  /** For adapters: report a delivery refused before it reached `receive` (413, 415, 405...). */
  reject(provider: AnyPaymentProvider, error: PaymentErrorLike, delivery?: Delivery): HttpReply;
  /** For sources: report on a notice channel (`source.up`, `source.down`, `source.error`). */
  notify<K extends keyof NoticeChannels>(name: K, ...args: NoticeChannels[K]): void;
  listenerCount(name: HubEventName | '*'): number;
  readonly store: IdempotencyStore;
  readonly logger: Logger;
  readonly options: Readonly<{
    handlerTimeoutMs: number;
    leaseMs: number;
    retentionMs: number;
    commitRetryMs: number;
    ignore: readonly PaymentEventType[];
    maxInFlight: number | undefined;
  }>;
}

type Collect = (result: unknown) => void;
type Wrapper = (args: unknown[], collect: Collect) => void;
const ANY = '*';

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null &&
  (typeof v === 'object' || typeof v === 'function') &&
  typeof (v as { then?: unknown }).then === 'function';

export function errorReply(error: PaymentErrorLike | unknown): HttpReply {
  const known = isPaymentError(error);
  const status = known ? error.statusCode : 500;
  const body = known
    ? ((error as PaymentErrorLike & { toJSON?: () => unknown }).toJSON?.() ?? {
        code: error.code,
        message: error.message,
      })
    : { code: 'ERR_INTERNAL', message: '@payhook/core: internal error' };
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: body }),
  };
}

/** What a dispatch came to: listeners 0 means nobody listens to the type. */
interface Dispatched {
  listeners: number;
  failures: unknown[];
  /** Set when the handler timeout passed first: resolves with the failures once they settle. */
  settled?: Promise<unknown[]>;
}
const NO_LISTENER: Dispatched = Object.freeze({ listeners: 0, failures: [] }) as Dispatched;
const SUCCEEDED: Dispatched = Object.freeze({ listeners: 1, failures: [] }) as Dispatched;

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * Renews the claim every leaseMs / 3 while a timed-out listener runs, so that only a process that
 * dies lets the lease lapse. A store without `renew` cannot: the lease then lapses after leaseMs.
 */
function keepLease(
  store: IdempotencyStore,
  key: string,
  token: string,
  leaseMs: number,
  logger: Logger,
): () => void {
  const renew = store.renew?.bind(store);
  if (!renew) {
    logger.warn(
      { key },
      '@payhook/core: the store cannot renew a claim; the lease lapses after leaseMs',
    );
    return () => {};
  }
  const renewOnce = (): void => {
    renew(key, token, leaseMs).then(
      (held) => {
        if (!held) {
          clearInterval(timer);
          logger.warn({ key }, '@payhook/core: a timed-out listener lost its claim');
        }
      },
      (error: unknown) => logger.warn({ key, err: error }, '@payhook/core: lease renewal failed'),
    );
  };
  // Every third of a lease, and at once: the handler timeout may be close to the lease's end.
  const timer = setInterval(renewOnce, Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref?.();
  renewOnce();
  return () => clearInterval(timer);
}

function checkIgnore(value: unknown): readonly PaymentEventType[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((t) => isPaymentEventType(t)))
    throw new ConfigError(
      'ignore',
      `must be a list of payment event types (${PAYMENT_EVENT_TYPES.join(', ')})`,
    );
  return Object.freeze([...value]) as readonly PaymentEventType[];
}

let memoryStoreWarned = false;
/** The memory store forgets on restart: say so once, where production operators look. */
function warnIfMemoryStoreInProduction(store: IdempotencyStore): void {
  if (memoryStoreWarned || process.env.NODE_ENV !== 'production' || !isMemoryStore(store)) return;
  memoryStoreWarned = true;
  process.emitWarning(
    'the in-memory idempotency store forgets every processed event when the process restarts, and ' +
      'each instance has its own: a replay after a restart, or on another instance, is processed again. ' +
      'Use @payhook/redis-store (shared, survives restarts of the app) or @payhook/postgres.',
    { type: 'PayhookWarning', code: 'PAYHOOK_MEMORY_STORE' },
  );
}

function checkEventName(name: string): HubEventName {
  if (!HUB_EVENT_SET.has(name as HubEventName))
    throw new ConfigError(
      'event name',
      `"${String(name)}" is not an event of the hub; use one of ${HUB_EVENT_NAMES.join(', ')}`,
    );
  return name as HubEventName;
}

function positiveInt(value: number | undefined, fallback: number, option: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new ConfigError(option, 'must be a positive whole number of milliseconds');
  return v;
}

export function createPaymentHub(options: PaymentHubOptions = {}): PaymentHub {
  const handlerTimeoutMs = positiveInt(options.handlerTimeoutMs, 8_000, 'handlerTimeoutMs');
  const leaseMs = positiveInt(options.leaseMs, 30_000, 'leaseMs');
  const retentionMs = positiveInt(options.retentionMs, 72 * 3_600_000, 'retentionMs');
  if (leaseMs <= handlerTimeoutMs) {
    throw new ConfigError(
      'leaseMs',
      `(${leaseMs}) must be longer than handlerTimeoutMs (${handlerTimeoutMs}), or a slow listener's claim could be taken over while it runs`,
    );
  }
  if (retentionMs < leaseMs) throw new ConfigError('retentionMs', 'must be at least leaseMs');
  const commitRetryMs = positiveInt(
    options.commitRetryMs,
    Math.min(5_000, leaseMs / 2),
    'commitRetryMs',
  );
  if (commitRetryMs >= leaseMs)
    throw new ConfigError(
      'commitRetryMs',
      `(${commitRetryMs}) must be shorter than leaseMs (${leaseMs})`,
    );
  const ignore = checkIgnore(options.ignore);
  const maxInFlight =
    options.maxInFlight === undefined
      ? undefined
      : positiveInt(options.maxInFlight, 0, 'maxInFlight');
  const logger = options.logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function')
      throw new ConfigError('logger', `must have a ${level}() method (pino-compatible)`);
  }
  const store = options.store ?? createMemoryStore();
  warnIfMemoryStoreInProduction(store);
  for (const op of ['claim', 'commit', 'release'] as const) {
    if (typeof store[op] !== 'function')
      throw new ConfigError('store', `must implement ${op}() (IdempotencyStore)`);
  }

  const emitter = new EventEmitter();
  const wrappers = new WeakMap<(...args: never[]) => unknown, Wrapper>();
  const wrap = (fn: (...args: never[]) => unknown): Wrapper => {
    let w = wrappers.get(fn);
    if (!w) {
      w = (args, collect) => {
        try {
          collect((fn as (...a: unknown[]) => unknown)(...args));
        } catch (error) {
          collect(Promise.reject(error));
        }
      };
      wrappers.set(fn, w);
    }
    return w;
  };

  /** Calls every listener of `name`; returns what they returned (values or promises). */
  const call = (name: string, args: unknown[]): unknown[] => {
    const results: unknown[] = [];
    emitter.emit(name, args, (r: unknown) => results.push(r));
    return results;
  };

  const notify = <K extends keyof NoticeChannels>(name: K, ...args: NoticeChannels[K]): void => {
    for (const r of call(name, args)) {
      if (isThenable(r)) {
        Promise.resolve(r).catch((error: unknown) =>
          logger.error({ err: error, channel: name }, `@payhook/core: a ${name} listener failed`),
        );
      }
    }
  };

  const reportError = (error: PaymentErrorLike, context: ErrorContext): void => {
    const level = error.statusCode >= 500 ? 'error' : 'warn';
    logger[level](
      { code: error.code, provider: context.provider, eventId: context.event?.id },
      error.message,
    );
    notify('error', error, context);
  };

  /**
   * Runs every listener of the event concurrently. Resolves with the failures (empty = success), or
   * at the handler timeout with the timeout and `settled`, which resolves with the failures once the
   * listeners really finish: the caller keeps the claim until then.
   */
  const dispatch = (event: PaymentEvent, delivery: Delivery): Dispatched | Promise<Dispatched> => {
    // The AbortController is made only when a listener reads `signal` (most never do): it was the
    // largest single cost of a dispatch. A signal read after the timeout comes already aborted.
    let controller: AbortController | undefined;
    let timedOut: ListenerTimeoutError | undefined;
    const context: ListenerContext = {
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (timedOut) controller.abort(timedOut);
        }
        return controller.signal;
      },
      delivery,
    };
    const args = [event, context];
    const results = call(event.type, args);
    for (const r of call(ANY, args)) results.push(r);
    if (results.length === 0) return NO_LISTENER;
    if (!results.some(isThenable)) return SUCCEEDED;
    // One promise that counts settlements, instead of Promise.race over allSettled and a timer
    // promise: same outcome (failures in listener order, or the timeout), fewer allocations.
    return new Promise<Dispatched>((resolve) => {
      const outcomes: Array<{ error: unknown } | undefined> = new Array(results.length);
      let pending = results.length;
      let answered = false;
      let settledLate: ((failures: unknown[]) => void) | undefined;
      const timer = setTimeout(() => {
        answered = true;
        timedOut = new ListenerTimeoutError(handlerTimeoutMs, event.id);
        controller?.abort(timedOut);
        const settled = new Promise<unknown[]>((r) => (settledLate = r));
        resolve({ listeners: results.length, failures: [timedOut], settled });
      }, handlerTimeoutMs);
      timer.unref?.();
      const settle = (): void => {
        if (--pending > 0) return;
        const failures: unknown[] = [];
        for (const o of outcomes) if (o) failures.push(o.error);
        if (answered) return settledLate!(failures);
        answered = true;
        clearTimeout(timer);
        resolve(failures.length === 0 ? SUCCEEDED : { listeners: results.length, failures });
      };
      results.forEach((r, i) => {
        Promise.resolve(r).then(settle, (error: unknown) => {
          outcomes[i] = { error };
          settle();
        });
      });
    });
  };

  const finalize = (
    provider: AnyPaymentProvider,
    draft: PaymentEventDraft,
    raw: unknown,
    delivery: Delivery,
    keyIndex?: number,
  ): PaymentEvent => {
    const event: PaymentEvent = {
      // The one rule for event ids: the provider id, a colon, the plugin's own stable key.
      id: `${provider.id}:${draft.id}`,
      type: draft.type,
      provider: provider.id,
      orderId: draft.orderId,
      transactionId: draft.transactionId,
      amount: draft.amount,
      currency: draft.currency,
      occurredAt: draft.occurredAt,
      receivedAt: delivery.receivedAt.toISOString(),
      verification: draft.verification ?? provider.verification,
      raw: draft.raw ?? raw,
    };
    if (keyIndex !== undefined) event.keyIndex = keyIndex;
    if (draft.failure) event.failure = draft.failure;
    if (draft.refund) event.refund = draft.refund;
    if (draft.details) event.details = draft.details;
    return event;
  };

  const completedMarker = (event: PaymentEvent): string =>
    `${event.provider}:completed:${event.transactionId}`;

  /** Records that the transaction completed: one write when the store can, else claim + commit. */
  const markCompleted = async (event: PaymentEvent): Promise<void> => {
    const marker = completedMarker(event);
    if (store.markDone) return store.markDone(marker, retentionMs);
    const claim = await store.claim(marker, leaseMs);
    if (claim.state === 'claimed') await store.commit(marker, claim.token, retentionMs);
  };

  const reject = (
    provider: AnyPaymentProvider,
    error: PaymentErrorLike,
    delivery?: Delivery,
  ): HttpReply => {
    reportError(error, { provider: provider.id, delivery });
    return errorReply(error);
  };

  type EventOutcome =
    'processed' | 'duplicate' | 'busy' | 'superseded' | 'failed' | 'unhandled' | 'ignored';

  /** Events whose listeners run now, timed out or not (for maxInFlight). */
  let inFlight = 0;

  const processEvent = async (
    event: PaymentEvent,
    delivery: Delivery,
  ): Promise<[EventOutcome, PaymentErrorLike?]> => {
    // A failure notice for a payment that already completed is stale (out-of-order or replayed):
    // telling the merchant "failed" now would undo a paid order.
    if (event.type === 'payment.failed') {
      const marker = completedMarker(event);
      const probe = await store.claim(marker, leaseMs);
      if (probe.state === 'claimed') await store.release(marker, probe.token);
      else if (probe.state === 'done') {
        notify('superseded', event, 'the payment already completed');
        logger.info(
          { eventId: event.id },
          '@payhook/core: failure notice superseded by an earlier completion',
        );
        return ['superseded'];
      } else return ['busy'];
    }
    if (maxInFlight !== undefined && inFlight >= maxInFlight) {
      logger.warn(
        { eventId: event.id, inFlight },
        '@payhook/core: maxInFlight reached; asking the gateway to retry',
      );
      return ['busy'];
    }
    const claim = await store.claim(event.id, leaseMs);
    if (claim.state === 'done') {
      logger.debug({ eventId: event.id }, '@payhook/core: duplicate delivery acknowledged');
      notify('duplicate', event);
      return ['duplicate'];
    }
    if (claim.state === 'busy') {
      logger.debug(
        { eventId: event.id },
        '@payhook/core: event in flight elsewhere; asking for a retry',
      );
      return ['busy'];
    }
    inFlight++;
    let run: Dispatched;
    try {
      run = await dispatch(event, delivery);
    } catch (cause) {
      inFlight--;
      throw cause;
    }
    if (run.settled) {
      // Timed out: the gateway hears "retry" now, but the claim stays ours until the listeners end.
      settleLater(event, claim.token, run.settled, delivery);
      const error = new ListenerError(run.failures, event);
      reportError(error, { provider: event.provider, event, delivery });
      return ['failed', error];
    }
    inFlight--;
    if (run.listeners === 0) return noListener(event, claim.token, delivery);
    if (run.failures.length > 0) {
      await releaseClaim(event, claim.token, delivery);
      const error = new ListenerError(run.failures, event);
      reportError(error, { provider: event.provider, event, delivery });
      return ['failed', error];
    }
    const commitError = await commitProcessed(event, claim.token);
    if (commitError) reportError(commitError, { provider: event.provider, event, delivery });
    // The listeners did succeed: the gateway is told so even when the record could not be written
    // (a retry answer would make a redelivery run them again once the lease lapses).
    return ['processed', commitError];
  };

  const releaseClaim = async (event: PaymentEvent, token: string, delivery?: Delivery) => {
    try {
      await store.release(event.id, token);
    } catch (cause) {
      reportError(new StoreError('release', cause), { provider: event.provider, event, delivery });
    }
  };

  /** Nobody listens to this type: never mark it done, so a listener added later still gets it. */
  const noListener = async (
    event: PaymentEvent,
    token: string,
    delivery: Delivery,
  ): Promise<[EventOutcome]> => {
    await releaseClaim(event, token, delivery);
    const ignored = ignore.includes(event.type);
    const reason = ignored
      ? `no listener for ${event.type}; ignored (hub option ignore)`
      : `no listener for ${event.type}; the gateway is asked to retry until one is added`;
    logger[ignored ? 'info' : 'warn'](
      { eventId: event.id, type: event.type },
      `@payhook/core: ${reason}`,
    );
    notify('unhandled', {
      provider: event.provider,
      event,
      reason,
      verified: true,
      raw: event.raw,
      delivery,
    });
    return [ignored ? 'ignored' : 'unhandled'];
  };

  /** The listeners outlived the handler timeout: hold the claim until they settle, then settle it. */
  const settleLater = (
    event: PaymentEvent,
    token: string,
    settled: Promise<unknown[]>,
    delivery: Delivery,
  ): void => {
    const stop = keepLease(store, event.id, token, leaseMs, logger);
    void settled
      .then(async (failures) => {
        stop();
        if (failures.length > 0) {
          await releaseClaim(event, token, delivery);
          reportError(new ListenerError(failures, event), {
            provider: event.provider,
            event,
            delivery,
          });
        } else {
          const commitError = await commitProcessed(event, token);
          if (commitError) reportError(commitError, { provider: event.provider, event, delivery });
        }
      })
      .finally(() => inFlight--);
  };

  /**
   * claimed → done after the listeners succeeded, retried with backoff for commitRetryMs: a store
   * blip must not turn a processed event into a redelivery that runs the listeners again. The
   * claim is never released here. Resolves with the ERR_COMMIT_FAILED error when it gave up.
   */
  const commitProcessed = async (
    event: PaymentEvent,
    token: string,
  ): Promise<PaymentError | undefined> => {
    const deadline = Date.now() + commitRetryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        if (event.type === 'payment.completed') {
          // The completion marker is written beside the commit, not after it: on a networked store
          // the two round trips overlap.
          await Promise.all([store.commit(event.id, token, retentionMs), markCompleted(event)]);
        } else {
          await store.commit(event.id, token, retentionMs);
        }
        logger.info(
          { eventId: event.id, type: event.type },
          '@payhook/core: payment event processed',
        );
        return undefined;
      } catch (cause) {
        const wait = Math.min(25 * 2 ** attempt, 1_000);
        if (Date.now() + wait > deadline)
          return new PaymentError(
            `the listeners of ${event.id} succeeded but the store could not record it within ${commitRetryMs} ms; ` +
              'a redelivery after the lease may run them again',
            { code: 'ERR_COMMIT_FAILED', cause },
          );
        logger.warn({ eventId: event.id, attempt }, '@payhook/core: commit failed; retrying');
        await sleep(wait);
      }
    }
  };

  const RANK: Record<EventOutcome, number> = {
    failed: 6,
    busy: 5,
    unhandled: 4,
    processed: 3,
    ignored: 2,
    superseded: 1,
    duplicate: 0,
  };

  const receive = async (
    provider: AnyPaymentProvider,
    delivery: Delivery,
  ): Promise<ReceiveResult> => {
    // 1 verify: fail closed. An unexpected throw from a plugin's verify is a 401, never a pass.
    let raw: unknown;
    let keyIndex: number | undefined;
    try {
      ({ payload: raw, keyIndex } = unwrapVerified(await provider.verify(delivery)));
    } catch (cause) {
      const error = isPaymentError(cause)
        ? cause
        : new SignatureError('verification failed unexpectedly', {
            source: provider.source,
            cause,
          });
      return refused(provider, error, delivery);
    }
    // 2 validate
    const problems = provider.validate(raw);
    if (problems) {
      const error = new PayloadError(
        `payload does not match the ${provider.id} schema: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`,
        {
          source: provider.source,
          fields: problems,
        },
      );
      return refused(provider, error, delivery);
    }
    // 3 confirm: the gateway's own record, for providers whose notification is not signed
    let confirmation: unknown;
    if (provider.confirm) {
      try {
        confirmation = await provider.confirm(raw, { delivery });
      } catch (cause) {
        return stepFailed(provider, 'confirm', cause, delivery);
      }
    }
    // 4 normalize
    let normalized: ReadonlyArray<PaymentEventDraft> | NotPaymentEvent;
    try {
      normalized = provider.normalize(raw, { delivery, confirmation });
    } catch (cause) {
      return stepFailed(provider, 'normalize', cause, delivery);
    }
    return settle(provider, normalized, raw, delivery, keyIndex);
  };

  const refused = (
    provider: AnyPaymentProvider,
    error: PaymentErrorLike,
    delivery: Delivery,
  ): ReceiveResult => ({
    outcome: 'rejected',
    reply: reject(provider, error, delivery),
    events: [],
    error,
  });

  /**
   * A PaymentError below 500 from confirm or normalize is a verdict on the delivery; a 5xx one (a
   * status API that is down) or anything else (a bug) gets the gateway's retry body, so the payment
   * is redelivered once the cause is gone, instead of being dropped.
   */
  const stepFailed = (
    provider: AnyPaymentProvider,
    step: 'confirm' | 'normalize',
    cause: unknown,
    delivery: Delivery,
  ): ReceiveResult => {
    if (isPaymentError(cause) && cause.statusCode < 500) return refused(provider, cause, delivery);
    const error = isPaymentError(cause)
      ? cause
      : new PaymentError(`${step} failed: ${(cause as Error)?.message ?? String(cause)}`, {
          code: 'ERR_NORMALIZE_FAILED',
          source: provider.source,
          cause,
        });
    reportError(error, { provider: provider.id, delivery });
    return { outcome: 'failed', reply: provider.ack.retry, events: [], error };
  };

  /** 5-8: the normalized result, through claim, dispatch, commit or release, and the answer. */
  const settle = async (
    provider: AnyPaymentProvider,
    normalized: ReadonlyArray<PaymentEventDraft> | NotPaymentEvent,
    raw: unknown,
    delivery: Delivery,
    keyIndex?: number,
  ): Promise<ReceiveResult> => {
    if (!Array.isArray(normalized) || normalized.length === 0) {
      const note = normalized as NotPaymentEvent | readonly [];
      const kind = 'kind' in note ? note.kind : 'not-a-payment-event';
      const reason = 'reason' in note ? note.reason : 'no payment event in this delivery';
      if (kind === 'pending') {
        logger.debug(
          { provider: provider.id, reason },
          '@payhook/core: payment not final yet; acknowledged',
        );
        return { outcome: 'pending', reply: provider.ack.ok, events: [] };
      }
      const verified = !('verified' in note) || note.verified !== false;
      notify('unhandled', { provider: provider.id, reason, verified, raw, delivery });
      return { outcome: 'unhandled', reply: provider.ack.ok, events: [] };
    }
    const events = (normalized as ReadonlyArray<PaymentEventDraft>).map((d) =>
      finalize(provider, d, raw, delivery, keyIndex),
    );
    let outcome: EventOutcome = 'duplicate';
    let firstError: PaymentErrorLike | undefined;
    for (const event of events) {
      let result: [EventOutcome, PaymentErrorLike?];
      try {
        result = await processEvent(event, delivery);
      } catch (cause) {
        // A store that already speaks our catalogue (e.g. @payhook/redis-store) is reported as is.
        const error =
          isPaymentError(cause) && cause.code === 'ERR_STORE_UNAVAILABLE'
            ? cause
            : new StoreError('claim/commit', cause, provider.source);
        reportError(error, { provider: provider.id, event, delivery });
        result = ['failed', error];
      }
      if (RANK[result[0]] > RANK[outcome]) outcome = result[0];
      firstError ??= result[1];
    }
    // acknowledge: success only when every event is done (or deliberately ignored)
    const ok =
      outcome === 'processed' ||
      outcome === 'duplicate' ||
      outcome === 'superseded' ||
      outcome === 'ignored';
    return { outcome, reply: ok ? provider.ack.ok : provider.ack.retry, events, error: firstError };
  };

  const reconcile = async (
    provider: AnyPaymentProvider,
    reference: string,
  ): Promise<ReceiveResult> => {
    if (typeof provider.fetchStatus !== 'function')
      throw new ConfigError('provider', `${provider.id} has no status query (fetchStatus)`, {
        source: provider.source,
      });
    const delivery: Delivery = {
      body: Buffer.alloc(0),
      headers: {},
      transport: 'status-query',
      receivedAt: new Date(),
    };
    let found: Awaited<ReturnType<NonNullable<AnyPaymentProvider['fetchStatus']>>>;
    try {
      found = await provider.fetchStatus(reference);
    } catch (cause) {
      return stepFailed(provider, 'confirm', cause, delivery);
    }
    if (found === null) {
      const reason = `the gateway knows no payment ${reference}`;
      notify('unhandled', { provider: provider.id, reason, verified: true, raw: null, delivery });
      return { outcome: 'unhandled', reply: provider.ack.ok, events: [] };
    }
    return settle(provider, found, null, delivery);
  };

  const hub: PaymentHub = {
    on(name, listener) {
      emitter.on(checkEventName(name), wrap(listener as never));
      return hub;
    },
    once(name, listener) {
      emitter.once(checkEventName(name), wrap(listener as never));
      return hub;
    },
    off(name, listener) {
      checkEventName(name);
      const w = wrappers.get(listener as never);
      if (w) emitter.off(name, w);
      return hub;
    },
    onAny(listener) {
      emitter.on(ANY, wrap(listener as never));
      return hub;
    },
    offAny(listener) {
      const w = wrappers.get(listener as never);
      if (w) emitter.off(ANY, w);
      return hub;
    },
    receive,
    reconcile,
    reject,
    notify,
    listenerCount: (name) => emitter.listenerCount(name),
    store,
    logger,
    options: Object.freeze({
      handlerTimeoutMs,
      leaseMs,
      retentionMs,
      commitRetryMs,
      ignore,
      maxInFlight,
    }),
  };
  return hub;
}

/**
 * Called wherever a provider is mounted on a hub (the webhook middleware, a socket source): a
 * provider that accepts deliveries up to `maxAgeMs` old needs a hub that remembers processed events
 * for longer, or a genuine old delivery replayed after the store forgot it would be processed again.
 */
export function assertRetentionCovers(hub: PaymentHub, provider: AnyPaymentProvider): void {
  const maxAgeMs = provider.maxAgeMs;
  if (maxAgeMs === undefined) return;
  const retentionMs = hub.options.retentionMs;
  if (retentionMs <= maxAgeMs)
    throw new ConfigError(
      'retentionMs',
      `(${retentionMs} ms) must be longer than the ${provider.id} provider's maxAgeMs (${maxAgeMs} ms): ` +
        'a delivery still young enough to be accepted must never be one the store has forgotten',
      { source: provider.source },
    );
}

/** The names a hub accepts, for runtime checks. */
export const HUB_EVENT_NAMES: readonly HubEventName[] = Object.freeze([
  ...PAYMENT_EVENT_TYPES,
  'unhandled',
  'duplicate',
  'superseded',
  'error',
  'source.up',
  'source.down',
  'source.error',
]);
const HUB_EVENT_SET: ReadonlySet<HubEventName> = new Set([...HUB_EVENT_NAMES, ANY as HubEventName]);
