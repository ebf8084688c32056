import { EventEmitter } from 'eventemitter3';
import { PAYMENT_EVENT_TYPES, type PaymentEvent, type PaymentEventType } from './events';
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
import { createMemoryStore, type IdempotencyStore } from './store';

export interface ListenerContext {
  /** Aborted when the handler timeout passes: the gateway is then told to retry. */
  signal: AbortSignal;
  delivery: Delivery;
}

export interface UnhandledDelivery {
  provider: string;
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
  /** How long listeners of one event may run before it counts as failed (default 8,000 ms). */
  handlerTimeoutMs?: number;
  /** How long a claim holds before another delivery may take it over (default 30,000 ms). */
  leaseMs?: number;
  /**
   * How long a processed event is remembered (default 72 h). It must outlive the gateways' retry
   * windows (Cashy: about 17 h): none of them signs a timestamp, so this is also the replay window.
   */
  retentionMs?: number;
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
  readonly options: Readonly<Required<Omit<PaymentHubOptions, 'store' | 'logger'>>>;
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
  const logger = options.logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function')
      throw new ConfigError('logger', `must have a ${level}() method (pino-compatible)`);
  }
  const store = options.store ?? createMemoryStore();
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

  /** Awaits every listener of the event concurrently; resolves with the failures (empty = success). */
  const dispatch = (event: PaymentEvent, delivery: Delivery): unknown[] | Promise<unknown[]> => {
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
    if (results.length === 0) {
      logger.warn(
        { eventId: event.id, type: event.type },
        `@payhook/core: no listener for ${event.type}; it is acknowledged unhandled`,
      );
      return [];
    }
    if (!results.some(isThenable)) return [];
    // One promise that counts settlements, instead of Promise.race over allSettled and a timer
    // promise: same outcome (failures in listener order, or the timeout), fewer allocations.
    return new Promise<unknown[]>((resolve) => {
      const outcomes: Array<{ error: unknown } | undefined> = new Array(results.length);
      let pending = results.length;
      let finished = false;
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        timedOut = new ListenerTimeoutError(handlerTimeoutMs, event.id);
        controller?.abort(timedOut);
        resolve([timedOut]);
      }, handlerTimeoutMs);
      timer.unref?.();
      const settle = (): void => {
        if (--pending > 0 || finished) return;
        finished = true;
        clearTimeout(timer);
        const failures: unknown[] = [];
        for (const o of outcomes) if (o) failures.push(o.error);
        resolve(failures);
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

  type EventOutcome = 'processed' | 'duplicate' | 'busy' | 'superseded' | 'failed';

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
    const failures = await dispatch(event, delivery);
    if (failures.length > 0) {
      const error = new ListenerError(failures, event);
      try {
        await store.release(event.id, claim.token);
      } catch (cause) {
        reportError(new StoreError('release', cause), {
          provider: event.provider,
          event,
          delivery,
        });
      }
      reportError(error, { provider: event.provider, event, delivery });
      return ['failed', error];
    }
    if (event.type === 'payment.completed') {
      // The completion marker is written beside the commit, not after it: on a networked store the
      // two round trips overlap.
      await Promise.all([store.commit(event.id, claim.token, retentionMs), markCompleted(event)]);
    } else {
      await store.commit(event.id, claim.token, retentionMs);
    }
    logger.info({ eventId: event.id, type: event.type }, '@payhook/core: payment event processed');
    return ['processed'];
  };

  const RANK: Record<EventOutcome, number> = {
    failed: 4,
    busy: 3,
    processed: 2,
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
    // acknowledge: success only when every event is done
    const ok = outcome === 'processed' || outcome === 'duplicate' || outcome === 'superseded';
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
      emitter.on(name, wrap(listener as never));
      return hub;
    },
    once(name, listener) {
      emitter.once(name, wrap(listener as never));
      return hub;
    },
    off(name, listener) {
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
    options: Object.freeze({ handlerTimeoutMs, leaseMs, retentionMs }),
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
export const HUB_EVENT_NAMES: readonly HubEventName[] = [
  ...PAYMENT_EVENT_TYPES,
  'unhandled',
  'duplicate',
  'superseded',
  'error',
  'source.up',
  'source.down',
  'source.error',
];
