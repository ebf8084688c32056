import type { Pool } from 'pg';
import {
  createPaymentHub,
  ListenerError,
  ListenerTimeoutError,
  type PaymentEvent,
} from '@payhook/core';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { createPaymentQueue, NoWorkerListenerError } from '../../src/async';
import { QUEUE_STATE, type InternalQueue } from '../../src/async/queue';
import { runWorkerListeners } from '../../src/async/run-listeners';
import type { PostgresTransaction } from '../../src';
import { testPool } from './support/app';
import { completedEvent } from '../support/event';

/**
 * The hub and the async worker run their listeners with one runner (core's runListeners over a
 * ListenerRegistry): the same table of cases, run through the hub's `receive` and through the
 * worker's `runWorkerListeners` on a queue's listeners, must come to the same thing. Only each
 * side's policy differs and is normalized here: no listener is `unhandled` on the hub and
 * NoWorkerListenerError on the worker; a timeout is wrapped in the hub's ListenerError and thrown
 * bare by the worker.
 */
type Fn = (event: PaymentEvent, context: { signal: AbortSignal }) => unknown;

interface Side {
  on(fn: Fn): void;
  once(fn: Fn): void;
  off(fn: Fn): void;
  onAny(fn: Fn): void;
  count(): number;
  /** One event through the side's listeners: their failures in order, or 'none' (no listener). */
  run(): Promise<unknown[] | 'none'>;
}

const TIMEOUT_MS = 150;
/** The worker's `tx` (unused here: no listener queries). */
const tx = {} as PostgresTransaction;
let pool: Pool;
beforeAll(() => {
  pool = testPool();
});
afterAll(() => pool.end());

let n = 0;
const hubSide = (): Side => {
  const hub = createPaymentHub({ handlerTimeoutMs: TIMEOUT_MS });
  const provider = createTestProvider();
  const type = 'payment.completed';
  return {
    on: (fn) => void hub.on(type, fn),
    once: (fn) => void hub.once(type, fn),
    off: (fn) => void hub.off(type, fn),
    onAny: (fn) => void hub.onAny(fn),
    count: () => hub.listenerCount(type),
    async run() {
      const { body, headers } = signedDelivery({ txn: `S${++n}`, status: 'PAID' });
      const delivery = { body: Buffer.from(body), headers, transport: 'http' };
      const result = await hub.receive(provider, { ...delivery, receivedAt: new Date() });
      if (result.outcome === 'processed') return [];
      if (result.outcome === 'unhandled') return 'none';
      expect(result.error).toBeInstanceOf(ListenerError);
      return (result.error as ListenerError).errors;
    },
  };
};

