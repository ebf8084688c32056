import { ConfigError } from '../errors';
import { checkWholeNumber } from '../options';
import type { SweepSchedule } from '../provider';
import { createMemoryAwaitedList } from './memory';
import type { AwaitedSettings } from './state';
import type { AwaitedList } from './types';

/** The hub's `awaited` option: where awaited payments live and how the sweeper asks about them. */
export interface AwaitedOptions {
  /**
   * Where awaited payments are kept (default: this process's memory). Give the Redis or
   * PostgreSQL list for payments that must outlive a restart and be swept by one of several
   * instances; with a list given, the sweeper starts as soon as a provider is mounted.
   */
  list?: AwaitedList;
  /** How often the sweeper looks for due payments, in ms (default 15,000; 0: only `hub.sweep()`). */
  sweepEveryMs?: number;
  /**
   * How long a sweeper holds an entry it is asking about (default 60,000 ms); past it another
   * instance may take it (this one died). Longer than a status query's own timeout.
   */
  leaseMs?: number;
  /** Most entries one sweep looks at (default 200). */
  batch?: number;
  /** Status queries in flight at once (default 4). */
  concurrency?: number;
  /** How long settled and overdue payments stay listed (default 7 days). */
  keepFinishedMs?: number;
  /** Latest `until` accepted, from now (default 30 days). */
  maxAwaitMs?: number;
  /** Per provider id: overrides of the gateway's sweep schedule (`firstCheckMs`, ...). */
  schedule?: Record<string, Partial<SweepSchedule>>;
}

const ms = { unit: 'milliseconds' } as const;

/** The longest delay Node's timers keep: past it a timer fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An interval or lease that a timer waits on: also at most MAX_TIMER_MS. */
function timerMs(value: number | undefined, fallback: number, option: string, min = 1): number {
  const v = checkWholeNumber(value, fallback, option, { ...ms, min });
  if (v > MAX_TIMER_MS)
    throw new ConfigError(
      option,
      `must be at most ${MAX_TIMER_MS} ms (the longest timer Node keeps)`,
    );
  return v;
}

export function resolveAwaitedOptions(options: AwaitedOptions | undefined): {
  list: AwaitedList;
  settings: AwaitedSettings;
} {
  if (options !== undefined && (options === null || typeof options !== 'object'))
    throw new ConfigError('awaited', 'must be an object ({ list, sweepEveryMs, ... })');
  const o = options ?? {};
  const list = o.list ?? createMemoryAwaitedList();
  for (const method of [
    'add',
    'settle',
    'lease',
    'reschedule',
    'expire',
    'get',
    'list',
    'counts',
    'purge',
  ] as const)
    if (typeof list[method] !== 'function')
      throw new ConfigError('awaited.list', `must be an AwaitedList (it has no ${method}())`);
  const settings: AwaitedSettings = Object.freeze({
    shared: o.list !== undefined,
    sweepEveryMs: timerMs(o.sweepEveryMs, 15_000, 'awaited.sweepEveryMs', 0),
    leaseMs: timerMs(o.leaseMs, 60_000, 'awaited.leaseMs'),
    batch: checkWholeNumber(o.batch, 200, 'awaited.batch'),
    concurrency: checkWholeNumber(o.concurrency, 4, 'awaited.concurrency'),
    keepFinishedMs: checkWholeNumber(
      o.keepFinishedMs,
      7 * 86_400_000,
      'awaited.keepFinishedMs',
      ms,
    ),
    maxAwaitMs: checkWholeNumber(o.maxAwaitMs, 30 * 86_400_000, 'awaited.maxAwaitMs', ms),
    schedule: checkSchedules(o.schedule),
  });
  return { list, settings };
}

function checkSchedules(
  given: Record<string, Partial<SweepSchedule>> | undefined,
): Readonly<Record<string, Partial<SweepSchedule>>> {
  if (given === undefined) return Object.freeze({});
  if (given === null || typeof given !== 'object')
    throw new ConfigError('awaited.schedule', 'must map provider ids to { firstCheckMs, ... }');
  const checked: Record<string, Partial<SweepSchedule>> = {};
  for (const [id, s] of Object.entries(given)) {
    const name = `awaited.schedule.${id}`;
    if (s === null || typeof s !== 'object')
      throw new ConfigError(name, 'must be { firstCheckMs, maxIntervalMs, queriesPerMinute }');
    const opt = (v: number | undefined, key: string, rule = ms as object) =>
      v === undefined ? undefined : checkWholeNumber(v, 0, `${name}.${key}`, rule);
    checked[id] = Object.freeze({
      firstCheckMs: opt(s.firstCheckMs, 'firstCheckMs'),
      maxIntervalMs: opt(s.maxIntervalMs, 'maxIntervalMs'),
      queriesPerMinute: opt(s.queriesPerMinute, 'queriesPerMinute', {}),
    });
  }
  return Object.freeze(checked);
}
