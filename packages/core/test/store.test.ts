import { createMemoryStore } from '../src';
import { runStoreConformance } from '../src/testing';

// The contract (claim, commit, release, renew, markDone, leases, retention, races): the kit.
runStoreConformance({
  name: 'memory store',
  create: () => createMemoryStore(),
  without: ['close'],
});

// What only the memory store has: its count bound.
describe('memory store', () => {
  it('holds its count bound and says when a done marker is evicted early', async () => {
    const evicted: string[] = [];
    const store = createMemoryStore({ max: 3, onEvict: (k) => evicted.push(k) });
    for (const key of ['a', 'b', 'c', 'd']) {
      const c = (await store.claim(key, 1_000)) as { token: string };
      await store.commit(key, c.token, 60_000);
    }
    expect(evicted).toEqual(['a']);
    expect((await store.claim('a', 1_000)).state).toBe('claimed');
    expect((await store.claim('d', 1_000)).state).toBe('done');
  });

  it('refuses a bad bound at construction', () => {
    expect(() => createMemoryStore({ max: 0 })).toThrow(/option "max"/);
  });
});
