/**
 * vitest is not a dependency of this repository: tsconfig.harnesses.json maps `vitest` here, to
 * the call signatures of its public `describe` and `it` (vitest's TestAPI / SuiteAPI, reduced to
 * what a caller passes), so that conformance.vitest.ts is type-checked, though not run.
 */
type Awaitable<T> = T | PromiseLike<T>;
interface TestOptions {
  timeout?: number;
  retry?: number;
  repeats?: number;
}
/* eslint-disable @typescript-eslint/no-unsafe-function-type -- vitest's own signature */
export declare function describe(
  name: string | Function,
  fn?: () => Awaitable<void>,
  options?: number | TestOptions,
): void;
export declare function it(
  name: string | Function,
  fn?: () => Awaitable<void>,
  options?: number | TestOptions,
): void;
