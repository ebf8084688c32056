/**
 * The inbox budget (issue 23, item 1) and header redaction at write time (item 6), over real HTTP:
 * a flood of everything that produced no verified event (unsigned non-payment notices, junk
 * transaction ids whose status query fails, forgeries), with 60 KiB bodies and large headers,
 * stays within maxUnverified / maxUnverifiedBytes and never evicts a processed payment; secret
 * headers never reach the inbox.
 */
import { Agent } from 'node:http';
import {
  createMemoryInbox,
  createPaymentHub,
  inboxRecordSize,
  isVerifiedRecord,
  type MemoryInbox,
} from '../src';

const REDACTED = '[redacted]';
import { defineProvider } from '../src/plugin';
import { junkDelivery, unsignedGateway } from './support/junk-gateway';
import { postDelivery, postKeepAlive, reportCounts, startTestServer } from '../src/testing';

async function flood(url: string, inbox: MemoryInbox, total: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses = new Map<number, number>();
  let most = { unverified: 0, unverifiedBytes: 0 };
  try {
    for (let batch = 0; batch < total / 30; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          postKeepAlive(url, junkDelivery(batch * 30 + i), agent),
        ),
      );
      for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const c = inbox.counts();
      most = {
        unverified: Math.max(most.unverified, c.unverified),
        unverifiedBytes: Math.max(most.unverifiedBytes, c.unverifiedBytes),
      };
    }
  } finally {
    agent.destroy();
  }
  return { statuses: Object.fromEntries(statuses), most };
}

describe('the memory inbox under a junk flood', () => {
  it('450 junk deliveries of 60 KiB (unhandled, failed, rejected) stay in the budget; the payment stays', async () => {
    const budget = { maxUnverified: 10, maxUnverifiedBytes: 400 * 1024 };
    const inbox = createMemoryInbox(budget); // maxBytes stays at its 8 MiB default
    const server = await startTestServer(unsignedGateway, { hubOptions: { inbox } });
    server.hub.on('payment.completed', () => undefined);
    try {
      const paid = await postDelivery(server.url, {
        body: JSON.stringify({ kind: 'payment', txn: 'REAL-1' }),
        headers: {},
      });
      expect(paid.status).toBe(200);
      const [processed] = (await inbox.list({ outcome: 'processed' })).entries;
      const { statuses, most } = await flood(server.url, inbox, 450);
      const counts = inbox.counts();
      reportCounts(
        'memory inbox junk flood',
        `450 junk of 60 KiB, statuses ${JSON.stringify(statuses)}`,
        counts,
        most,
      );
      expect(statuses).toEqual({ 200: 150, 503: 150, 400: 150 });
      expect(most.unverified).toBeLessThanOrEqual(10);
      expect(most.unverifiedBytes).toBeLessThanOrEqual(400 * 1024);
      // Headers are counted: 6 bodies of 60 KiB would fit in 400 KiB, but not with their 8 KiB headers.
      expect(counts).toMatchObject({ entries: 1, unverified: 5, droppedUnverified: 445 });
      expect(counts.unverifiedBytes).toBeGreaterThan(5 * (60 * 1024 + 8 * 1024));
      expect(await inbox.get(processed!.id)).toMatchObject({ outcome: 'processed' });
      const kept = await inbox.list({}, { limit: 500 });
      expect(new Set(kept.entries.map((e) => e.outcome))).toEqual(
        new Set(['processed', 'unhandled', 'failed', 'rejected']),
      );
    } finally {
      await server.close();
    }
  }, 120_000);

  it('duplicates count against the budget; the entry that processed the event is kept', async () => {
    const inbox = createMemoryInbox({ maxUnverified: 3 });
    const hub = createPaymentHub({ inbox });
    hub.on('payment.completed', () => undefined);
    const deliver = () =>
      hub.receive(unsignedGateway, {
        body: Buffer.from(JSON.stringify({ kind: 'payment', txn: 'REAL-2' })),
        headers: {},
        transport: 'http',
        receivedAt: new Date(),
      });
    const first = await deliver();
    for (let i = 0; i < 20; i++) expect((await deliver()).outcome).toBe('duplicate');
    expect(inbox.counts()).toMatchObject({ entries: 1, unverified: 3, droppedUnverified: 17 });
    expect((await inbox.get(first.inboxId!))?.outcome).toBe('processed');
  });
});

