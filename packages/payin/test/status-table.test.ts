import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusOutcome } from '@payhook/core/plugin';
import { ORDER_STATUS } from '../src/normalize';
import { createHarness, payinWebhook, post } from './fixtures';

/** [orderStatus, outcome, notes] of every status row of the README's "Events emitted" table. */
function readmeRows(): Array<[string, StatusOutcome, string]> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Events emitted'), readme.indexOf('Sources:'));
  return (
    section
      .split('\n')
      // Status rows: the header's first cell (`orderStatus`) names the field, not a status.
      .filter((line) => line.startsWith('| `') && !line.startsWith('| `orderStatus`'))
      .flatMap((line) => {
        const [, statuses, event, notes] = line.split('|').map((cell) => cell.trim());
        const outcome: StatusOutcome =
          event === '`payment.completed`'
            ? 'completed'
            : event === '`payment.failed`'
              ? 'failed'
              : notes!.startsWith('not final')
                ? 'pending'
                : 'not-a-payment';
        return statuses!
          .split(',')
          .map((s): [string, StatusOutcome, string] => [
            s.trim().replace(/`/g, ''),
            outcome,
            notes!,
          ]);
      })
  );
}

describe('ORDER_STATUS, the status table at the top of normalize.ts', () => {
  const rows = readmeRows();

  it('names every orderStatus the README lists, with the outcome it lists', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(Object.entries(ORDER_STATUS).sort()).toEqual(
      rows.map(([status, outcome]) => [status, outcome]).sort(),
    );
  });

  it('names only completed, failed and pending words (what normalizeOrder builds)', () => {
    for (const outcome of Object.values(ORDER_STATUS))
      expect(['completed', 'failed', 'pending']).toContain(outcome);
  });

  it.each(rows)('%s becomes what the README says (%s)', async (status, outcome, notes) => {
    const h = createHarness();
    const paid = outcome === 'completed';
    const res = await post(
      h,
      payinWebhook(
        paid ? { orderStatus: status } : { orderStatus: status, fee: null, completionTime: null },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('SUCCESS');
    expect(h.unhandled).toHaveLength(0);
    if (outcome === 'pending') return expect(h.events).toHaveLength(0);
    expect(h.events.map((e) => e.type)).toEqual([`payment.${outcome}`]);
    // The README's notes name each failure's message: `failure: { code: 'FAIL', message: '…' }`.
    if (outcome === 'failed')
      expect(notes).toContain(
        `failure: { code: '${status}', message: '${h.events[0]!.failure!.message}' }`,
      );
  });

  it.each(['REFUNDED', 'hasOwnProperty', 'success'])(
    'an unknown word (%s) is acknowledged and emitted on unhandled, as before',
    async (status) => {
      const h = createHarness();
      const res = await post(h, payinWebhook({ orderStatus: status }));
      expect(res.status).toBe(200);
      expect(res.text).toBe('SUCCESS');
      expect(h.events).toHaveLength(0);
      expect(h.unhandled.map((u) => u.reason)).toEqual([`unknown orderStatus "${status}"`]);
      expect(h.errors).toHaveLength(0);
    },
  );
});
