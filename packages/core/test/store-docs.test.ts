import { readFileSync } from 'node:fs';
import path from 'node:path';

// docs/writing-a-store.md shows code the tests run: every block must be in one of these verbatim.
describe('docs/writing-a-store.md', () => {
  const root = path.join(__dirname, '..', '..', '..');
  const doc = readFileSync(path.join(root, 'docs', 'writing-a-store.md'), 'utf8');
  const sources = [
    'packages/core/test/store-example.test.ts',
    'packages/redis-store/test/store.test.ts',
    'packages/postgres/test/store.test.ts',
  ].map((f) => readFileSync(path.join(root, f), 'utf8'));
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has the map store, its kit run, and the Redis and PostgreSQL kit runs', () => {
    expect(blocks).toHaveLength(4);
  });

  it.each(blocks.map((b, i) => [i + 1, b]))('block %i is code the tests run', (_i, block) => {
    expect(sources.some((s) => s.includes(block as string))).toBe(true);
  });
});
