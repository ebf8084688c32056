import { checkWholeNumber } from '../options';
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
  readonly maxRefused: number;
  readonly maxBytes: number;
  readonly retentionMs: number;
  readonly kept: Ring;
  readonly refused: Ring;
  readonly byId: Map<string, Kept>;
  /** Deliveries seen per event id (for `attempt`), dropped with the last entry that carries it. */
  readonly seen: Map<string, { count: number; kept: number }>;
  readonly counts: MemoryInboxCounts;
  seq: number;
  lastPrune: number;
}

/**
 * The default inbox: in-process, bounded three ways (entries, refused entries, body bytes) and by
 * age. Refused deliveries live in a ring of their own: a flood of forgeries only ever pushes out
 * older forgeries, never the record of a processed payment. Entries are kept by reference (the
 * body Buffer is the one the adapter read), so recording costs no copy of the bytes.
 */
export function createMemoryInbox(options: MemoryInboxOptions = {}): MemoryInbox {
  const state: State = {
    maxEntries: checkWholeNumber(options.maxEntries, 1_000, 'maxEntries'),
    maxRefused: checkWholeNumber(options.maxRefused, 100, 'maxRefused', { min: 0 }),
    maxBytes: checkWholeNumber(options.maxBytes, 8 * 1024 * 1024, 'maxBytes', { unit: 'bytes' }),
    retentionMs: checkWholeNumber(options.retentionMs, 24 * 3_600_000, 'retentionMs', {
      unit: 'milliseconds',
    }),
    kept: new Ring(),
    refused: new Ring(),
    byId: new Map(),
    seen: new Map(),
    counts: { entries: 0, refused: 0, bytes: 0, droppedRefused: 0, dropped: 0, pruned: 0 },
    seq: 0,
    lastPrune: 0,
  };
  return {
    async record(record) {
      const now = Date.now();
      if (now - state.lastPrune >= PRUNE_EVERY_MS) prune(state, new Date(now));
      return store(state, record);
    },
    async update(id, patch) {
      const item = state.byId.get(id);
      if (!item) return undefined;
      item.record = { ...item.record, ...patch };
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
      refused: state.refused.live,
    }),
  };
}

function store(state: State, record: InboxRecord): InboxEntry | undefined {
  const carried = replace(state, record.id);
  const isRefused = record.outcome === 'rejected';
  if (isRefused && state.maxRefused === 0) {
    state.counts.droppedRefused++;
    return undefined;
  }
  const attempts = record.events.map((event) => {
    let s = state.seen.get(event.id);
    if (!s) state.seen.set(event.id, (s = { count: 0, kept: 0 }));
    const attempt = carried?.get(event.id);
    s.count = attempt === undefined ? s.count + 1 : Math.max(s.count, attempt);
    s.kept++;
    return attempt ?? s.count;
  });
  const item: Kept = { seq: ++state.seq, record, attempts, entry: undefined, gone: false };
  (isRefused ? state.refused : state.kept).push(item);
  state.byId.set(record.id, item);
  state.counts.bytes += record.body.length;
  enforceBounds(state);
  return item.gone ? undefined : entryOf(item);
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
  (item.record.outcome === 'rejected' ? state.refused : state.kept).live--;
  state.byId.delete(item.record.id);
  state.counts.bytes -= item.record.body.length;
  for (const event of item.record.events) {
    const s = state.seen.get(event.id);
    if (s && --s.kept === 0) state.seen.delete(event.id);
  }
}

function enforceBounds(state: State): void {
  const { kept, refused, counts } = state;
  while (refused.live > state.maxRefused) {
    forget(state, refused.oldest()!);
    counts.droppedRefused++;
  }
  while (kept.live > state.maxEntries) {
    forget(state, kept.oldest()!);
    counts.dropped++;
  }
  while (counts.bytes > state.maxBytes) {
    const a = kept.oldest();
    const b = refused.oldest();
    const fromRefused = !a || (b !== undefined && b.seq < a.seq);
    forget(state, (fromRefused ? b : a)!);
    if (fromRefused) counts.droppedRefused++;
    else counts.dropped++;
  }
}

function prune(state: State, now: Date): number {
  state.lastPrune = now.getTime();
  const cutoff = now.getTime() - state.retentionMs;
  let n = 0;
  for (const ring of [state.kept, state.refused])
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
    state.refused.compact();
  }
  state.counts.pruned += n;
  return n;
}

/** Both rings newest first, merged by arrival; the cursor is the last entry's sequence number. */
function list(state: State, filter: InboxFilter = {}, page: InboxPage = {}): InboxList {
  const { limit, before } = checkPage(page);
  const { kept, refused } = state;
  const entries: InboxEntry[] = [];
  let k = kept.items.length - 1;
  let r = refused.items.length - 1;
  let last = 0;
  while (k >= kept.head || r >= refused.head) {
    const fromKept =
      r < refused.head || (k >= kept.head && kept.items[k]!.seq > refused.items[r]!.seq);
    const item = fromKept ? kept.items[k--]! : refused.items[r--]!;
    if (item.gone || item.seq >= before || !matches(item.record, filter)) continue;
    if (entries.length === limit) return { entries, nextCursor: String(last) };
    entries.push(entryOf(item));
    last = item.seq;
  }
  return { entries };
}
