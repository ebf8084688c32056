import { readFileSync } from 'node:fs';
import path from 'node:path';

// docs/writing-a-provider.md shows this example's code: every block must be in it verbatim.
describe('docs/writing-a-provider.md', () => {
  const root = path.join(__dirname, '..', '..', '..');
  const doc = readFileSync(path.join(root, 'docs', 'writing-a-provider.md'), 'utf8');
  const sources = [
    'src/schema.ts',
    'src/verify.ts',
    'src/normalize.ts',
    'src/options.ts',
    'src/provider.ts',
    'src/signing.ts',
    'test/fixtures.ts',
    'test/conformance.node-test.ts',
    'test/conformance.vitest.ts',
    'src/acme-confirmed.ts',
    'src/nusa/verify.ts',
    'src/nusa/confirm.ts',
    'src/nusa/options.ts',
    'src/nusa/provider.ts',
    'src/nusa/status-query.ts',
    'src/nusa/normalize.ts',
    'test/nusa.test.ts',
    'test/nusa-modes.test.ts',
    'test/nusa-reversals.test.ts',
  ].map((f) => readFileSync(path.join(__dirname, '..', f), 'utf8'));
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has the schema, verify, normalize, options, provider, signer, conformance (fixtures, node:test, vitest), confirmed-provider, reconcile, partly-signed (verify, confirm, reported status, tamper), status-time, test-and-live (options, their checks, provider, status API, test) and reversal (status table, void or failure, ids, test) blocks', () => {
    expect(blocks).toHaveLength(25);
  });

  it.each(blocks.map((b, i) => [i + 1, b]))(
    'block %i is code of examples/custom-provider',
    (_i, block) => {
      expect(sources.some((s) => s.includes(block as string))).toBe(true);
    },
  );
});
