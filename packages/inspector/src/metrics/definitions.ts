import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric, by name, with its labels: the README's table is checked against this list and
 * against what the registry really exposes.
 */
export const METRIC_NAMES = [
  'payhook_deliveries_total',
  'payhook_delivery_duration_seconds',
  'payhook_errors_total',
  'payhook_store_errors_total',
  'payhook_inbox_errors_total',
  'payhook_listener_duration_seconds',
  'payhook_listeners_in_flight',
  'payhook_source_up',
  'payhook_source_down_total',
  'payhook_queue_depth',
  'payhook_queue_oldest_pending_age_seconds',
  'payhook_queue_dead',
  'payhook_awaited_payments',
  'payhook_awaited_settled_total',
  'payhook_awaited_recovered_total',
  'payhook_awaited_overdue_total',
  'payhook_awaited_count_errors_total',
] as const;

// Webhook answers are due within seconds (most gateways time out at 5-30 s).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the async mode's queue reports at each scrape. */
export interface QueueStats {
  depth: number;
  /** Milliseconds since the oldest waiting event was queued; null when none waits. */
  oldestPendingAgeMs: number | null;
  dead: number;
}

/**
 * The awaited payments of the watched hubs now, or undefined (no hub watched, or a list failed):
 * one read per scrape, however many metrics ask.
 */
export type AwaitedGaugeSource = () => Promise<{ awaiting: number; overdue: number } | undefined>;

// long: only declarations: one place to read every metric's name, help and labels.
export function defineMetrics(
  registry: Registry,
  queueStats: (() => Promise<QueueStats>) | undefined,
  awaitedCounts: AwaitedGaugeSource,
) {
  const registers = [registry];
  const metrics = {
    deliveries: new Counter({
      name: 'payhook_deliveries_total',
      help: 'Deliveries that reached the hub, by provider, outcome and error code ("none" without error)',
      labelNames: ['provider', 'outcome', 'code'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'payhook_delivery_duration_seconds',
      help: 'Time from receipt to the reply, by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    errors: new Counter({
      name: 'payhook_errors_total',
      help: "Errors reported on the hub's error channel (refusals before the hub included), by provider and code",
      labelNames: ['provider', 'code'] as const,
      registers,
    }),
    storeErrors: new Counter({
      name: 'payhook_store_errors_total',
      help: 'Idempotency store failures (unavailable, commit failed), by provider and code',
      labelNames: ['provider', 'code'] as const,
      registers,
    }),
    inboxErrors: new Counter({
      name: 'payhook_inbox_errors_total',
      help: 'Inbox writes that failed (the delivery itself was still answered)',
      labelNames: ['operation'] as const,
      registers,
    }),
    listenerDuration: new Histogram({
      name: 'payhook_listener_duration_seconds',
      help: 'Run time of listeners wrapped with metrics.timed(), by provider, event type and result',
      labelNames: ['provider', 'type', 'result'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'payhook_listeners_in_flight',
      help: 'Listeners wrapped with metrics.timed() running now',
      registers,
    }),
    sourceUp: new Gauge({
      name: 'payhook_source_up',
      help: 'Long-lived sources (the Lailaolab socket): 1 connected, 0 down',
      labelNames: ['provider'] as const,
      registers,
    }),
    sourceDown: new Counter({
      name: 'payhook_source_down_total',
      help: 'Times a long-lived source went down',
      labelNames: ['provider'] as const,
      registers,
    }),
    awaited: new Gauge({
      name: 'payhook_awaited_payments',
      help: "Awaited payments of the watched hubs now, by state: awaiting, and overdue (awaiting ones past their until included); read from each hub's awaited list at each scrape",
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const counts = await awaitedCounts();
        // No sample rather than a stale or partial one when a list failed or no hub is watched.
        this.reset();
        if (counts)
          for (const state of ['awaiting', 'overdue'] as const) this.set({ state }, counts[state]);
      },
    }),
    awaitedSettled: new Counter({
      name: 'payhook_awaited_settled_total',
      help: 'Awaited payments settled, by provider and path (webhook, socket, status-query, replay)',
      labelNames: ['provider', 'by'] as const,
      registers,
    }),
    awaitedRecovered: new Counter({
      name: 'payhook_awaited_recovered_total',
      help: "Awaited payments settled by a status query (the sweeper's or hub.reconcile's): awaited.settled notices with settledBy status-query",
      labelNames: ['provider'] as const,
      registers,
    }),
    awaitedOverdue: new Counter({
      name: 'payhook_awaited_overdue_total',
      help: 'Awaited payments made overdue (the awaited.overdue notice)',
      labelNames: ['provider'] as const,
      registers,
    }),
    awaitedCountErrors: new Counter({
      name: 'payhook_awaited_count_errors_total',
      help: "Reads of an awaited list's counts() at a scrape that failed or took too long (payhook_awaited_payments then has no sample)",
      registers,
      // The scrape collects every metric at once: this one waits for the read it counts.
      async collect() {
        await awaitedCounts();
      },
    }),
  };
  return { ...metrics, queue: queueStats ? defineQueueGauges(queueStats) : undefined };

  // Read at each scrape, so the numbers are the queue's own, never a stale copy.
  function defineQueueGauges(stats: () => Promise<QueueStats>) {
    const gauge = (name: string, help: string, read: (s: QueueStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(read(await stats()));
        },
      });
    return {
      depth: gauge(
        'payhook_queue_depth',
        'Async mode: events waiting for a worker',
        (s) => s.depth,
      ),
      oldest: gauge(
        'payhook_queue_oldest_pending_age_seconds',
        'Async mode: age of the oldest waiting event (0 when none)',
        (s) => (s.oldestPendingAgeMs ?? 0) / 1000,
      ),
      dead: gauge('payhook_queue_dead', 'Async mode: dead letters kept', (s) => s.dead),
    };
  }
}

export type MetricSet = ReturnType<typeof defineMetrics>;