const workerSide = (): Side => {
  const queue = createPaymentQueue({ pool, attemptTimeoutMs: TIMEOUT_MS }) as InternalQueue;
  const state = queue[QUEUE_STATE];
  const type = 'payment.completed';
  return {
    on: (fn) => void queue.on(type, fn),
    // The queue offers no `once` (a retried attempt would find its listener gone): its registry does.
    once: (fn) => void state.listeners.once(type, fn),
    off: (fn) => void queue.off(type, fn),
    onAny: (fn) => void queue.onAny(fn),
    count: () => state.listeners.count(type),
    async run() {
      const event = completedEvent(`S${++n}`);
      try {
        await runWorkerListeners(state, event, { tx, attempt: 1 }, new AbortController().signal);
        return [];
      } catch (error) {
        if (error instanceof NoWorkerListenerError) return 'none';
        if (error instanceof ListenerError) return error.errors;
        return [error];
      }
    },
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Case {
  name: string;
  test(side: Side): Promise<void>;
}

const cases: Case[] = [
  {
    name: 'no listener: none; a listener added later runs',
    async test(side) {
      expect(await side.run()).toBe('none');
      const calls: string[] = [];
      side.on(() => void calls.push('a'));
      expect(await side.run()).toEqual([]);
      expect(calls).toEqual(['a']);
    },
  },
  {
    name: "the type's listeners in order, then the any-listeners, concurrently",
    async test(side) {
      const calls: string[] = [];
      side.onAny(async () => {
        calls.push('any start');
        await sleep(5);
        calls.push('any end');
      });
      side.on(async () => {
        calls.push('a start');
        await sleep(30);
        calls.push('a end');
      });
      side.on(() => void calls.push('b'));
      expect(await side.run()).toEqual([]);
      expect(calls).toEqual(['a start', 'b', 'any start', 'any end', 'a end']);
    },
  },
  {
    name: 'once: called for one event, then gone',
    async test(side) {
      const calls: string[] = [];
      side.on(() => void calls.push('on'));
      side.once(() => void calls.push('once'));
      expect(side.count()).toBe(2);
      await side.run();
      expect(side.count()).toBe(1);
      await side.run();
      expect(calls).toEqual(['on', 'once', 'on']);
    },
  },
  {
    name: 'a listener removed during a dispatch still runs in it, and in no later one',
    async test(side) {
      const calls: string[] = [];
      const b: Fn = () => void calls.push('b');
      side.on(() => {
        calls.push('a');
        side.off(b);
      });
      side.on(b);
      await side.run();
      await side.run();
      expect(calls).toEqual(['a', 'b', 'a']);
    },
  },
  {
    name: 'a listener added during a dispatch runs from the next one',
    async test(side) {
      const calls: string[] = [];
      let added = false;
      side.on(() => {
        calls.push('a');
        if (!added) side.on(() => void calls.push('late'));
        added = true;
      });
      await side.run();
      await side.run();
      expect(calls).toEqual(['a', 'a', 'late']);
    },
  },
  {
    name: 'failures gathered in listener order (not the order they settle in), the others still run',
    async test(side) {
      const calls: string[] = [];
      side.on(async () => {
        await sleep(30);
        throw new Error('slow rejection');
      });
      side.on(() => {
        throw new Error('sync throw');
      });
      side.on(() => void calls.push('fine'));
      side.onAny(() => Promise.reject(new Error('any rejection')));
      const failures = await side.run();
      expect((failures as Error[]).map((e) => e.message)).toEqual([
        'slow rejection',
        'sync throw',
        'any rejection',
      ]);
      expect(calls).toEqual(['fine']);
    },
  },
  {
    name: 'the signal is aborted with the ListenerTimeoutError at the timeout',
    async test(side) {
      let reason: unknown;
      let seenAborted: boolean | undefined;
      side.on((_event, { signal }) => {
        seenAborted = signal.aborted;
        return new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => ((reason = signal.reason), resolve())),
        );
      });
      const started = Date.now();
      const failures = await side.run();
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(seenAborted).toBe(false);
      expect(failures).toHaveLength(1);
      expect((failures as unknown[])[0]).toBeInstanceOf(ListenerTimeoutError);
      expect(reason).toBe((failures as unknown[])[0]);
    },
  },
];

describe.each([
  ['hub', hubSide],
  ['worker', workerSide],
])('%s listeners', (_label, makeSide) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await c.test(makeSide());
  });
});

describe('each side keeps its own context fields beside the shared signal', () => {
  it('hub: signal and delivery; worker: signal, tx and attempt', async () => {
    const keys: string[][] = [];
    for (const makeSide of [hubSide, workerSide]) {
      const side = makeSide();
      side.on((_event, context) => {
        expect(context.signal).toBeInstanceOf(AbortSignal);
        keys.push(Object.keys(context).sort());
      });
      expect(await side.run()).toEqual([]);
    }
    expect(keys).toEqual([
      ['delivery', 'signal'],
      ['attempt', 'signal', 'tx'],
    ]);
  });
});

describe("the worker's own policy around the shared runner", () => {
  const event = completedEvent('policy');
  const fields = { tx, attempt: 2 };

  it('the worker stopping aborts the listeners with its reason, thrown at once', async () => {
    const queue = createPaymentQueue({ pool, attemptTimeoutMs: 5_000 }) as InternalQueue;
    const state = queue[QUEUE_STATE];
    let reason: unknown;
    queue.onAny(
      (_event, { signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => ((reason = signal.reason), resolve())),
        ),
    );
    const stop = new AbortController();
    const stopping = new Error('the worker is shutting down');
    setTimeout(() => stop.abort(stopping), 20);
    await expect(runWorkerListeners(state, event, fields, stop.signal)).rejects.toBe(stopping);
    expect(reason).toBe(stopping);
  });

  it('a worker stopped before the listeners start runs none (a once listener stays)', async () => {
    const queue = createPaymentQueue({ pool }) as InternalQueue;
    const state = queue[QUEUE_STATE];
    const calls: string[] = [];
    state.listeners.once(event.type, () => void calls.push('once'));
    const stop = new AbortController();
    stop.abort(new Error('stopped'));
    await expect(runWorkerListeners(state, event, fields, stop.signal)).rejects.toThrow('stopped');
    expect(calls).toEqual([]);
    expect(state.listeners.count(event.type)).toBe(1);
  });
});
