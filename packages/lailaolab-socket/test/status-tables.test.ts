import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { createPaymentHub, type UnhandledDelivery } from '@payhook/core';
import type { PaymentEventDraft, StatusOutcome } from '@payhook/core/plugin';
import { createCountingStore } from '@payhook/core/testing';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { createLailaolabMiddleware } from '../src';
import { MESSAGE_STATUS, normalizeStatus, RECORD_STATUS } from '../src/normalize';
import type { LailaolabStatusData } from '../src/schema';
import { record, SECRET } from './helpers';

/** The README's words for an outcome, in the "event" column of "Events emitted". */
function outcomeOf(event: string): StatusOutcome {
  if (event.includes('`payment.refunded`')) return 'refunded';
  if (event.startsWith('`payment.completed`')) return 'completed';
  if (event.startsWith('`payment.failed`')) return 'failed';
  if (event.startsWith('none (pending)')) return 'pending';
  if (event.includes('`unhandled`')) return 'not-a-payment';
  throw new Error(`README event not understood: ${event}`);
}

/**
 * [word, outcome] of the README's "Events emitted" rows: the status API's words (`status API
 * \`X\``, `(or \`Y\`)`) and the message's (`message: X`).
 */
function readmeWords(): { record: string[][]; message: string[][] } {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Events emitted'), readme.indexOf('In code,'));
  const found = { record: [] as string[][], message: [] as string[][] };
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| message /'));
  for (const line of rows) {
    const [, said, event] = line.split('|').map((cell) => cell.trim());
    const outcome = outcomeOf(event!);
    if (said!.includes('status API'))
      for (const [, word] of said!.slice(said!.indexOf('status API')).matchAll(/`([A-Z_]+)`/g))
        found.record.push([word!, outcome]);
    for (const [, word] of said!.matchAll(/`message: ([A-Z_]+)`/g))
      found.message.push([word!, outcome]);
  }
  return found;
}

const data = (status: string, extra: Partial<LailaolabStatusData> = {}): LailaolabStatusData => ({
  transactionId: 'TX-1',
  status,
  isPaid: status === 'PAYMENT_COMPLETED' || status === 'REFUNDED',
  amount: '1000',
  ...extra,
});
const answer = (d: LailaolabStatusData) =>
  normalizeStatus(
    { message: 'SUCCESSFULLY', data: d },
    { timeZone: 'Asia/Vientiane', currency: 'LAK', receivedAt: new Date() },
  );

describe('RECORD_STATUS and MESSAGE_STATUS, the status tables at the top of normalize.ts', () => {
  const listed = readmeWords();

  it('RECORD_STATUS names every status API status the README lists, as it says', () => {
    expect(Object.entries(RECORD_STATUS).sort()).toEqual(listed.record.sort());
  });

  it('MESSAGE_STATUS names every message word the README lists, as it says', () => {
    expect(Object.entries(MESSAGE_STATUS).sort()).toEqual(listed.message.sort());
  });

  it.each(Object.entries(RECORD_STATUS))(
    'a status answer %s becomes what the table says (%s)',
    (status, outcome) => {
      const result = answer(data(status));
      const types = Array.isArray(result)
        ? result.map((d) => d.type)
        : (result as { kind: string }).kind;
      expect(types).toEqual(
        {
          completed: ['payment.completed'],
          failed: ['payment.failed'],
          refunded: ['payment.completed', 'payment.refunded'],
          pending: 'pending',
          'not-a-payment': 'not-a-payment-event',
        }[outcome as string],
      );
    },
  );

  it('REFUNDED is a refund of the whole payment: kind refund, keyed :refunded as before', () => {
    const [, refunded] = answer(data('REFUNDED')) as ReadonlyArray<PaymentEventDraft>;
    expect(refunded).toMatchObject({
      id: 'TX-1:refunded',
      refund: { refundId: 'TX-1', amount: '1000', kind: 'refund' },
    });
  });

  it('DISPUTED claims no chargeback: not a payment event, with a reason that says why', () => {
    expect(answer(data('DISPUTED'))).toEqual({
      kind: 'not-a-payment-event',
      reason: expect.stringMatching(
        /^status DISPUTED: a dispute .* no refund or chargeback is claimed/,
      ),
    });
  });

  it.each(['CLOSED', 'toString', '__proto__'])(
    'an unknown word (%s) is not a payment event, as before',
    (status) => {
      expect(answer(data(status))).toEqual({
        kind: 'not-a-payment-event',
        reason: `status ${status}`,
      });
    },
  );

  it('isPaid contradicting the word is not a payment event, as before', () => {
    expect(answer(data('PAYMENT_COMPLETED', { isPaid: false }))).toEqual({
      kind: 'not-a-payment-event',
      reason: 'status PAYMENT_COMPLETED',
    });
    expect(answer(data('EXPIRED', { isPaid: true }))).toEqual({
      kind: 'not-a-payment-event',
      reason: 'status EXPIRED',
    });
  });
});

describe('a DISPUTED record reaches unhandled, verified', () => {
  let sim: LailaolabSimulator;
  beforeAll(async () => {
    sim = await startLailaolabSimulator({ secretKey: SECRET });
  });
  afterAll(() => sim.close());

  function webhookApp() {
    const store = createCountingStore();
    const hub = createPaymentHub({ handlerTimeoutMs: 2_000, leaseMs: 5_000, store });
    const rec = record(hub);
    const middleware = createLailaolabMiddleware(hub, {
      secretKey: SECRET,
      statusQuery: { baseUrl: sim.apiBase },
    });
    const app = express();
    app.use('/lailaolab', middleware);
    return { app, hub, rec, store, provider: middleware.provider };
  }

  it('a FAILED webhook whose record is DISPUTED: 200, no event, unhandled with the reason', async () => {
    const { app, rec, store } = webhookApp();
    sim.createTransaction({ transactionId: 'DISPUTE-W', amount: 4000 });
    const message = sim.fail('DISPUTE-W', { emit: false, recordStatus: 'DISPUTED' });
    const res = await request(app)
      .post('/lailaolab')
      .set('content-type', 'application/json')
      .send(JSON.stringify(message));
    expect([res.status, res.text]).toEqual([200, 'OK']);
    expect(rec.events).toEqual([]);
    expect(rec.errors).toEqual([]);
    expect(store.calls.claim).toBe(0);
    const [notice] = rec.unhandled as UnhandledDelivery[];
    expect(notice).toMatchObject({ provider: 'lailaolab', verified: true });
    expect(notice!.reason).toMatch(/status API DISPUTED: a dispute .* no refund or chargeback/);
  });

  it('a status answer DISPUTED (hub.reconcile, as the sweep): unhandled, verified', async () => {
    const { hub, rec, provider } = webhookApp();
    sim.createTransaction({ transactionId: 'DISPUTE-R', amount: 4000 });
    sim.fail('DISPUTE-R', { emit: false, recordStatus: 'DISPUTED' });
    const result = await hub.reconcile(provider, 'DISPUTE-R');
    expect(result).toMatchObject({ outcome: 'unhandled', events: [] });
    expect(rec.unhandled).toEqual([
      expect.objectContaining({
        verified: true,
        reason: expect.stringMatching(/^status DISPUTED: a dispute/),
      }),
    ]);
  });
});
