import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import {
  ConfigError,
  ERROR_CATALOGUE,
  RECEIVE_OUTCOMES,
  SETTLED_BY,
  type AwaitedList,
  type AwaitedPayment,
  type ErrorContext,
  type HubListener,
  type Inbox,
  type InboxRecord,
  type PaymentErrorLike,
  type PaymentEvent,
  type PaymentHub,
  type ReceiveOutcome,
  type SourceStatus,
} from '@payhook/core';
import { SOURCE, type ProviderLike } from '../options';
import {
  defineMetrics,
  type AwaitedGaugeSource,
  type MetricSet,
  type QueueStats,
} from './definitions';

export interface QueueSource {
  /** Called at each scrape. */
  stats(): Promise<QueueStats>;
}

export interface PayhookMetricsOptions {
  /** Provider ids (or providers, or gateway middlewares) whose series start at zero; see track(). */
  providers?: readonly (string | ProviderLike)[];
  /** The hub whose channels are watched; or call `watch(hub)` later. */
  hub?: PaymentHub;
  /** Long-lived sources (socket providers) whose up gauge starts at 0. */
  sources?: readonly string[];
  /** Default: a registry of its own (not prom-client's global one). */
  registry?: Registry;
  /** The async mode's queue, read at each scrape. */
  queue?: QueueSource;
}

export interface PayhookMetrics {
  readonly registry: Registry;
  /**
   * Wraps the inbox the hub records into, so each delivery is counted with its provider, outcome,
   * error code and duration: `createPaymentHub({ inbox: metrics.inbox(createMemoryInbox()) })`.
   */
  inbox<I extends Inbox>(inbox: I): I;
  /** Counts one delivery (what the inbox wrapper does for each record). */
  observe(record: Pick<InboxRecord, 'provider' | 'outcome' | 'error' | 'durationMs'>): void;
  /** Creates the series of more providers at zero (those mounted after the metrics were made). */
  track(...providers: (string | ProviderLike)[]): void;
  /**
   * Subscribes to the hub's error, source and awaited-payment channels, and reads its awaited
   * list's counts at each scrape.
   */
  watch(hub: PaymentHub): void;
  /** Times a listener: `hub.on('payment.completed', metrics.timed(listener))`. */
  timed<F extends (event: PaymentEvent, ...rest: never[]) => unknown>(listener: F): F;
  /** GET handler for the exposition text: `app.get('/metrics', metrics.handler)`. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** Unsubscribes from the hubs watched (their awaited lists are no longer read). */
  close(): void;
}

const STORE_CODES = ['ERR_STORE_UNAVAILABLE', 'ERR_COMMIT_FAILED'];
/** The outcomes whose series are zeroed per error code too (typed: a renamed outcome fails to compile). */
const ERROR_OUTCOMES: readonly ReceiveOutcome[] = ['rejected', 'failed', 'busy'];
const CODES = Object.keys(ERROR_CATALOGUE);
/** How long a scrape waits for an awaited list's counts() before leaving the gauge out. */
export const AWAITED_COUNTS_TIMEOUT_MS = 2_000;

const idOf = (p: string | ProviderLike): string =>
  typeof p === 'string'
    ? p
    : 'provider' in p && typeof p.provider === 'object'
      ? p.provider.id
      : (p as { id: string }).id;

export function createPayhookMetrics(options: PayhookMetricsOptions): PayhookMetrics {
  if (!options || (options.providers !== undefined && !Array.isArray(options.providers)))
    throw new ConfigError(
      'providers',
      'must be an array of provider ids, providers or middlewares',
      {
        source: SOURCE,
      },
    );
  const providers = (options.providers ?? []).map(idOf);
  const registry = options.registry ?? new Registry();
  const queue = options.queue;
  if (queue !== undefined && typeof queue?.stats !== 'function')
    throw new ConfigError('queue.stats', 'must be a function', { source: SOURCE });
  const watched: PaymentHub[] = [];
  // One read per scrape: the gauge and the error counter both wait for the one in flight.
  let reading: ReturnType<AwaitedGaugeSource> | undefined;
  const readAwaited: AwaitedGaugeSource = () =>
    (reading ??= awaitedCounts(m, watched).finally(() => {
      reading = undefined;
    }));
  const m: MetricSet = defineMetrics(
    registry,
    queue ? () => queue.stats() : undefined,
    readAwaited,
  );
  zero(m, providers, options.sources ?? []);
  for (const operation of ['record', 'update']) m.inboxErrors.inc({ operation }, 0);
  m.inFlight.set(0);
  const unsubscribe: Array<() => void> = [];

  const observe: PayhookMetrics['observe'] = (record) => {
    const labels = { provider: record.provider, outcome: record.outcome };
    m.deliveries.inc({ ...labels, code: record.error?.code ?? 'none' });
    m.duration.observe(labels, record.durationMs / 1000);
  };
  const metrics: PayhookMetrics = {
    registry,
    inbox: (inner) => wrapInbox(inner, observe, (op) => m.inboxErrors.inc({ operation: op })),
    observe,
    track: (...more) => zero(m, more.map(idOf), []),
    watch(hub) {
      const off = watchHub(m, hub);
      watched.push(hub);
      unsubscribe.push(() => {
        off();
        watched.splice(watched.indexOf(hub), 1);
      });
    },
    timed: (listener) => timeListener(m, listener),
    handler: (_req, res) => serveMetrics(registry, res),
    close() {
      for (const off of unsubscribe.splice(0)) off();
    },
  };
  if (options.hub) metrics.watch(options.hub);
  return metrics;
}

