import { createMemoryStore } from '../src';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('memory store', () => {
  it('claims once, reports busy while held, done after commit', async () => {
    const store = createMemoryStore();
    const first = await store.claim('k', 1_000);
    expect(first.state).toBe('claimed');
    expect((await store.claim('k', 1_000)).state).toBe('busy');
    await store.commit('k', (first as { token: string }).token, 60_000);
    expect((await store.claim('k', 1_000)).state).toBe('done');
  });

  it('release frees the key for the next delivery', async () => {
    const store = createMemoryStore();
    const claim = (await store.claim('k', 1_000)) as { token: string };
    await store.release('k', claim.token);
    expect((await store.claim('k', 1_000)).state).toBe('claimed');
  });

  it('a lease that expired can be taken over, and the late holder can neither commit nor release', async () => {
    const store = createMemoryStore();
    const late = (await store.claim('k', 30)) as { token: string };
    await sleep(60);
    const current = (await store.claim('k', 5_000)) as { state: string; token: string };
    expect(current.state).toBe('claimed');
    await store.release('k', late.token);
    await store.commit('k', late.token, 60_000);
    expect((await store.claim('k', 1_000)).state).toBe('busy');
    await store.commit('k', current.token, 60_000);
    expect((await store.claim('k', 1_000)).state).toBe('done');
  });

  it('a commit after the lease expired still records done when nobody else took the key', async () => {
    const store = createMemoryStore();
    const claim = (await store.claim('k', 20)) as { token: string };
    await sleep(50);
    await store.commit('k', claim.token, 60_000);
    expect((await store.claim('k', 1_000)).state).toBe('done');
  });

  it('markDone records done in one write, and a probe claim holder cannot undo it', async () => {
    const store = createMemoryStore();
    const probe = (await store.claim('m', 1_000)) as { token: string };
    await store.markDone!('m', 60_000);
    await store.release('m', probe.token);
    expect((await store.claim('m', 1_000)).state).toBe('done');
  });

  it('forgets done keys after their retention', async () => {
    const store = createMemoryStore();
    const claim = (await store.claim('k', 1_000)) as { token: string };
    await store.commit('k', claim.token, 30);
    await sleep(60);
    expect((await store.claim('k', 1_000)).state).toBe('claimed');
  });

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
