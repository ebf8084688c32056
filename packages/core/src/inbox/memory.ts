import { checkWholeNumber } from '../options';
import { checkPage, matches } from './filter';
import type {
  InboxEntry,
  InboxList,
  InboxRecord,
  MemoryInbox,
  MemoryInboxCounts,
  MemoryInboxOptions,
} from './types';

interface Kept {
  seq: number;
  entry: InboxEntry;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * The default inbox: in-process, bounded three ways (entries, refused entries, body bytes) and by
 * age. Refused deliveries live in a ring of their own: a flood of forgeries only ever pushes out
 * older forgeries, never the record of a processed payment. Entries are kept by reference (the
 * body Buffer is the one the adapter read), so recording costs no copy of the bytes.
 */
export function createMemoryInbox(options: MemoryInboxOptions = {}): MemoryInbox {
  const maxEntries = checkWholeNumber(options.maxEntries, 1_000, 'maxEntries');
  const maxRefused = checkWholeNumber(options.maxRefused, 100, 'maxRefused', { min: 0 });
  const maxBytes = checkWholeNumber(options.maxBytes, 8 * 1024 * 1024, 'maxBytes', {
    unit: 'bytes',
  });
  const retentionMs = checkWholeNumber(options.retentionMs, 24 * 3_600_000, 'retentionMs', {
    unit: 'milliseconds',
  });
  // Oldest first; both are small (bounded by maxEntries and maxRefused).
  const kept: Kept[] = [];
  const refused: Kept[] = [];
  const byId = new Map<string, Kept>();
  /** Deliveries seen per event id (for `attempt`), dropped with the last entry that carries it. */
  const seen = new Map<string, { count: number; kept: number }>();
  const counts: MemoryInboxCounts = {
    entries: 0,
    refused: 0,
    bytes: 0,
    droppedRefused: 0,
    dropped: 0,
    pruned: 0,
  };
  let seq = 0;
  let lastPrune = 0;

  const drop = (ring: Kept[], index: number): void => {
    const [item] = ring.splice(index, 1);
    if (!item) return;
    forget(item);
  };
  const forget = (item: Kept): void => {
    byId.delete(item.entry.id);
    counts.bytes -= item.entry.body.length;
    for (const event of item.entry.events) {
      const s = seen.get(event.id);
      if (s && --s.kept === 0) seen.delete(event.id);
    }
  };
  const oldestRing = (): Kept[] | undefined => {
    if (kept.length === 0) return refused.length > 0 ? refused : undefined;
    if (refused.length === 0) return kept;
    return kept[0]!.seq < refused[0]!.seq ? kept : refused;
  };
  const enforceBounds = (): void => {
    while (refused.length > maxRefused) {
      drop(refused, 0);
      counts.droppedRefused++;
    }
    while (kept.length > maxEntries) {
      drop(kept, 0);
      counts.dropped++;
    }
    for (let ring = oldestRing(); counts.bytes > maxBytes && ring; ring = oldestRing()) {
      drop(ring, 0);
      if (ring === refused) counts.droppedRefused++;
      else counts.dropped++;
    }
  };
  const prune = (now: Date): number => {
    lastPrune = now.getTime();
    const cutoff = now.getTime() - retentionMs;
    let n = 0;
    for (const ring of [kept, refused])
      for (let i = ring.length - 1; i >= 0; i--) {
        // Rings are in arrival order, but receivedAt may be set by the caller: check every entry.
        if (ring[i]!.entry.receivedAt.getTime() < cutoff) {
          drop(ring, i);
          n++;
        }
      }
    counts.pruned += n;
    return n;
  };
  /** The attempts of the entry `id` replaces, which it keeps: a replacement is no new delivery. */
  const replace = (id: string): Map<string, number> | undefined => {
    const previous = byId.get(id);
    if (!previous) return undefined;
    const ring = previous.entry.outcome === 'rejected' ? refused : kept;
    ring.splice(ring.indexOf(previous), 1);
    forget(previous);
    return new Map(previous.entry.events.map((e) => [e.id, e.attempt]));
  };
  const store = (record: InboxRecord): InboxEntry | undefined => {
    const carried = replace(record.id);
    const isRefused = record.outcome === 'rejected';
    if (isRefused && maxRefused === 0) {
      counts.droppedRefused++;
      return undefined;
    }
    const events = record.events.map((event) => {
      const s = seen.get(event.id) ?? { count: 0, kept: 0 };
      const attempt = carried?.get(event.id);
      s.count = attempt === undefined ? s.count + 1 : Math.max(s.count, attempt);
      s.kept++;
      seen.set(event.id, s);
      return { ...event, attempt: attempt ?? s.count };
    });
    const item: Kept = { seq: ++seq, entry: { ...record, events } };
    (isRefused ? refused : kept).push(item);
    byId.set(record.id, item);
    counts.bytes += record.body.length;
    enforceBounds();
    return byId.has(record.id) ? item.entry : undefined;
  };

  return {
    async record(record) {
      const now = Date.now();
      if (now - lastPrune >= PRUNE_EVERY_MS) prune(new Date(now));
      return store(record);
    },
    async update(id, patch) {
      const item = byId.get(id);
      if (!item) return undefined;
      item.entry = { ...item.entry, ...patch };
      return item.entry;
    },
    async list(filter = {}, page = {}): Promise<InboxList> {
      const { limit, before } = checkPage(page);
      const entries: InboxEntry[] = [];
      let k = kept.length - 1;
      let r = refused.length - 1;
      // Both rings are in seq order: walk them newest first, merged.
      while (k >= 0 || r >= 0) {
        const item =
          r < 0 || (k >= 0 && kept[k]!.seq > refused[r]!.seq) ? kept[k--]! : refused[r--]!;
        if (item.seq >= before || !matches(item.entry, filter)) continue;
        if (entries.length === limit) return { entries, nextCursor: String(lastSeq(entries)) };
        entries.push(item.entry);
      }
      return { entries };

      function lastSeq(list: InboxEntry[]): number {
        return byId.get(list[list.length - 1]!.id)!.seq;
      }
    },
    async get(id) {
      return byId.get(id)?.entry;
    },
    async prune(now = new Date()) {
      return prune(now);
    },
    counts() {
      return { ...counts, entries: kept.length, refused: refused.length };
    },
  };
}
