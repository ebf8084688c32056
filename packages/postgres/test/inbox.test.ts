import { createPaymentHub } from '@payhook/core';
import { reportCounts, signedDelivery } from '@payhook/core/testing';
import { createPostgresInbox, createPostgresStore } from '../src';
import { insertOrders, paidCounts, useTestSchema } from './support/db';
import { deliver, provider } from './support/deliver';

const db = useTestSchema('inbox');

function setUp(maxRefused = 10) {
  const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
  const inbox = createPostgresInbox({ ...db, maxRefused });
  const hub = createPaymentHub({ store, inbox, handlerTimeoutMs: 2_000, leaseMs: 10_000 });
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(`UPDATE "${db.schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`, [
      event.orderId,
    ]);
  });
  return { store, inbox, hub };
}

describe('the PostgreSQL inbox', () => {
  it('records every delivery with its exact bytes, outcome and attempts; replays one', async () => {
    const { inbox, hub } = setUp();
    await insertOrders(db.pool, db.schema, ['I1']);
    const first = await deliver(hub, { txn: 'TI1', order: 'I1' });
    const again = await deliver(hub, { txn: 'TI1', order: 'I1' });
    expect([first.outcome, again.outcome]).toEqual(['processed', 'duplicate']);
    const entry = await inbox.get(first.inboxId!);
    expect(entry).toMatchObject({
      outcome: 'processed',
      provider: 'test-gateway',
      transport: 'http',
    });
    expect(entry!.reply.status).toBe(200);
    expect(entry!.body.toString()).toBe(signedDelivery({ txn: 'TI1', order: 'I1' }).body);
    expect(entry!.events.map((e) => [e.id, e.attempt])).toEqual([['test-gateway:TI1:paid', 1]]);
    const second = await inbox.get(again.inboxId!);
    expect(second!.events[0]!.attempt).toBe(2);
    const replayed = await hub.replay(provider, first.inboxId!);
    expect(replayed.outcome).toBe('duplicate');
    const replays = await inbox.list({ replayOf: first.inboxId! });
    expect(replays.entries.map((e) => e.transport)).toEqual(['replay']);
    const byOrder = await inbox.list({ orderId: 'I1' });
    expect(byOrder.entries).toHaveLength(3);
    expect((await paidCounts(db.pool, db.schema)).get('I1')).toBe(1);
  });

  it('pages newest first with a cursor and filters by outcome', async () => {
    const { inbox, hub } = setUp();
    await insertOrders(db.pool, db.schema, ['P1', 'P2', 'P3']);
    for (const o of ['P1', 'P2', 'P3']) await deliver(hub, { txn: `T${o}`, order: o });
    const page1 = await inbox.list(
      { outcome: 'processed', provider: 'test-gateway' },
      { limit: 2 },
    );
    expect(page1.entries).toHaveLength(2);
    expect(page1.nextCursor).toBeDefined();
    const page2 = await inbox.list(
      { outcome: 'processed' },
      { limit: 2, cursor: page1.nextCursor },
    );
    const ids = [...page1.entries, ...page2.entries].map((e) => e.events[0]!.orderId);
    expect(ids.slice(0, 3)).toEqual(['P3', 'P2', 'P1']);
    await expect(inbox.list({}, { cursor: 'x' })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('refused deliveries are capped at maxRefused: a flood of forgeries keeps the processed entries', async () => {
    const { inbox, hub } = setUp(10);
    const before = await inbox.list({ outcome: 'processed' }, { limit: 500 });
    for (let i = 0; i < 60; i++) {
      const forged = signedDelivery({ txn: `F${i}` }, 'wrong-secret');
      const result = await hub.receive(provider, {
        body: Buffer.from(forged.body),
        headers: forged.headers,
        transport: 'http',
        receivedAt: new Date(),
      });
      expect(result.outcome).toBe('rejected');
    }
    const refused = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".inbox WHERE refused`,
    );
    const after = await inbox.list({ outcome: 'processed' }, { limit: 500 });
    reportCounts(
      'postgres inbox refused cap',
      `forgeries 60, refused kept ${refused.rows[0].n}, processed kept ${after.entries.length}`,
    );
    expect(refused.rows[0].n).toBe(10);
    expect(after.entries.length).toBe(before.entries.length);
  });

  it('update, prune', async () => {
    const { inbox, hub } = setUp();
    await insertOrders(db.pool, db.schema, ['U1']);
    const result = await deliver(hub, { txn: 'TU1', order: 'U1' });
    const updated = await inbox.update(result.inboxId!, { outcome: 'failed' });
    expect(updated!.outcome).toBe('failed');
    expect(await inbox.update('nope', { outcome: 'failed' })).toBeUndefined();
    const far = new Date(Date.now() + 31 * 86_400_000);
    expect(await inbox.prune(far)).toBeGreaterThan(0);
    expect(await inbox.get(result.inboxId!)).toBeUndefined();
  });
});
