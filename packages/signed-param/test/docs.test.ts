import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTRIES, EVENT_RULES, REFUND_STATUS, TRANSACTION_STATUS } from '../src';

// The README and docs/events/signed-param.md show the mapping tables of src/tables.ts and the
// status tables of src/normalize.ts: a row added there and forgotten here fails this test.
const files = {
  README: readFileSync(join(__dirname, '..', 'README.md'), 'utf8'),
  'docs/events/signed-param.md': readFileSync(
    join(__dirname, '..', '..', '..', 'docs', 'events', 'signed-param.md'),
    'utf8',
  ),
};

describe.each(Object.entries(files))('%s', (_name, text) => {
  const rows = text.split('\n').filter((line) => line.startsWith('|'));

  it.each(Object.keys(EVENT_RULES))('has a table row for eventName %s', (eventName) => {
    expect(rows.some((row) => row.startsWith(`| \`${eventName}\` |`))).toBe(true);
  });

  it('names every transaction and refund status', () => {
    for (const status of [...Object.keys(TRANSACTION_STATUS), ...Object.keys(REFUND_STATUS)]) {
      expect(rows.some((row) => row.includes(`\`${status}\``))).toBe(true);
    }
  });

  it('lists every country with its currency and default zone', () => {
    for (const [code, facts] of Object.entries(COUNTRIES)) {
      expect(
        rows.some(
          (row) =>
            row.startsWith(`| ${code} | ${facts.currency} |`) && row.includes(facts.timeZone),
        ),
      ).toBe(true);
    }
  });
});