describe('which entries are verified, and their size', () => {
  const event = {
    id: 'g:T:paid',
    type: 'payment.completed' as const,
    orderId: null,
    transactionId: 'T',
    amount: '1',
    currency: null,
  };
  it.each([
    ['processed', 1, true],
    ['failed', 1, true],
    ['superseded', 1, true],
    ['unhandled', 1, true],
    ['busy', 1, true],
    ['ignored', 1, true],
    ['duplicate', 1, false],
    ['rejected', 1, false],
    ['unhandled', 0, false],
    ['failed', 0, false],
    ['pending', 0, false],
  ] as const)('%s with %i event(s): verified %s', (outcome, count, expected) => {
    expect(isVerifiedRecord({ outcome, events: count ? [event] : [] })).toBe(expected);
  });

  it('counts body, header names and values, message and URL', () => {
    const size = inboxRecordSize({
      body: Buffer.alloc(10),
      headers: { ab: 'cde', 'x-many': ['1', '22'] },
      message: { k: 'é' },
      url: '/hook',
    });
    expect(size).toBe(10 + 5 + 9 + Buffer.byteLength('{"k":"é"}') + 5);
  });

  it('budget options are checked at construction; maxRefused is a deprecated alias', () => {
    expect(() => createMemoryInbox({ maxUnverified: -1 })).toThrow(/option "maxUnverified"/);
    expect(() => createMemoryInbox({ maxUnverifiedBytes: 1.5 })).toThrow(/"maxUnverifiedBytes"/);
    expect(() => createMemoryInbox({ maxRefused: 5, maxUnverified: 6 })).toThrow(
      /option "maxRefused" is the deprecated name of maxUnverified/,
    );
    const alias = createMemoryInbox({ maxRefused: 0 });
    return alias
      .record({
        id: 'x',
        receivedAt: new Date(),
        provider: 'p',
        transport: 'http',
        headers: {},
        body: Buffer.from('{}'),
        outcome: 'unhandled',
        reply: { status: 200, headers: {}, body: '' },
        events: [],
        durationMs: 0,
      })
      .then((kept) => expect([kept, alias.counts().droppedUnverified]).toEqual([undefined, 1]));
  });
});

describe('secret headers are redacted before the inbox sees them', () => {
  const SECRET = 'sk_live_do_not_store_4242';

  it("core's list, the provider's secretHeaders and the hub's redactHeaders; signatures kept", async () => {
    const inbox = createMemoryInbox();
    const server = await startTestServer(unsignedGateway, {
      hubOptions: { inbox, redactHeaders: ['X-Merchant-Proxy-Key'] },
    });
    server.hub.on('payment.completed', () => undefined);
    try {
      const headers = {
        'x-callback-token': SECRET, // the provider's declaration (and core's list)
        'x-merchant-proxy-key': `${SECRET}-proxy`, // the merchant's option
        'x-webhook-secret': `${SECRET}-wh`, // core's list
        authorization: `Bearer ${SECRET}`,
        'x-test-signature': 'a1b2c3', // a signature: kept for the replay
      };
      for (const body of ['{"kind":"payment","txn":"REAL-9"}', '{"kind":"payout","txn":"J"}', '{'])
        await postDelivery(server.url, { body, headers });
      const { entries } = await inbox.list();
      expect(entries.map((e) => e.outcome)).toEqual(['rejected', 'unhandled', 'processed']);
      for (const entry of entries) {
        expect(JSON.stringify(entry)).not.toContain(SECRET);
        expect(entry.headers).toMatchObject({
          'x-callback-token': REDACTED,
          'x-merchant-proxy-key': REDACTED,
          'x-webhook-secret': REDACTED,
          authorization: REDACTED,
          'x-test-signature': 'a1b2c3',
        });
      }
    } finally {
      await server.close();
    }
  });

  it('bad names are refused at construction', () => {
    expect(() => createPaymentHub({ redactHeaders: ['ok', 'not a header'] })).toThrow(
      /option "redactHeaders" holds "not a header"/,
    );
    expect(() => createPaymentHub({ redactHeaders: 'x-token' as never })).toThrow(
      /option "redactHeaders" must be an array/,
    );
    expect(() => defineProvider({ ...unsignedGateway, secretHeaders: [''] } as never)).toThrow(
      /option "secretHeaders"/,
    );
    expect(unsignedGateway.secretHeaders).toEqual(['x-callback-token']);
  });
});
