export { createMemoryAwaitedList } from './memory';
export type { MemoryAwaitedListOptions } from './memory';
export { AWAITED_STATES, SETTLED_BY, awaitedKey } from './types';
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
