import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonNumber, type StatusOutcome, type StatusTable } from '@payhook/core/plugin';
import { signV1Callback, signV2Callback } from '../src/signing';
import {
  V1_PAYMENT_STATUS,
  V1_REFUND_STATUS,
  V2_PAY_STATUS,
  V2_REFUND_STATUS,
} from '../src/normalize';
import {
  ACK_OK,
  harness,
  keys,
  V2_ENVELOPE_TIME,
  v1Payment,
  v1Refund,
  v2Payment,
  v2Refund,
} from './helpers';

const platform = keys.platform.privateKey;

/** The callback column of the README's "Events emitted" table → the status table of normalize.ts. */
const TABLES: Record<string, StatusTable> = {
  'v1 payment': V1_PAYMENT_STATUS,
  'v1 refund': V1_REFUND_STATUS,
  'v2 payment': V2_PAY_STATUS,
  'v2 refund': V2_REFUND_STATUS,
};

/** The README's words for each outcome, in its "Result" column. */
function outcomeOf(result: string): StatusOutcome {
  if (result.startsWith('`payment.completed`')) return 'completed';
  if (result.startsWith('`payment.failed`')) return 'failed';
  if (result.startsWith('`payment.refunded`')) return 'refunded';
  if (result.includes('not final')) return 'pending';
  if (result.includes('`unhandled`')) return 'not-a-payment';
  throw new Error(`README result not understood: ${result}`);
}

/** [callback, status, outcome] of every row of the README's "Events emitted" table. */
function readmeRows(): Array<[string, string, StatusOutcome]> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Events emitted'), readme.indexOf('## Errors'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| v'))
    .map((line) => {
      const [, callback, , value, result] = line.split('|').map((cell) => cell.trim());
      return [callback!, value!.replace(/`/g, ''), outcomeOf(result!)];
    });
}

describe('the status tables at the top of normalize.ts', () => {
  const rows = readmeRows();

  it.each(Object.keys(TABLES))(
    '%s: names every status the README lists, as it says',
    (callback) => {
      const listed = rows
        .filter(([c]) => c === callback)
        .map(([, status, outcome]) => [status, outcome]);
      expect(listed.length).toBeGreaterThan(0);
      expect(Object.entries(TABLES[callback]!).sort()).toEqual(listed.sort());
    },
  );

  it('name only outcomes normalize.ts builds for that callback', () => {
    // A payment callback carries no refund number and a refund callback no payment outcome: a
    // word with another outcome needs code in normalize.ts before it goes in a table.
    for (const table of [V1_PAYMENT_STATUS, V2_PAY_STATUS])
      for (const outcome of Object.values(table))
        expect(['completed', 'failed', 'pending']).toContain(outcome);
    for (const table of [V1_REFUND_STATUS, V2_REFUND_STATUS])
      for (const outcome of Object.values(table))
        expect(['refunded', 'not-a-payment', 'pending']).toContain(outcome);
  });

  const deliverV2 = (data: Parameters<typeof signV2Callback>[0]): string =>
    signV2Callback(data, platform, { timestamp: V2_ENVELOPE_TIME }).body;
  const unknown: Array<[string, string, RegExp]> = [
    [
      'v1 payment transStatus 2',
      signV1Callback(v1Payment({ transStatus: jsonNumber('2') }), platform).body,
      /unknown transStatus 2/,
    ],
    [
      'v1 refund tranStatus 7',
      signV1Callback(v1Refund('1', 'tranStatus', { tranStatus: jsonNumber('7') }), platform).body,
      /unknown status 7/,
    ],
    [
      'v2 payStatus toString (a prototype member is no status)',
      deliverV2(v2Payment({ payStatus: 'toString' })),
      /unknown payStatus toString/,
    ],
    [
      'v2 refundStatus CLOSED',
      deliverV2(v2Refund({ refundStatus: 'CLOSED' })),
      /unknown refundStatus CLOSED/,
    ],
  ];
  it.each(unknown)(
    'an unknown word (%s) is acknowledged and unhandled, as before',
    async (_what, body, reason) => {
      const h = harness();
      const reply = await h.post(body);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe(ACK_OK);
      expect(h.events).toEqual([]);
      expect(h.unhandled).toHaveLength(1);
      expect(h.unhandled[0]!.reason).toMatch(reason);
      expect(h.errors).toEqual([]);
    },
  );
});
