import type { DeadlineQueue } from '../pipeline/deadlines';

/** Sets a deadline: a timer of its own, or one on a shared DeadlineQueue. */
type Arm = (onTimeout: () => void) => { cancel(): void };

/**
 * `work`, or what `late()` gives (a value, or a thrown error) if it has not settled by the
 * deadline. The work goes on in the background: its result, if it ever comes, is what the list or
 * the claim path makes of it. The deadline is cancelled as soon as either side settles.
 */
function race<T>(work: Promise<T>, arm: Arm, late: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = arm(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    });
    work.then(
      (value) => {
        deadline.cancel();
        resolve(value);
      },
      (error: unknown) => {
        deadline.cancel();
        reject(error);
      },
    );
  });
}

/** Bounded by `ms`, on a timer of its own (a bound no queue of the hub's shares). */
export function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  return race(
    work,
    (onTimeout) => {
      const timer = setTimeout(onTimeout, ms);
      return { cancel: () => clearTimeout(timer) };
    },
    late,
  );
}

/**
 * Bounded by the hub's handler timeout, on the hub's DeadlineQueue: one timer for all, not a
 * setTimeout per delivery (the settle of an awaited payment runs on the webhook path).
 */
export function withinHandlerTimeout<T>(
  deadlines: DeadlineQueue,
  work: Promise<T>,
  late: () => T,
): Promise<T> {
  return race(work, (onTimeout) => deadlines.add(onTimeout), late);
}
