export { createMemoryAwaitedList } from './memory';
export type { MemoryAwaitedListOptions } from './memory';
export { AWAITED_STATES, SETTLED_BY, awaitedKey, awaitedProvider } from './types';
export type {
  AwaitedCounts,
  AwaitedLease,
  AwaitedList,
  AwaitedListFilter,
  AwaitedMatch,
  AwaitedPayment,
  AwaitedReschedule,
  AwaitedSettlement,
  AwaitedState,
  NewAwaitedPayment,
  SettledBy,
} from './types';
export type { AwaitedOptions } from './options';
export type { ExpectedPayment } from './expect';
export type { SweepReport } from './sweep-report';
export type { SweepOptions } from './sweep';
