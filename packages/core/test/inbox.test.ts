/**
 * The inbox over real HTTP: every delivery the hub answered is there once, with its exact bytes,
 * its headers minus credentials, its outcome, reply, events and error; the read API filters and
 * pages; a replay re-verifies the stored bytes and is recorded as its own entry.
 */
import { createMemoryInbox, createPaymentHub, type InboxEntry, type MemoryInbox } from '../src';
import {
  createTestProvider,
  postDelivery,
  reportCounts,
  sign,
  signedDelivery,
  startTestServer,
  type TestServer,
} from '../src/testing';

const provider = createTestProvider();
const OK = provider.ack.ok.body;

async function withServer(
  run: (server: TestServer, inbox: MemoryInbox) => Promise<void>,
  listen = true,
): Promise<void> {
  const inbox = createMemoryInbox();
  const server = await startTestServer(provider, { hubOptions: { inbox } });
  if (listen) server.hub.on('payment.completed', () => undefined);
  try {
    await run(server, inbox);
  } finally {
    await server.close();
  }
}

const only = async (inbox: MemoryInbox, filter = {}): Promise<InboxEntry> => {
  const { entries } = await inbox.list(filter);
  expect(entries).toHaveLength(1);
  return entries[0]!;
};

describe('what the hub records', () => {
  it('a processed delivery: exact bytes, outcome, reply, the verified event, attempt 1', async () => {
    await withServer(async (server, inbox) => {
      const fixture = signedDelivery({ txn: 'P-1', order: 'O-P-1', amount: '1500.25' });
      const reply = await postDelivery(server.url, fixture);
      expect(reply.body).toBe(OK);
      const entry = await only(inbox);
      expect(entry.body.equals(Buffer.from(fixture.body, 'utf8'))).toBe(true);
      expect(entry).toMatchObject({
        provider: 'test-gateway',
        transport: 'http',
        method: 'POST',
        outcome: 'processed',
        reply: { status: 200, body: OK },
        events: [
          {
            id: 'test-gateway:P-1:paid',
            type: 'payment.completed',
            orderId: 'O-P-1',
            transactionId: 'P-1',
            amount: '1500.25',
            currency: 'LAK',
            attempt: 1,
          },
        ],
      });
      expect(entry.error).toBeUndefined();
      expect(entry.receivedAt).toBeInstanceOf(Date);
      expect(entry.durationMs).toBeGreaterThanOrEqual(0);
      expect(await inbox.get(entry.id)).toBe(entry);
    });
  });

  it('a duplicate is its own entry, attempt 2 of the same event id', async () => {
    await withServer(async (server, inbox) => {
      const fixture = signedDelivery({ txn: 'D-1' });
      await postDelivery(server.url, fixture);
      expect((await postDelivery(server.url, fixture)).body).toBe(OK);
      const { entries } = await inbox.list({ eventId: 'test-gateway:D-1:paid' });
      expect(entries.map((e) => [e.outcome, e.events[0]!.attempt])).toEqual([
        ['duplicate', 2],
        ['processed', 1],
      ]);
    });
  });

  it('a forgery: refused, bytes kept, error code and message, no events', async () => {
    await withServer(async (server, inbox) => {
      const fixture = signedDelivery({ txn: 'F-1', order: 'O-F-1' }, 'not-the-secret');
      const reply = await postDelivery(server.url, fixture);
      expect(reply.status).toBe(401);
      const entry = await only(inbox);
      expect(entry.outcome).toBe('rejected');
      expect(entry.reply.status).toBe(401);
      expect(entry.reply.body).toBe(reply.body);
      expect(entry.error?.code).toBe('ERR_SIGNATURE_INVALID');
      expect(entry.error?.message).toContain('signature does not match');
      // An unverified payload names no order: the filters only ever see verified events.
      expect(entry.events).toEqual([]);
      expect((await inbox.list({ orderId: 'O-F-1' })).entries).toEqual([]);
      expect(entry.body.toString('utf8')).toBe(fixture.body);
    });
  });

  it('bytes that are not UTF-8 are kept exactly (refused as malformed)', async () => {
    await withServer(async (server, inbox) => {
      const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x00, 0x7d]);
      const signature = sign(body.toString('latin1'));
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-signature': signature },
        body,
      });
      expect(response.status).toBe(400);
      const entry = await only(inbox);
      expect(entry.error?.code).toBe('ERR_PAYLOAD_MALFORMED');
      expect(entry.body.equals(body)).toBe(true);
    });
  });

  it('unhandled: not a payment event, and a payment type nobody listens to', async () => {
    await withServer(async (server, inbox) => {
      await postDelivery(server.url, signedDelivery({ txn: 'U-1', event: 'payout' }));
      const retry = await postDelivery(
        server.url,
        signedDelivery({ txn: 'U-2', status: 'FAILED' }),
      );
      expect(retry.status).toBe(503);
      const { entries } = await inbox.list({ outcome: 'unhandled' });
      expect(entries.map((e) => [e.reply.status, e.events.map((x) => x.id)])).toEqual([
        [503, ['test-gateway:U-2:failed']],
        [200, []],
      ]);
    }, false);
  });

  it('refusals before the body is read (405, 415) are recorded with no bytes', async () => {
    await withServer(async (server, inbox) => {
      expect((await fetch(server.url, { method: 'PUT', body: 'x' })).status).toBe(405);
      const fixture = signedDelivery({ txn: 'M-1' });
      expect((await postDelivery(server.url, fixture, 'text/xml')).status).toBe(415);
      const { entries } = await inbox.list();
      expect(entries.map((e) => [e.method, e.error?.code, e.body.length])).toEqual([
        ['POST', 'ERR_UNSUPPORTED_MEDIA_TYPE', 0],
        ['PUT', 'ERR_METHOD_NOT_ALLOWED', 0],
      ]);
      expect(entries[0]!.headers['x-test-signature']).toBe(fixture.headers['x-test-signature']);
    });
  });

  it('credentials are redacted; the signature header is kept for replays', async () => {
    await withServer(async (server, inbox) => {
      const fixture = signedDelivery({ txn: 'H-1' });
      const headers = {
        ...fixture.headers,
        authorization: 'Bearer live-token-123',
        cookie: 'session=abc',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        'x-api-key': 'key-456',
        'x-request-id': 'req-1',
      };
      await postDelivery(server.url, { body: fixture.body, headers });
      const entry = await only(inbox);
      expect(entry.headers).toMatchObject({
        authorization: '[redacted]',
        cookie: '[redacted]',
        'proxy-authorization': '[redacted]',
        'x-api-key': '[redacted]',
        'x-request-id': 'req-1',
        'x-test-signature': fixture.headers['x-test-signature'],
      });
      expect(JSON.stringify(entry.headers)).not.toMatch(/live-token|session=abc|key-456|dXNlcj/);
    });
  });

  it('inbox: false records nothing and has no replay', async () => {
    const server = await startTestServer(provider, { hubOptions: { inbox: false } });
    server.hub.on('payment.completed', () => undefined);
    try {
      expect(server.hub.inbox).toBeUndefined();
      const result = await server.hub.receive(provider, {
        body: Buffer.from(signedDelivery({ txn: 'N-1' }).body),
        headers: signedDelivery({ txn: 'N-1' }).headers,
        transport: 'http',
        receivedAt: new Date(),
      });
      expect(result.outcome).toBe('processed');
      expect(result.inboxId).toBeUndefined();
      await expect(server.hub.replay(provider, 'x')).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    } finally {
      await server.close();
    }
  });

  it('the default hub has a memory inbox; a bad inbox option is a ConfigError', () => {
    expect(typeof createPaymentHub().inbox?.list).toBe('function');
    expect(() => createPaymentHub({ inbox: {} as never })).toThrow(/inbox.*record\(\)/);
    expect(() => createPaymentHub({ inbox: true as never })).toThrow(/inbox/);
  });
});

