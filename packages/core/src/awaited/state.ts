import { randomBytes } from 'node:crypto';
import type { AnyPaymentProvider, SweepSchedule } from '../provider';
import type { QueryBudget } from './budget';
import type { SweepReport } from './sweep-report';
import type { AwaitedList } from './types';

/** The awaited-payment options checked (options.ts), with their defaults. */
export interface AwaitedSettings {
  /** Given by the merchant (a shared list): the sweeper starts as soon as a provider is mounted. */
  readonly shared: boolean;
  readonly sweepEveryMs: number;
  readonly leaseMs: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly keepFinishedMs: number;
  readonly maxAwaitMs: number;
  /** Per provider id, over the provider's own `sweep`. */
  readonly schedule: Readonly<Record<string, Partial<SweepSchedule>>>;
}

/** What the awaited-payment functions share: one per hub, on the HubState. */
export interface AwaitedState {
  readonly list: AwaitedList;
  readonly settings: AwaitedSettings;
  /** This hub's sweeper in the lists' leases. */
  readonly owner: string;
  /**
   * The providers mounted on (or awaited through) this hub, by id, in mount order: what a swept
   * entry names (several mounts may share an id, each for its own payments).
   */
  readonly providers: Map<string, AnyPaymentProvider[]>;
  readonly budgets: Map<string, QueryBudget>;
  /** Whether a delivery's events are looked up on the list: once anything can be awaited. */
  active: boolean;
  timer: NodeJS.Timeout | undefined;
  running: Promise<SweepReport> | undefined;
  /** The last sweep running or queued (`hub.sweep` with options waits for it; close() too). */
  queue: Promise<SweepReport> | undefined;
  closed: boolean;
  /** Jitter source; tests may fix it. */
  random: () => number;
}

export function createAwaitedState(list: AwaitedList, settings: AwaitedSettings): AwaitedState {
  return {
    list,
    settings,
    owner: `sweeper-${randomBytes(8).toString('hex')}`,
    providers: new Map(),
    budgets: new Map(),
    active: settings.shared,
    timer: undefined,
    running: undefined,
    queue: undefined,
    closed: false,
    random: Math.random,
  };
}
