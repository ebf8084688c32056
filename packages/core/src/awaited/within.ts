/**
 * `work`, or what `late()` gives (a value, or a thrown error) if it has not settled within `ms`.
 * The work goes on in the background: its result, if it ever comes, is what the list or the claim
 * path makes of it. One timer, cleared as soon as either side settles.
 */
export function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