describe('the read API', () => {
  it('filters by provider, outcome, order, transaction and time, and pages newest first', async () => {
    await withServer(async (server, inbox) => {
      const start = new Date();
      for (let i = 0; i < 7; i++)
        await postDelivery(server.url, signedDelivery({ txn: `L-${i}`, order: `O-${i % 2}` }));
      await postDelivery(server.url, signedDelivery({ txn: 'L-bad' }, 'wrong'));
      const all = await inbox.list({}, { limit: 3 });
      expect(all.entries.map((e) => e.outcome)).toEqual(['rejected', 'processed', 'processed']);
      const pages: string[][] = [all.entries.map((e) => e.id)];
      let cursor = all.nextCursor;
      while (cursor) {
        const page = await inbox.list({}, { limit: 3, cursor });
        pages.push(page.entries.map((e) => e.id));
        cursor = page.nextCursor;
      }
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
      expect(new Set(pages.flat()).size).toBe(8);

      const byOrder = await inbox.list({ orderId: 'O-1' });
      expect(byOrder.entries.map((e) => e.events[0]!.transactionId)).toEqual(['L-5', 'L-3', 'L-1']);
      expect((await inbox.list({ transactionId: 'L-4' })).entries).toHaveLength(1);
      expect((await inbox.list({ outcome: ['rejected'] })).entries).toHaveLength(1);
      expect((await inbox.list({ outcome: ['rejected', 'processed'] })).entries).toHaveLength(8);
      expect((await inbox.list({ provider: 'other' })).entries).toHaveLength(0);
      expect((await inbox.list({ from: start })).entries).toHaveLength(8);
      expect((await inbox.list({ to: start })).entries).toHaveLength(0);
      expect((await inbox.list({ from: new Date(Date.now() + 1000) })).entries).toHaveLength(0);
      expect(await inbox.get('no-such-id')).toBeUndefined();
      reportCounts('inbox read API', `entries 8, pages of 3: ${pages.map((p) => p.length)}`);
    });
  });

  it('a bad page is a ConfigError', async () => {
    const inbox = createMemoryInbox();
    await expect(inbox.list({}, { limit: 0 })).rejects.toMatchObject({ option: 'limit' });
    await expect(inbox.list({}, { limit: 501 })).rejects.toMatchObject({ option: 'limit' });
    await expect(inbox.list({}, { cursor: 'abc' })).rejects.toMatchObject({ option: 'cursor' });
  });
});

