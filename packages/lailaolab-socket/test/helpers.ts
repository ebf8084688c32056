import {
  createPaymentHub,
  type AwaitedPayment,
  type PaymentErrorLike,
  type PaymentEvent,
  type PaymentHub,
  type PaymentHubOptions,
  type SourceStatus,
} from '@payhook/core';
import { createCountingStore } from '@payhook/core/testing';
import type { LailaolabSimulator } from '@payhook/testing';
import { createLailaolabSource, type LailaolabSource, type LailaolabSourceOptions } from '../src';

/** Looks like the bcrypt-style keys seen in public integration code: `$`, `/` and `.` inside. */
export const SECRET = '$2b$10$Test.Only/Key9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68';

export interface Recorder {
  events: PaymentEvent[];
  errors: PaymentErrorLike[];
  duplicates: PaymentEvent[];
  unhandled: unknown[];
  up: SourceStatus[];
  down: SourceStatus[];
  sourceErrors: SourceStatus[];
  /** The hub's `awaited.settled` and `awaited.overdue` notices. */
  settled: AwaitedPayment[];
  overdue: AwaitedPayment[];
  /** Resolves when `check` holds, re-checked after every hub notification (no polling). */
  until(check: (r: Recorder) => boolean, what: string): Promise<void>;
}

export function record(hub: PaymentHub): Recorder {
  const waiters: Array<{ check: (r: Recorder) => boolean; resolve: () => void }> = [];
  const r: Recorder = {
    events: [],
    errors: [],
    duplicates: [],
    unhandled: [],
    up: [],
    down: [],
    sourceErrors: [],
    settled: [],
    overdue: [],
    until(check, what) {
      if (check(r)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
        waiters.push({
          check,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
  const poke = (): void => {
    for (const w of [...waiters])
      if (w.check(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  hub.onAny((e) => void (r.events.push(e), poke()));
  hub.on('error', (e) => void (r.errors.push(e), poke()));
  hub.on('duplicate', (e) => void (r.duplicates.push(e), poke()));
  hub.on('unhandled', (u) => void (r.unhandled.push(u), poke()));
  hub.on('source.up', (s) => void (r.up.push(s), poke()));
  hub.on('source.down', (s) => void (r.down.push(s), poke()));
  hub.on('source.error', (s) => void (r.sourceErrors.push(s), poke()));
  hub.on('awaited.settled', (p) => void (r.settled.push(p), poke()));
  hub.on('awaited.overdue', (p) => void (r.overdue.push(p), poke()));
  return r;
}

/**
 * A hub with the tests' settings: its sweeper has no timer (`awaited.sweepEveryMs: 0`), so only
 * the source's sweep after a connect, `source.sweep()` and `hub.sweep()` ask the status API.
 */
export function testHub(options: PaymentHubOptions = {}) {
  const store = createCountingStore();
  const hub = createPaymentHub({
    store,
    handlerTimeoutMs: 2_000,
    leaseMs: 5_000,
    ...options,
    awaited: { sweepEveryMs: 0, ...options.awaited },
  });
  return { hub, store, rec: record(hub) };
}

/** Lets pending promise callbacks run (they all settle within one macrotask turn). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A source on the simulator with the tests' settings (fast reconnects; a hub with no periodic
 * sweep unless `hubOptions` say otherwise), added to `sources` so the suite closes it.
 */
export function startTestSource(
  sim: Pick<LailaolabSimulator, 'socketBase' | 'apiBase'>,
  sources: LailaolabSource[],
  extra: Partial<LailaolabSourceOptions> = {},
  hubOptions: PaymentHubOptions = {},
) {
  const t = testHub(hubOptions);
  const source = createLailaolabSource(t.hub, {
    secretKey: SECRET,
    url: sim.socketBase,
    statusQuery: { baseUrl: sim.apiBase },
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });
  sources.push(source);
  return { ...t, source };
}
