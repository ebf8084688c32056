import { checkWholeNumber } from '../options';
import { inboxRecordSize, isVerifiedRecord, resolveInboxBudget, type InboxBudget } from './budget';
import { checkPage, matches } from './filter';
import type {
  InboxEntry,
  InboxFilter,
  InboxList,
  InboxPage,
  InboxRecord,
  MemoryInbox,
  MemoryInboxCounts,
  MemoryInboxOptions,
} from './types';

const PRUNE_EVERY_MS = 60_000;

/**
 * One stored delivery: the record as given (never copied on the hot path) and its events'
 * attempts; the InboxEntry a reader gets is made on the first read and kept.
 */
interface Kept {
  seq: number;
  record: InboxRecord;
  /** Which ring holds it (`isVerifiedRecord` when stored), and its size as counted there. */
  verified: boolean;
  size: number;
  attempts: number[];
  entry: InboxEntry | undefined;
  /** Dropped (pruned or replaced) while still in its ring: skipped, compacted away later. */
  gone: boolean;
}

function entryOf(item: Kept): InboxEntry {
  item.entry ??= {
    ...item.record,
    events: item.record.events.map((event, i) => ({ ...event, attempt: item.attempts[i]! })),
  };
  return item.entry;
}

/**
 * Arrival order, oldest first. Dropping the oldest moves a head index (no splice of the array on
 * every record: that was most of the inbox's cost on the hot path); the array is compacted once
 * the dead head is half of it.
 */
class Ring {
  items: Kept[] = [];
  head = 0;
  live = 0;
  push(item: Kept): void {
    this.items.push(item);
    this.live++;
  }
  oldest(): Kept | undefined {
    while (this.head < this.items.length && this.items[this.head]!.gone) this.head++;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return this.items[this.head];
  }
  /** Drops every dropped entry at once (after a prune, which may leave them anywhere). */
  compact(): void {
    this.items = this.items.slice(this.head).filter((item) => !item.gone);
    this.head = 0;
  }
}

interface State {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly budget: InboxBudget;
  readonly retentionMs: number;
  /** Verified entries. */
  readonly kept: Ring;
  /** Everything else, under the budget: a flood of it only ever pushes out its own kind. */
  readonly unverified: Ring;
  readonly byId: Map<string, Kept>;
  /** Deliveries seen per event id (for `attempt`), dropped with the last entry that carries it. */
  readonly seen: Map<string, { count: number; kept: number }>;
  readonly counts: Omit<MemoryInboxCounts, 'entries' | 'unverified' | 'refused' | 'droppedRefused'>;
  keptBytes: number;
  seq: number;
  lastPrune: number;
}

/**
 * The default inbox: in-process, bounded by age and two ways per kind: verified entries by
 * `maxEntries` and `maxBytes`, unverified ones (`isVerifiedRecord`) in a ring of their own by
 * `maxUnverified` and `maxUnverifiedBytes`, so a flood of junk only ever pushes out older junk,
 * never the record of a processed payment. Entries are kept by reference (the body Buffer is the
 * one the adapter read), so recording costs no copy of the bytes.
 */
export function createMemoryInbox(options: MemoryInboxOptions = {}): MemoryInbox {
  const state: State = {
    maxEntries: checkWholeNumber(options.maxEntries, 1_000, 'maxEntries'),
    maxBytes: checkWholeNumber(options.maxBytes, 8 * 1024 * 1024, 'maxBytes', { unit: 'bytes' }),
    budget: resolveInboxBudget(options, {
      maxUnverified: 100,
      maxUnverifiedBytes: 2 * 1024 * 1024,
    }),
    retentionMs: checkWholeNumber(options.retentionMs, 24 * 3_600_000, 'retentionMs', {
      unit: 'milliseconds',
    }),
    kept: new Ring(),
    unverified: new Ring(),
    byId: new Map(),
    seen: new Map(),
    counts: { bytes: 0, unverifiedBytes: 0, droppedUnverified: 0, dropped: 0, pruned: 0 },
    keptBytes: 0,
    seq: 0,
    lastPrune: 0,
  };
  return {
    async record(record, options) {
      // A write inside an event's transaction: this inbox cannot roll it back with it, and the
      // delivery's final record follows (InboxRecordOptions).
      if (options?.context !== undefined) return undefined;
      const now = Date.now();
      if (now - state.lastPrune >= PRUNE_EVERY_MS) prune(state, new Date(now));
      const item = store(state, record);
      // The entry (a copy of the record, its events with their attempts) is built on the first
      // read, not for a caller that never reads it: the test gateway's hub.receive, median of
      // bench/receive-parts.ts runs, 40.5 -> 33.8 µs (bench/README.md, "A run").
      return item && options?.noAnswer !== true ? entryOf(item) : undefined;
    },
    async update(id, patch) {
      const item = state.byId.get(id);
      if (!item) return undefined;
      const record = { ...item.record, ...patch };
      // A patch that changes the entry's kind moves it to the other ring, under that ring's bounds.
      if (isVerifiedRecord(record) !== item.verified) {
        const moved = store(state, record);
        return moved && entryOf(moved);
      }
      item.record = record;
      item.entry = undefined;
      return entryOf(item);
    },
    list: async (filter, page) => list(state, filter, page),
    get: async (id) => {
      const item = state.byId.get(id);
      return item && entryOf(item);
    },
    prune: async (now = new Date()) => prune(state, now),
    counts: () => ({
      ...state.counts,
      entries: state.kept.live,
      unverified: state.unverified.live,
      refused: state.unverified.live,
      droppedRefused: state.counts.droppedUnverified,
    }),
  };
}

