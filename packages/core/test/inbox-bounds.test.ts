/**
 * The memory inbox's bounds: refused deliveries in a ring of their own (a forgery flood never
 * evicts a processed payment), entries and body bytes capped oldest first, retention pruning.
 */
import { Agent } from 'node:http';
import { createMemoryInbox, type InboxRecord } from '../src';
import {
  createTestProvider,
  postKeepAlive,
  reportCounts,
  signedDelivery,
  startTestServer,
} from '../src/testing';

const provider = createTestProvider();

let n = 0;
/** A verified entry by default (it carries an event); pass `events: []` for an unverified one. */
function record(overrides: Partial<InboxRecord> = {}): InboxRecord {
  n++;
  const event = {
    id: `test-gateway:E${n}:paid`,
    type: 'payment.completed' as const,
    orderId: `O${n}`,
    transactionId: `E${n}`,
    amount: '1.00',
    currency: 'LAK',
  };
  return {
    id: `entry-${n}`,
    receivedAt: new Date(),
    provider: 'test-gateway',
    transport: 'http',
    headers: {},
    body: Buffer.from(`{"n":${n}}`),
    outcome: 'processed',
    reply: { status: 200, headers: {}, body: '{"ok":true}' },
    events: [event],
    durationMs: 1,
    ...overrides,
  };
}

describe('a flood of forgeries', () => {
  it('10,000 forged deliveries over HTTP keep every processed entry and only 100 refused', async () => {
    const inbox = createMemoryInbox({ maxRefused: 100 });
    const server = await startTestServer(provider, { hubOptions: { inbox } });
    server.hub.on('payment.completed', () => undefined);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    try {
      for (let i = 0; i < 20; i++)
        await postKeepAlive(server.url, signedDelivery({ txn: `OK-${i}` }), agent);
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < 100; batch++) {
        const replies = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            postKeepAlive(
              server.url,
              signedDelivery({ txn: `FORGED-${batch * 100 + i}` }, 'forger'),
              agent,
            ),
          ),
        );
        for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
      const counts = inbox.counts();
      reportCounts(
        'inbox forgery flood',
        `forged 10000 (statuses ${JSON.stringify(Object.fromEntries(statuses))}), processed 20`,
        counts,
      );
      expect(statuses.get(401)).toBe(10_000);
      expect(counts).toMatchObject({
        entries: 20,
        refused: 100,
        droppedRefused: 9_900,
        dropped: 0,
      });
      const processed = await inbox.list({ outcome: 'processed' }, { limit: 500 });
      expect(processed.entries).toHaveLength(20);
      // The refused ring keeps the newest forgeries.
      const refused = await inbox.list({ outcome: 'rejected' }, { limit: 500 });
      expect(refused.entries).toHaveLength(100);
      expect(refused.entries[0]!.body.toString()).toContain('FORGED-9999');
    } finally {
      agent.destroy();
      await server.close();
    }
  }, 120_000);
});