/** Every series a dashboard will look for exists from the first scrape, at zero. */
function zero(m: MetricSet, providers: string[], sources: readonly string[]): void {
  for (const provider of providers) {
    for (const outcome of RECEIVE_OUTCOMES) {
      m.deliveries.inc({ provider, outcome, code: 'none' }, 0);
      m.duration.zero({ provider, outcome });
      if (ERROR_OUTCOMES.includes(outcome))
        for (const code of CODES) m.deliveries.inc({ provider, outcome, code }, 0);
    }
    for (const code of CODES) m.errors.inc({ provider, code }, 0);
    for (const code of STORE_CODES) m.storeErrors.inc({ provider, code }, 0);
    for (const by of SETTLED_BY) m.awaitedSettled.inc({ provider, by }, 0);
    m.awaitedRecovered.inc({ provider }, 0);
    m.awaitedOverdue.inc({ provider }, 0);
  }
  for (const provider of sources) {
    m.sourceUp.set({ provider }, 0);
    m.sourceDown.inc({ provider }, 0);
  }
}

/** The hub's error, source and awaited channels; returns the unsubscribe. */
function watchHub(m: MetricSet, hub: PaymentHub): () => void {
  const onError: HubListener<'error'> = (error: PaymentErrorLike, ctx: ErrorContext) => {
    const provider = ctx.provider ?? 'unknown';
    m.errors.inc({ provider, code: error.code });
    if (STORE_CODES.includes(error.code)) m.storeErrors.inc({ provider, code: error.code });
  };
  const onUp = (s: SourceStatus): void => void m.sourceUp.set({ provider: s.provider }, 1);
  const onDown = (s: SourceStatus): void => {
    m.sourceUp.set({ provider: s.provider }, 0);
    m.sourceDown.inc({ provider: s.provider });
  };
  const onSettled = (p: AwaitedPayment): void => {
    m.awaitedSettled.inc({ provider: p.provider, by: p.settledBy ?? 'unknown' });
    if (p.settledBy === 'status-query') m.awaitedRecovered.inc({ provider: p.provider });
  };
  const onOverdue = (p: AwaitedPayment): void =>
    void m.awaitedOverdue.inc({ provider: p.provider });
  hub.on('error', onError).on('source.up', onUp).on('source.down', onDown);
  hub.on('awaited.settled', onSettled).on('awaited.overdue', onOverdue);
  return () => {
    hub.off('error', onError).off('source.up', onUp).off('source.down', onDown);
    hub.off('awaited.settled', onSettled).off('awaited.overdue', onOverdue);
  };
}

/**
 * The awaited payments of the watched hubs, summed over their lists (hubs sharing one list object
 * count it once). A list that fails or does not answer in time is counted and logged on its hub,
 * and the gauge is left out of the scrape rather than the scrape failing.
 */
async function awaitedCounts(
  m: MetricSet,
  hubs: readonly PaymentHub[],
): Promise<{ awaiting: number; overdue: number } | undefined> {
  const lists = new Map<AwaitedList, PaymentHub>();
  for (const hub of hubs) if (!lists.has(hub.awaited)) lists.set(hub.awaited, hub);
  if (lists.size === 0) return undefined;
  const now = Date.now();
  const read = [...lists].map(([list, hub]) =>
    withTimeout(() => list.counts(now), AWAITED_COUNTS_TIMEOUT_MS).catch((error: unknown) => {
      m.awaitedCountErrors.inc();
      hub.logger.warn(
        { err: error },
        '@payhook/inspector: the awaited list could not be counted; payhook_awaited_payments is left out of this scrape',
      );
      return undefined;
    }),
  );
  const counts = await Promise.all(read);
  if (counts.some((c) => c === undefined)) return undefined;
  return counts.reduce(
    (sum, c) => ({ awaiting: sum.awaiting + c!.awaiting, overdue: sum.overdue + c!.overdue }),
    { awaiting: 0, overdue: 0 },
  );
}

/** What `run` resolves to, or a rejection after `ms` (a list whose backend hangs). */
function withTimeout<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(run), late]).finally(() => clearTimeout(timer));
}

/** The listener, timed and counted in flight; what it returns or throws is passed on unchanged. */
function timeListener<F extends (event: PaymentEvent, ...rest: never[]) => unknown>(
  m: MetricSet,
  listener: F,
): F {
  return (async (event: PaymentEvent, ...rest: never[]) => {
    const end = m.listenerDuration.startTimer({ provider: event.provider, type: event.type });
    m.inFlight.inc();
    try {
      const value = await listener(event, ...rest);
      end({ result: 'ok' });
      return value;
    } catch (error) {
      end({ result: 'error' });
      throw error;
    } finally {
      m.inFlight.dec();
    }
  }) as unknown as F;
}

function serveMetrics(registry: Registry, res: ServerResponse): void {
  registry.metrics().then(
    (text) => {
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    },
    (error: unknown) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`# metrics failed: ${(error as Error).message}\n`);
    },
  );
}

/** The same inbox, counting each record on its way in; the inner inbox still decides what it keeps. */
function wrapInbox<I extends Inbox>(
  inner: I,
  observe: PayhookMetrics['observe'],
  failed: (operation: 'record' | 'update') => void,
): I {
  const record: Inbox['record'] = (entry, opts) => {
    // A write inside an event's transaction is not the delivery's answer: its final record (the
    // one without a context) follows, once per delivery.
    if (opts?.context === undefined) observe(entry);
    return inner.record(entry, opts).catch((error: unknown) => {
      failed('record');
      throw error;
    });
  };
  const update: Inbox['update'] = (id, patch) =>
    inner.update(id, patch).catch((error: unknown) => {
      failed('update');
      throw error;
    });
  // A proxy rather than a copy: whatever else the inbox has (counts(), close()) stays its own,
  // called on the inbox itself (a class with private fields keeps working).
  return new Proxy(inner, {
    get(target, name) {
      if (name === 'record') return record;
      if (name === 'update') return update;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
