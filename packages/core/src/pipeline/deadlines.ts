/** A deadline set by `DeadlineQueue.add`; `cancel` it when the work ended first. */
export interface Deadline {
  cancel(): void;
}

/** A class, so that `cancel` is one shared method rather than a closure per dispatch. */
class Entry implements Deadline {
  constructor(
    readonly at: number,
    public onTimeout: (() => void) | undefined,
  ) {}
  cancel(): void {
    this.onTimeout = undefined;
  }
}

/**
 * The deadlines of one timeout (a hub's handler timeout, a worker's attempt timeout) on one timer,
 * instead of a setTimeout and a clearTimeout per dispatch: with a single timeout, deadlines fall
 * due in the order they were set, so a queue in arrival order is also in deadline order, and the
 * timer only ever waits for the oldest deadline still running. Cancelled deadlines at the head are
 * dropped as new ones arrive, so while dispatches end within their timeout the queue stays a few
 * entries long. (A timer per dispatch was 4.6 % of signed-param's `hub.receive` profile, issue 24.)
 * Times are `performance.now()`'s, monotonic like the timers': a wall clock set back would delay them.
 */
export class DeadlineQueue {
  private items: Array<Entry | undefined> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Calls `onTimeout` once `timeoutMs` has passed, unless cancelled before. */
  add(onTimeout: () => void): Deadline {
    const entry = new Entry(performance.now() + this.timeoutMs, onTimeout);
    this.dropCancelled();
    this.items.push(entry);
    if (this.timer === undefined) this.arm(this.timeoutMs);
    return entry;
  }

  private dropCancelled(): void {
    const { items } = this;
    while (this.head < items.length && items[this.head]!.onTimeout === undefined)
      items[this.head++] = undefined;
    if (this.head === items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, ms));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (;;) {
      this.dropCancelled();
      const entry = this.items[this.head];
      if (entry === undefined) return;
      if (entry.at > now) return this.arm(entry.at - now);
      this.items[this.head++] = undefined;
      const onTimeout = entry.onTimeout!;
      entry.onTimeout = undefined;
      onTimeout();
    }
  }
}
