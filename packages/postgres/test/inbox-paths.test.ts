import {
  createPaymentHub,
  type Inbox,
  type InboxEntry,
  type PaymentHub,
  type ReceiveResult,
} from '@payhook/core';
import { reportCounts } from '@payhook/core/testing';
import { createPostgresInbox, createPostgresStore } from '../src';
import { useTestSchema } from './support/db';
import { paidDraft, withStatusQuery } from './support/gateways';
import { deliver } from './support/deliver';

// Issue 24: every path (receive, reconcile, replay) records the same inbox entry, on every store:
// one entry per call, with its final outcome and reply (no provisional entry left behind by a
// transactional store), whatever the store.

const db = useTestSchema('inbox_paths');

/** The test gateway with a status query: it knows T-REC (paid) and nothing else. */
const gateway = withStatusQuery(async (reference) =>
  reference === 'T-REC' ? paidDraft('T-REC') : null,
);

/** What an entry says, without what differs from run to run (ids, times). */
function shape(entry: InboxEntry | undefined): unknown {
  if (!entry) return undefined;
  return {
    provider: entry.provider,
    transport: entry.transport,
    outcome: entry.outcome,
    reply: entry.reply,
    events: entry.events.map((e) => ({ ...e, id: e.id })),
    error: entry.error?.code,
    message: entry.message,
    replays: entry.replayOf !== undefined,
    body: entry.body.toString('utf8').slice(0, 12),
  };
}

/** The same story on one hub: each call's result and the entry its inboxId names. */
async function story(hub: PaymentHub, inbox: Inbox): Promise<unknown[]> {
  let failNext = true;
  hub.on('payment.completed', async () => {
    if (!failNext) return;
    failNext = false;
    throw new Error('the order table is locked');
  });
  const calls: Array<() => Promise<ReceiveResult>> = [
    () => deliver(hub, { txn: 'T-WEB', order: 'O-WEB' }), // failed: the listener throws
    () => hub.replay(gateway, firstId), // processed on replay
    () => deliver(hub, { txn: 'T-WEB', order: 'O-WEB' }), // duplicate
    () => hub.reconcile(gateway, 'T-REC'), // processed from the status query
    () => hub.reconcile(gateway, 'T-REC'), // duplicate
    () => hub.reconcile(gateway, 'T-NONE'), // unhandled: the gateway knows no such payment
    () => deliver(hub, { txn: 'T-BAD', order: 'O-BAD', status: 'WRONG' as 'PAID' }), // rejected
  ];
  let firstId = '';
  const seen: unknown[] = [];
  for (const call of calls) {
    const result = await call();
    firstId ||= result.inboxId!;
    expect(result.inboxId).toEqual(expect.any(String));
    const entry = await inbox.get(result.inboxId!);
    // The entry says what the gateway was told.
    expect(entry?.outcome).toBe(result.outcome);
    expect(entry?.reply).toEqual(result.reply);
    seen.push(shape(entry));
  }
  const all = await inbox.list({}, { limit: 100 });
  expect(all.entries).toHaveLength(calls.length);
  return seen;
}

describe('one inbox entry per call, the same on every store', () => {
  it('receive, replay and reconcile record the same entries on the memory and the PostgreSQL stores', async () => {
    const memoryHub = createPaymentHub({ handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    const onMemory = await story(memoryHub, memoryHub.inbox!);

    const store = createPostgresStore(db);
    const inbox = createPostgresInbox(db);
    const pgHub = createPaymentHub({ store, inbox, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
    const onPostgres = await story(pgHub as unknown as PaymentHub, inbox);

    expect(onPostgres).toEqual(onMemory);
    const outcomes = (onMemory as Array<{ outcome: string }>).map((e) => e.outcome);
    expect(outcomes).toEqual([
      'failed',
      'processed',
      'duplicate',
      'processed',
      'duplicate',
      'unhandled',
      'rejected',
    ]);
    // No provisional entry: every row's reply is the one a call returned (checked above), and
    // none has the empty body of an entry written in a transaction and never finished.
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".inbox`);
    expect(rows[0].n).toBe(7);
    reportCounts('inbox paths', 'entries per store', rows[0].n, 'outcomes', outcomes.join(' '));
  });
});