describe('replay', () => {
  it('a delivery refused under a wrong key is processed when replayed after the key fix', async () => {
    const rotated = 'the-new-secret';
    await withServer(async (server, inbox) => {
      const fixture = signedDelivery({ txn: 'R-1', order: 'O-R-1' }, rotated);
      expect((await postDelivery(server.url, fixture)).status).toBe(401);
      const refused = await only(inbox);
      const paid: string[] = [];
      server.hub.on('payment.completed', (event) => {
        paid.push(event.orderId!);
      });
      // Replayed with the old key it is still a forgery to this hub.
      const again = await server.hub.replay(provider, refused.id);
      expect(again.outcome).toBe('rejected');
      expect(paid).toEqual([]);

      const fixed = createTestProvider({ secret: rotated });
      const result = await server.hub.replay(fixed, refused.id);
      expect(result.outcome).toBe('processed');
      expect(paid).toEqual(['O-R-1']);
      const replays = await inbox.list({ replayOf: refused.id });
      expect(replays.entries.map((e) => [e.transport, e.outcome])).toEqual([
        ['replay', 'processed'],
        ['replay', 'rejected'],
      ]);
      expect(replays.entries[0]!.id).toBe(result.inboxId);
      expect(replays.entries[0]!.body).toBe(refused.body);
    });
  });

  it('a processed delivery replayed is a duplicate: the listener does not run again', async () => {
    await withServer(async (server, inbox) => {
      let runs = 0;
      server.hub.on('payment.completed', () => {
        runs++;
      });
      await postDelivery(server.url, signedDelivery({ txn: 'R-2' }));
      const processed = await only(inbox);
      const result = await server.hub.replay(provider, processed.id);
      expect(result.outcome).toBe('duplicate');
      expect(result.reply.body).toBe(OK);
      expect(runs).toBe(1);
      const replayed = await inbox.get(result.inboxId!);
      expect(replayed).toMatchObject({ replayOf: processed.id, outcome: 'duplicate' });
      expect(replayed!.events[0]!.attempt).toBe(2);
    });
  });

  it("an unknown id, or another provider's entry, is ERR_INBOX_ENTRY_NOT_FOUND (404)", async () => {
    await withServer(async (server, inbox) => {
      await postDelivery(server.url, signedDelivery({ txn: 'R-3' }));
      const entry = await only(inbox);
      await expect(server.hub.replay(provider, 'nope')).rejects.toMatchObject({
        code: 'ERR_INBOX_ENTRY_NOT_FOUND',
        statusCode: 404,
      });
      const other = { ...createTestProvider(), id: 'other-gateway' };
      await expect(server.hub.replay(other, entry.id)).rejects.toMatchObject({
        code: 'ERR_INBOX_ENTRY_NOT_FOUND',
      });
      expect((await inbox.list()).entries).toHaveLength(1);
    });
  });
});
