/**
 * Parsing runs before verification, on bytes anyone can send: it must be linear in the input, and
 * it must refuse strings that are not well-formed Unicode (a lone surrogate re-encodes to the same
 * UTF-8 bytes as U+FFFD, so one signature would verify for several parsed ids).
 */
import { performance } from 'node:perf_hooks';
import { PayloadError } from '../src';
import { assertSafeJson, parseJson, type ParseJsonOptions } from '../src/plugin';

const SIZE = 64 * 1024;
const MODES: Array<NonNullable<ParseJsonOptions['numbers']>> = ['number', 'text', 'json-number'];

/** Bodies of SIZE characters built to make a backtracking or retrying scanner quadratic. */
const PATHOLOGICAL: Record<string, string> = {
  'unterminated escaped quotes': '"' + '\\"'.repeat(SIZE / 2),
  'quotes and backslashes': '"\\'.repeat(SIZE / 2),
  'unterminated string of digits': '"' + '1'.repeat(SIZE - 1),
  'minus signs': '-'.repeat(SIZE),
  'digits with a bad tail': '1'.repeat(SIZE - 1) + 'x',
  'open brackets': '['.repeat(SIZE),
};
const ORDINARY = `{"a":"${'x'.repeat(SIZE - 8)}"}`;

/**
 * Fastest of `runs` parses; a refusal counts like a success (it is work done all the same). The
 * fastest, not the median: on a loaded machine (other test workers) the median of the slow
 * pathological body drifted to 106x once, while a quadratic scan costs thousands of times more.
 */
function timeParse(text: string, numbers: ParseJsonOptions['numbers'], runs = 7): number {
  const times: number[] = [];
  // Three untimed parses first: a cold JIT or a GC in the first runs measured 112x once in CI for a
  // linear 1.1 ms parse (8x an ordinary body when warm).
  for (let r = -3; r < runs; r++) {
    const started = performance.now();
    try {
      parseJson(text, { numbers });
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
    }
    if (r >= 0) times.push(performance.now() - started);
  }
  return Math.min(...times);
}

describe.each(MODES)('parseJson numbers: %s is linear in the input', (numbers) => {
  it.each(Object.entries(PATHOLOGICAL))(
    '%s: within 100x an ordinary body of the same size',
    (_, body) => {
      expect(body.length).toBeGreaterThanOrEqual(SIZE - 1);
      const ordinary = Math.max(timeParse(ORDINARY, numbers), 0.05);
      const hostile = timeParse(body, numbers);
      // A quadratic scan of 64 KiB costs about a second here, thousands of times the ordinary body.
      // V8's own JSON.parse of 64 Ki open brackets is linear but slow: 39x a flat body on this
      // machine (2026-12-01), so the bound leaves room for that and still catches a quadratic.
      expect(hostile / ordinary).toBeLessThan(100);
    },
  );

  it('doubling a pathological body at most about doubles its cost', () => {
    const small = '"' + '\\"'.repeat(SIZE / 4);
    const large = '"' + '\\"'.repeat(SIZE);
    const ratio = timeParse(large, numbers) / Math.max(timeParse(small, numbers), 0.05);
    expect(ratio).toBeLessThan(12);
  });
});

describe.each(MODES)(
  'parseJson numbers: %s refuses strings that are not well-formed',
  (numbers) => {
    it.each([
      ['a lone high surrogate value', '{"id":"A\\ud800"}'],
      ['a lone low surrogate value', '{"id":"\\uDC00B"}'],
      ['a reversed pair', '{"id":"\\udc00\\ud800"}'],
      ['a lone surrogate in a key', '{"\\ud800":"x"}'],
      ['a lone surrogate in an array', '{"ids":["ok","\\udbff"]}'],
      ['a lone surrogate at the top level', '"\\ud800"'],
    ])('%s', (_, body) => {
      expect(() => parseJson(body, { numbers })).toThrow(/lone surrogate/);
      expect(() => parseJson(Buffer.from(body), { numbers })).toThrow(/lone surrogate/);
    });

    it('accepts U+FFFD itself and a proper surrogate pair', () => {
      const parsed = parseJson('{"a":"\\ufffd","b":"\\ud83d\\ude00","c":"\u00e9"}', { numbers });
      expect(parsed).toEqual({ a: '\ufffd', b: '\u{1F600}', c: '\u00e9' });
    });

    it('keeps number text exact after the linear quoting', () => {
      const parsed = parseJson('{"amount":100.10,"ref":"12 34","n":[-0.5e3,7]}', { numbers }) as {
        amount: unknown;
        n: unknown[];
      };
      if (numbers === 'text')
        expect(parsed).toEqual({ amount: '100.10', ref: '12 34', n: ['-0.5e3', '7'] });
      else if (numbers === 'number') expect(parsed.amount).toBe(100.1);
      else expect(String(parsed.amount)).toBe('100.10');
    });
  },
);

it('assertSafeJson refuses a decoded tree (a socket message) holding a lone surrogate', () => {
  expect(() => assertSafeJson({ a: { b: ['x', 'y\ud800'] } })).toThrow(/lone surrogate/);
  expect(() => assertSafeJson({ a: { b: ['x', 'y\ufffd'] } })).not.toThrow();
});
