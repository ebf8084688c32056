import express from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  createWebhookMiddleware,
  PaymentError,
  type Inbox,
  type InboxEntry,
  type PaymentHub,
} from '@payhook/core';
import { signedDelivery, type TestPayload } from '@payhook/core/testing';
import { createPostgresStore } from '../src';
import { useTestSchema } from './support/db';
import { hubOn, paidDraft, withStatusQuery, type HubKind } from './support/gateways';

// Hostile review: reconcile and replay entries, and secret headers, on memory and PostgreSQL.

const db = useTestSchema('review_paths');

const SECRET = 'SEKRIT-9f8e7d';
let answer: () => unknown = () => null;
const gateway = withStatusQuery(async () => answer() as never, {
  secretHeaders: ['X-Shop-Secret'],
  maxAgeMs: 60_000,
});
const hubOf = (kind: HubKind) => hubOn(kind, db.pool, db.schema);
const draft = paidDraft;

async function allEntries(inbox: Inbox): Promise<InboxEntry[]> {
  return (await inbox.list({}, { limit: 500 })).entries;
}

describe.each<HubKind>(['memory', 'postgres'])('reconcile on %s', (kind) => {
  it('each answer recorded once with the right outcome', async () => {
    const { hub, inbox } = hubOf(kind);
    hub.on('error', () => undefined);
    hub.on('payment.completed', () => undefined);
    const before = (await allEntries(inbox)).length;
    const cases: Array<[string, () => unknown, string, number]> = [
      [
        'T-R5xx',
        () => {
          throw new PaymentError('status API down', { code: 'ERR_GATEWAY_API' });
        },
        'failed',
        0,
      ],
      [
        'T-R4xx',
        () => {
          throw new PaymentError('no such merchant', { code: 'ERR_STATUS_MISMATCH' });
        },
        'rejected',
        409,
      ],
      [
        'T-Rbug',
        () => {
          throw new TypeError('undefined is not a function');
        },
        'failed',
        503,
      ],
      ['T-Rnull', () => null, 'unhandled', 200],
      ['T-Rstale', () => draft('T-Rstale', '2020-01-01T00:00:00Z'), 'rejected', 0],
      ['T-Rok', () => draft(`T-Rok-${kind}`), 'processed', 200],
      ['T-Rok', () => draft(`T-Rok-${kind}`), 'duplicate', 200],
    ];
    for (const [ref, fn, outcome, status] of cases) {
      answer = fn;
      const result = await hub.reconcile(gateway, ref);
      expect([ref, result.outcome]).toEqual([ref, outcome]);
      const entry = await inbox.get(result.inboxId!);
      expect(entry?.transport).toBe('status-query');
      expect(entry?.message).toEqual({ reference: ref });
      expect(entry?.outcome).toBe(outcome);
      expect(entry?.reply).toEqual(result.reply);
      if (status) expect(entry?.reply.status ?? 200).toBe(status);
    }
    expect((await allEntries(inbox)).length - before).toBe(cases.length);
  });

  it('inbox: false records nothing and does not crash', async () => {
    const hub = createPaymentHub({
      handlerTimeoutMs: 3_000,
      leaseMs: 10_000,
      inbox: false,
      ...(kind === 'postgres' ? { store: createPostgresStore(db) } : {}),
    }) as unknown as PaymentHub;
    hub.on('error', () => undefined);
    hub.on('payment.completed', () => undefined);
    answer = () => {
      throw new Error('down');
    };
    expect((await hub.reconcile(gateway, 'x')).inboxId).toBeUndefined();
    answer = () => draft(`T-NOINBOX-${kind}`);
    const r = await hub.reconcile(gateway, 'y');
    expect([r.outcome, r.inboxId]).toEqual(['processed', undefined]);
  });
});

