import { checkWholeNumber } from '../options';
import { AwaitedListFullError } from '../errors';
import type {
  AwaitedCounts,
  AwaitedLease,
  AwaitedList,
  AwaitedListFilter,
  AwaitedMatch,
  AwaitedPayment,
  AwaitedReschedule,
  AwaitedSettlement,
  NewAwaitedPayment,
} from './types';
import { awaitedKey } from './types';

export interface MemoryAwaitedListOptions {
  /** Most payments awaiting at once; one more is refused (ERR_AWAITED_FULL), none dropped (default 100,000). */
  maxEntries?: number;
}

/** What the memory list keeps beside each entry: its lease, never shown to callers. */
interface Held {
  entry: AwaitedPayment;
  leaseOwner: string | null;
  leaseUntil: number;
}

interface MemoryListState {
  readonly maxEntries: number;
  readonly held: Map<string, Held>;
  /** `<provider>\0<reference>` → key, for entries keyed by order number that also know their reference. */
  readonly byReference: Map<string, string>;
  awaiting: number;
}

const copy = (entry: AwaitedPayment): AwaitedPayment => ({ ...entry });
const refKey = (provider: string, reference: string): string => `${provider}\u0000${reference}`;

/**
 * The default list: a Map in this process. It dies with the process and each instance has its own:
 * for a payment that must be found again after a restart, use the Redis or PostgreSQL list.
 */
export function createMemoryAwaitedList(options: MemoryAwaitedListOptions = {}): AwaitedList {
  const state: MemoryListState = {
    maxEntries: checkWholeNumber(options.maxEntries, 100_000, 'maxEntries'),
    held: new Map(),
    byReference: new Map(),
    awaiting: 0,
  };
  return {
    add: async (entry) => add(state, entry),
    settle: async (match, settlement) => settle(state, match, settlement),
    lease: async (lease) => takeDue(state, lease),
    reschedule: async (key, owner, next) => reschedule(state, key, owner, next),
    expire: async (key, _at, lastResult) => expire(state, key, lastResult),
    get: async (key) => {
      const held = state.held.get(key);
      return held ? copy(held.entry) : null;
    },
    list: async (filter) => list(state, filter),
    counts: async (now) => counts(state, now),
    purge: async (before) => purge(state, before),
  };
}

function add(state: MemoryListState, entry: NewAwaitedPayment): AwaitedPayment {
  const known = state.held.get(entry.key);
  if (known) {
    const e = known.entry;
    if (e.state === 'awaiting') {
      e.until = Math.max(e.until, entry.until);
      if (e.reference === null && entry.reference !== null) {
        e.reference = entry.reference;
        state.byReference.set(refKey(e.provider, entry.reference), e.key);
      }
    }
    return copy(e);
  }
  if (state.awaiting >= state.maxEntries) throw new AwaitedListFullError(state.maxEntries);
  const created: AwaitedPayment = {
    ...entry,
    state: 'awaiting',
    checks: 0,
    lastResult: null,
    settledAt: null,
    settledBy: null,
    eventId: null,
  };
  state.held.set(entry.key, { entry: created, leaseOwner: null, leaseUntil: 0 });
  if (entry.reference !== null)
    state.byReference.set(refKey(entry.provider, entry.reference), entry.key);
  state.awaiting++;
  return copy(created);
}

/** The entry a notification or a status answer names: by order number, then by reference. */
function find(state: MemoryListState, match: AwaitedMatch): Held | undefined {
  const { provider, orderId, reference } = match;
  if (orderId !== null) {
    const held = state.held.get(awaitedKey(provider, { orderId }));
    if (held) return held;
  }
  if (reference === null) return undefined;
  const direct = state.held.get(awaitedKey(provider, { reference }));
  if (direct) return direct;
  const key = state.byReference.get(refKey(provider, reference));
  return key === undefined ? undefined : state.held.get(key);
}

function settle(
  state: MemoryListState,
  match: AwaitedMatch,
  settlement: AwaitedSettlement,
): AwaitedPayment | null {
  const held = find(state, match);
  if (!held || held.entry.state === 'settled') return null;
  const e = held.entry;
  if (e.state === 'awaiting') state.awaiting--;
  e.state = 'settled';
  e.settledAt = settlement.at;
  e.settledBy = settlement.by;
  e.eventId = settlement.eventId;
  held.leaseOwner = null;
  return copy(e);
}

function takeDue(state: MemoryListState, lease: AwaitedLease): AwaitedPayment[] {
  const due: Held[] = [];
  const dueBy = lease.dueBy ?? lease.now;
  for (const held of state.held.values())
    if (
      held.entry.state === 'awaiting' &&
      held.entry.nextCheckAt <= dueBy &&
      held.leaseUntil <= lease.now &&
      (lease.provider === undefined || held.entry.provider === lease.provider)
    )
      due.push(held);
  due.sort((a, b) => a.entry.nextCheckAt - b.entry.nextCheckAt);
  return due.slice(0, lease.limit).map((held) => {
    held.leaseOwner = lease.owner;
    held.leaseUntil = lease.now + lease.leaseMs;
    return copy(held.entry);
  });
}

function reschedule(
  state: MemoryListState,
  key: string,
  owner: string,
  next: AwaitedReschedule,
): boolean {
  const held = state.held.get(key);
  if (!held || held.leaseOwner !== owner || held.entry.state !== 'awaiting') return false;
  Object.assign(held.entry, next);
  held.leaseOwner = null;
  held.leaseUntil = 0;
  return true;
}

function expire(
  state: MemoryListState,
  key: string,
  lastResult: string | null,
): AwaitedPayment | null {
  const held = state.held.get(key);
  if (!held || held.entry.state !== 'awaiting') return null;
  state.awaiting--;
  held.entry.state = 'overdue';
  held.entry.lastResult = lastResult;
  held.entry.settledAt = null;
  held.leaseOwner = null;
  held.leaseUntil = 0;
  return copy(held.entry);
}

function list(state: MemoryListState, filter: AwaitedListFilter = {}): AwaitedPayment[] {
  const limit = filter.limit ?? 100;
  const found: AwaitedPayment[] = [];
  for (const { entry } of state.held.values())
    if (
      (filter.state === undefined || entry.state === filter.state) &&
      (filter.provider === undefined || entry.provider === filter.provider)
    )
      found.push(entry);
  return found
    .sort((a, b) => b.createdAt - a.createdAt || (a.key < b.key ? -1 : 1))
    .slice(0, limit)
    .map(copy);
}

function counts(state: MemoryListState, now: number): AwaitedCounts {
  const result: AwaitedCounts = { awaiting: 0, overdue: 0, settled: 0 };
  for (const { entry } of state.held.values()) {
    if (entry.state === 'awaiting' && entry.until <= now) result.overdue++;
    else result[entry.state]++;
  }
  return result;
}

function purge(state: MemoryListState, before: number): number {
  let purged = 0;
  for (const [key, { entry }] of state.held) {
    const end = entry.state === 'settled' ? entry.settledAt! : entry.until;
    if (entry.state === 'awaiting' || end >= before) continue;
    state.held.delete(key);
    if (entry.reference !== null) {
      const ref = refKey(entry.provider, entry.reference);
      if (state.byReference.get(ref) === key) state.byReference.delete(ref);
    }
    purged++;
  }
  return purged;
}
