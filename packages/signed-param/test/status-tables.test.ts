import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATUS_OUTCOMES, type StatusOutcome } from '@payhook/core/plugin';
import { EVENT_RULES, REFUND_STATUS, TRANSACTION_STATUS } from '../src';
import { createHarness, expectRefused, paymentParam, post, refundParam, signed } from './helpers';

/** The README's words for an outcome, in its "event" column. */
function outcomeOf(event: string): StatusOutcome {
  if (event.startsWith('`payment.completed`')) return 'completed';
  if (event.startsWith('`payment.failed`')) return 'failed';
  if (event.startsWith('`payment.refunded`')) return 'refunded';
  if (event.includes('not final')) return 'pending';
  if (event.startsWith('`unhandled`')) return 'not-a-payment';
  throw new Error(`README event not understood: ${event}`);
}

const paymentNames = new Set(
  Object.keys(EVENT_RULES).filter((name) => EVENT_RULES[name]!.family === 'payment'),
);

/**
 * [status, outcome] of the README's "Events emitted" rows, split by table: the rows of a payment
 * event name (or "any payment name above") list transactionStatus words, the `refundStatus` rows of
 * `payment.refund.success` list refundStatus words (an absent refundStatus is not a word).
 */
function readmeStatuses(): { transaction: string[][]; refund: string[][] } {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Events emitted'), readme.indexOf('## Security'));
  const transaction: string[][] = [];
  const refund: string[][] = [];
  for (const line of section.split('\n').filter((l) => l.startsWith('| '))) {
    const [, name, status, event] = line.split('|').map((cell) => cell.trim());
    const words = [...status!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    const payment = paymentNames.has(name!.replace(/`/g, '')) || name === 'any payment name above';
    if (payment) transaction.push(...words.map((w) => [w, outcomeOf(event!)]));
    else if (name === '`payment.refund.success`' && status!.startsWith('`refundStatus`'))
      refund.push(...words.map((w) => [w, outcomeOf(event!)]));
  }
  return { transaction, refund };
}

describe('TRANSACTION_STATUS and REFUND_STATUS, the status tables at the top of normalize.ts', () => {
  const listed = readmeStatuses();

  it('TRANSACTION_STATUS names every transactionStatus the README lists, as it says', () => {
    const unique = [...new Map(listed.transaction.map(([w, o]) => [w, o])).entries()];
    expect(Object.entries(TRANSACTION_STATUS).sort()).toEqual(unique.sort());
  });

  it('REFUND_STATUS names every refundStatus the README lists, as it says', () => {
    expect(Object.entries(REFUND_STATUS).sort()).toEqual(listed.refund.sort());
  });

  it('are exported from the package root with STATUS_OUTCOMES words as values', () => {
    for (const outcome of [...Object.values(TRANSACTION_STATUS), ...Object.values(REFUND_STATUS)])
      expect(STATUS_OUTCOMES).toContain(outcome);
    expect(Object.isFrozen(TRANSACTION_STATUS) && Object.isFrozen(REFUND_STATUS)).toBe(true);
  });

  it('name only outcomes normalize.ts builds for them', () => {
    for (const outcome of Object.values(TRANSACTION_STATUS))
      expect(['completed', 'failed', 'pending']).toContain(outcome);
    for (const outcome of Object.values(REFUND_STATUS))
      expect(['refunded', 'pending', 'not-a-payment']).toContain(outcome);
  });

  it('read a word trimmed and in any case, as before', async () => {
    const h = createHarness();
    const body = signed(paymentParam({ transactionStatus: ' complete ' })).body;
    const res = await post(h, body);
    expect(res.status).toBe(200);
    expect(h.events.map((e) => e.type)).toEqual(['payment.completed']);
  });

  const unknown: Array<[string, Record<string, unknown>, string]> = [
    [
      'transactionStatus EXPIRED',
      paymentParam({ transactionStatus: 'EXPIRED' }),
      'transactionStatus',
    ],
    [
      'transactionStatus toString',
      paymentParam({ transactionStatus: 'toString' }),
      'transactionStatus',
    ],
    ['refundStatus REVERSED', refundParam({ refundStatus: 'REVERSED' }), 'refundStatus'],
    ['refundStatus __proto__', refundParam({ refundStatus: '__proto__' }), 'refundStatus'],
  ];
  it.each(unknown)(
    'an unknown word (%s) is refused with 400, as before',
    async (_what, param, field) => {
      const h = createHarness();
      const res = await expectRefused(h, signed(param).body, 400, 'ERR_PAYLOAD_INVALID');
      expect(res.text).toContain(field);
    },
  );
});