describe.each<HubKind>(['memory', 'postgres'])('replay past maxAge on %s', (kind) => {
  it('allowOlderThanMaxAge: processed, entry dated at the replay, sane durationMs; refusal recorded too', async () => {
    const { hub, inbox } = hubOf(kind);
    hub.on('payment.completed', () => undefined);
    hub.on('error', () => undefined);
    const fixture = signedDelivery({ txn: `T-OLD-${kind}`, order: 'O' });
    const old = new Date(Date.now() - 10 * 60_000);
    // The first receipt: no listener for refunds... use a failing first run instead.
    let fail = true;
    hub.on('payment.completed', () => {
      if (fail) throw new Error('first fails');
    });
    const first = await hub.receive(gateway, {
      body: Buffer.from(fixture.body),
      headers: { ...fixture.headers, 'x-shop-secret': SECRET },
      transport: 'http',
      receivedAt: old,
    });
    expect(first.outcome).toBe('failed');
    fail = false;
    const t0 = Date.now();
    const refusedReplay = await hub.replay(gateway, first.inboxId!);
    expect(refusedReplay.outcome).toBe('rejected');
    const refusedEntry = await inbox.get(refusedReplay.inboxId!);
    expect(refusedEntry?.replayOf).toBe(first.inboxId);
    expect(refusedEntry?.receivedAt.getTime()).toBeGreaterThanOrEqual(t0 - 5);
    const allowed = await hub.replay(gateway, first.inboxId!, { allowOlderThanMaxAge: true });
    expect(allowed.outcome).toBe('processed');
    const entry = await inbox.get(allowed.inboxId!);
    expect(entry?.outcome).toBe('processed');
    expect(entry?.replayOf).toBe(first.inboxId);
    expect(entry?.receivedAt.getTime()).toBeGreaterThanOrEqual(t0 - 5);
    expect(entry?.durationMs).toBeGreaterThanOrEqual(0);
    expect(entry?.durationMs).toBeLessThan(5_000);
    // A replay of the allowed replay is still measured from the first receipt: refused.
    const chained = await hub.replay(gateway, allowed.inboxId!);
    expect(chained.outcome).toBe('rejected');
  });
});

describe.each<HubKind>(['memory', 'postgres'])(
  'secret headers never reach the %s inbox',
  (kind) => {
    it('receive (processed, failed, refused), replay, reconcile, adapter 413/415', async () => {
      const { hub, inbox } = hubOf(kind);
      hub.on('error', () => undefined);
      let fail = false;
      hub.on('payment.completed', () => {
        if (fail) throw new Error('x');
      });
      const headers = (sig: Record<string, string>) => ({
        ...sig,
        'x-shop-secret': SECRET,
        'content-type': 'application/json',
      });
      const recv = (payload: Partial<TestPayload>, sig = true) => {
        const f = signedDelivery(payload);
        return hub.receive(gateway, {
          body: Buffer.from(f.body),
          headers: headers(sig ? f.headers : { 'x-test-signature': 'bad' }),
          transport: 'http',
          receivedAt: new Date(),
        });
      };
      const processed = await recv({ txn: `T-S1-${kind}`, order: 'O' }); // in-tx entry on PG
      fail = true;
      const failed = await recv({ txn: `T-S2-${kind}`, order: 'O' });
      fail = false;
      await recv({ txn: `T-S3-${kind}`, order: 'O' }, false); // refused: bad signature
      await hub.replay(gateway, failed.inboxId!); // replayed, processed in-tx on PG
      answer = () => draft(`T-S4-${kind}`);
      await hub.reconcile(gateway, 'T-S4');
      expect(processed.outcome).toBe('processed');
      // The adapter's refusals.
      const app = express();
      app.post('/hook', createWebhookMiddleware(hub, gateway, { limit: 64 }));
      await request(app)
        .post('/hook')
        .set('content-type', 'text/plain')
        .set('x-shop-secret', SECRET)
        .send('hi')
        .expect(415);
      await request(app)
        .post('/hook')
        .set('content-type', 'application/json')
        .set('x-shop-secret', SECRET)
        .send(JSON.stringify({ pad: 'x'.repeat(200) }))
        .expect(413);
      await request(app)
        .post('/hook')
        .set('content-type', 'application/json')
        .set('X-Shop-Secret', SECRET)
        .set('authorization', `Bearer ${SECRET}`)
        .send('{}')
        .expect(401);
      // The adapter records without awaiting: let it land.
      await new Promise((r) => setTimeout(r, 200));
      const entries = await allEntries(inbox);
      expect(entries.length).toBeGreaterThanOrEqual(8);
      const leaked = entries.filter((e) => JSON.stringify(e.headers).includes(SECRET));
      expect(leaked.map((e) => [e.transport, e.outcome])).toEqual([]);
      if (kind === 'postgres') {
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n FROM "${db.schema}".inbox WHERE headers::text LIKE $1 OR message::text LIKE $1 OR convert_from(body, 'UTF8') LIKE $1`,
          [`%${SECRET}%`],
        );
        expect(rows[0].n).toBe(0);
      }
    });
  },
);