/** Keeps `record` (replacing an entry of the same id); undefined when it was not kept. */
function store(state: State, record: InboxRecord): Kept | undefined {
  const carried = replace(state, record.id);
  const verified = isVerifiedRecord(record);
  const size = inboxRecordSize(record);
  // An entry that could never fit is dropped alone, rather than emptying its ring first.
  if (verified ? size > state.maxBytes : !fitsBudget(state.budget, size)) {
    if (verified) state.counts.dropped++;
    else state.counts.droppedUnverified++;
    return undefined;
  }
  const { events } = record;
  const attempts: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const id = events[i]!.id;
    let s = state.seen.get(id);
    if (!s) state.seen.set(id, (s = { count: 0, kept: 0 }));
    s.kept++;
    // The same id twice in one delivery (a normalize that repeats a draft) is one delivery of it.
    const earlier = firstIndexOf(events, id, i);
    if (earlier !== i) {
      attempts.push(attempts[earlier]!);
      continue;
    }
    const attempt = carried?.get(id);
    s.count = attempt === undefined ? s.count + 1 : Math.max(s.count, attempt);
    attempts.push(attempt ?? s.count);
  }
  const item: Kept = {
    seq: ++state.seq,
    record,
    verified,
    size,
    attempts,
    entry: undefined,
    gone: false,
  };
  (verified ? state.kept : state.unverified).push(item);
  state.byId.set(record.id, item);
  addBytes(state, item, size);
  enforceBounds(state);
  return item.gone ? undefined : item;
}

/** The first index at or before `upTo` whose event has `id`. */
function firstIndexOf(events: InboxRecord['events'], id: string, upTo: number): number {
  let j = 0;
  while (j < upTo && events[j]!.id !== id) j++;
  return j;
}

const fitsBudget = (budget: InboxBudget, size: number): boolean =>
  budget.maxUnverified > 0 && size <= budget.maxUnverifiedBytes;

function addBytes(state: State, item: Kept, size: number): void {
  state.counts.bytes += size;
  if (item.verified) state.keptBytes += size;
  else state.counts.unverifiedBytes += size;
}

/** Drops the entry `id` replaces; returns its attempts, which the new record keeps. */
function replace(state: State, id: string): Map<string, number> | undefined {
  const previous = state.byId.get(id);
  if (!previous) return undefined;
  forget(state, previous);
  return new Map(previous.record.events.map((e, i) => [e.id, previous.attempts[i]!]));
}

function forget(state: State, item: Kept): void {
  item.gone = true;
  (item.verified ? state.kept : state.unverified).live--;
  state.byId.delete(item.record.id);
  addBytes(state, item, -item.size);
  for (const event of item.record.events) {
    const s = state.seen.get(event.id);
    if (s && --s.kept === 0) state.seen.delete(event.id);
  }
}

/** Each ring is trimmed by its own bounds only: nothing unverified can push out a verified entry. */
function enforceBounds(state: State): void {
  const { kept, unverified, counts, budget } = state;
  while (
    unverified.live > budget.maxUnverified ||
    counts.unverifiedBytes > budget.maxUnverifiedBytes
  ) {
    forget(state, unverified.oldest()!);
    counts.droppedUnverified++;
  }
  while (kept.live > state.maxEntries || state.keptBytes > state.maxBytes) {
    forget(state, kept.oldest()!);
    counts.dropped++;
  }
}

function prune(state: State, now: Date): number {
  state.lastPrune = now.getTime();
  const cutoff = now.getTime() - state.retentionMs;
  let n = 0;
  for (const ring of [state.kept, state.unverified])
    for (let i = ring.head; i < ring.items.length; i++) {
      const item = ring.items[i]!;
      // Rings are in arrival order, but receivedAt is the caller's: check every entry.
      if (!item.gone && item.record.receivedAt.getTime() < cutoff) {
        forget(state, item);
        n++;
      }
    }
  if (n > 0) {
    state.kept.compact();
    state.unverified.compact();
  }
  state.counts.pruned += n;
  return n;
}

/** Both rings newest first, merged by arrival; the cursor is the last entry's sequence number. */
function list(state: State, filter: InboxFilter = {}, page: InboxPage = {}): InboxList {
  const { limit, before } = checkPage(page);
  const { kept, unverified } = state;
  const entries: InboxEntry[] = [];
  let k = kept.items.length - 1;
  let r = unverified.items.length - 1;
  let last = 0;
  while (k >= kept.head || r >= unverified.head) {
    const fromKept =
      r < unverified.head || (k >= kept.head && kept.items[k]!.seq > unverified.items[r]!.seq);
    const item = fromKept ? kept.items[k--]! : unverified.items[r--]!;
    if (item.gone || item.seq >= before || !matches(item.record, filter)) continue;
    if (entries.length === limit) return { entries, nextCursor: String(last) };
    entries.push(entryOf(item));
    last = item.seq;
  }
  return { entries };
}