describe('createMemoryInbox bounds', () => {
  it('maxEntries drops the oldest non-refused entries; maxRefused: 0 keeps no refused one', async () => {
    const inbox = createMemoryInbox({ maxEntries: 3, maxRefused: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await inbox.record(record()))!.id);
    expect(await inbox.record(record({ outcome: 'rejected' }))).toBeUndefined();
    const { entries } = await inbox.list();
    expect(entries.map((e) => e.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(inbox.counts()).toMatchObject({ entries: 3, refused: 0, dropped: 2, droppedRefused: 1 });
    expect(await inbox.get(ids[0]!)).toBeUndefined();
  });

  it('maxBytes drops the oldest entries until the bodies fit', async () => {
    const inbox = createMemoryInbox({ maxBytes: 2_500 });
    // Sizes count the body only here: no headers, message or URL.
    const big = () => record({ body: Buffer.alloc(1_000, 0x61) });
    const first = await inbox.record(big());
    await inbox.record(big());
    await inbox.record(big());
    expect(inbox.counts()).toMatchObject({ entries: 2, bytes: 2_000, dropped: 1 });
    expect(await inbox.get(first!.id)).toBeUndefined();
  });

  it('attempt counts the deliveries of an event id the inbox has kept', async () => {
    const inbox = createMemoryInbox({ maxEntries: 2 });
    const event = {
      id: 'test-gateway:A:paid',
      type: 'payment.completed' as const,
      orderId: 'O-A',
      transactionId: 'A',
      amount: '1.00',
      currency: 'LAK',
    };
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++)
      attempts.push((await inbox.record(record({ events: [event] })))!.events[0]!.attempt);
    expect(attempts).toEqual([1, 2, 3]);
    await inbox.record(record());
    await inbox.record(record());
    // Once no kept entry carries the event id, its count starts again.
    expect((await inbox.record(record({ events: [event] })))!.events[0]!.attempt).toBe(1);
  });

  it('a record with a stored id replaces the entry and keeps its attempts', async () => {
    const inbox = createMemoryInbox();
    const event = {
      id: 'test-gateway:X:paid',
      type: 'payment.completed' as const,
      orderId: null,
      transactionId: 'X',
      amount: '2',
      currency: null,
    };
    await inbox.record(record({ events: [event] }));
    // Written early in a transaction, then completed by the hub's final record:
    const early = await inbox.record(record({ events: [event], durationMs: 0 }));
    const final = await inbox.record(
      record({ id: early!.id, events: [event], durationMs: 7, outcome: 'failed' }),
    );
    expect(final).toMatchObject({ durationMs: 7, outcome: 'failed', events: [{ attempt: 2 }] });
    expect((await inbox.list()).entries.map((e) => e.id)).toEqual([early!.id, 'entry-' + (n - 2)]);
    expect(inbox.counts()).toMatchObject({ entries: 2, dropped: 0 });
    expect((await inbox.record(record({ events: [event] })))!.events[0]!.attempt).toBe(3);
  });

  it('retention: prune(now) drops entries older than retentionMs; record prunes too', async () => {
    const inbox = createMemoryInbox({ retentionMs: 60_000 });
    const now = Date.now();
    await inbox.record(record({ receivedAt: new Date(now - 120_000) }));
    await inbox.record(record({ receivedAt: new Date(now - 90_000), outcome: 'rejected' }));
    const fresh = await inbox.record(record({ receivedAt: new Date(now - 1_000) }));
    expect(await inbox.prune(new Date(now))).toBe(2);
    expect((await inbox.list()).entries.map((e) => e.id)).toEqual([fresh!.id]);
    expect(await inbox.prune(new Date(now + 60_000))).toBe(1);
    expect(inbox.counts()).toMatchObject({ entries: 0, refused: 0, pruned: 3, bytes: 0 });

    // record prunes too, at most once a minute.
    const other = createMemoryInbox({ retentionMs: 60_000 });
    const old = await other.record(record({ receivedAt: new Date(now - 120_000) }));
    await other.record(record({ receivedAt: new Date(now + 30_000) }));
    expect(await other.get(old!.id)).toBeDefined();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      await other.record(record({ receivedAt: new Date(now + 61_000) }));
    } finally {
      clock.mockRestore();
    }
    expect(await other.get(old!.id)).toBeUndefined();
    expect(other.counts()).toMatchObject({ entries: 2, pruned: 1 });
  });

  it('update changes an outcome; bad options are ConfigErrors', async () => {
    const inbox = createMemoryInbox();
    const entry = await inbox.record(record({ outcome: 'failed' }));
    const updated = await inbox.update(entry!.id, { outcome: 'processed' });
    expect(updated?.outcome).toBe('processed');
    expect((await inbox.get(entry!.id))?.outcome).toBe('processed');
    expect(await inbox.update('gone', { outcome: 'processed' })).toBeUndefined();
    expect(() => createMemoryInbox({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => createMemoryInbox({ maxRefused: -1 })).toThrow(/maxRefused/);
    expect(() => createMemoryInbox({ maxBytes: 1.5 })).toThrow(/maxBytes/);
    expect(() => createMemoryInbox({ retentionMs: 0 })).toThrow(/retentionMs/);
  });
});
