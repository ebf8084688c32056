import { DeadlineQueue } from '@payhook/core/plugin';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('DeadlineQueue: every deadline of one timeout on one timer', () => {
  it('fires each deadline once, in order, no sooner than its timeout; a cancelled one never', async () => {
    const queue = new DeadlineQueue(120);
    const fired: Array<[string, number]> = [];
    const start = Date.now();
    const at = (name: string) => () => void fired.push([name, Date.now() - start]);
    queue.add(at('a'));
    await sleep(40);
    const b = queue.add(at('b'));
    await sleep(40);
    queue.add(at('c'));
    b.cancel();
    await sleep(260);
    expect(fired.map(([name]) => name)).toEqual(['a', 'c']);
    expect(fired[0]![1]).toBeGreaterThanOrEqual(118);
    expect(fired[1]![1]).toBeGreaterThanOrEqual(80 + 118);
  });

  it('a deadline cancelled after it fired, or twice, changes nothing; the queue works on after it emptied', async () => {
    const queue = new DeadlineQueue(30);
    let fired = 0;
    const first = queue.add(() => void fired++);
    await sleep(80);
    first.cancel();
    first.cancel();
    expect(fired).toBe(1);
    for (let i = 0; i < 5_000; i++) queue.add(() => void fired++).cancel();
    queue.add(() => void fired++);
    await sleep(80);
    expect(fired).toBe(2);
  });
});
