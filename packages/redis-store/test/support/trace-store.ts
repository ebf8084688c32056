/**
 * A record of every store call an instance makes (time, operation, key, token, answer), for the
 * Redis-kill investigation: which instance claimed, committed or released which key with which token,
 * around the kill. Only the test instance wraps its store with it (STORE_TRACE=1).
 */
import type { IdempotencyStore } from '@payhook/core';

export interface TraceEntry {
  /** Date.now() when the call settled. */
  t: number;
  op: string;
  key: string;
  token?: string;
  /** The answer (`claimed`, `busy`, `done`, `ok`, `true`...) or `error: <message>`. */
  result: string;
}

type AnyStore = IdempotencyStore<unknown>;

/** Wraps `store` so that each call is appended to `trace` when it settles. */
export function traceStore<S extends AnyStore>(store: S, trace: TraceEntry[]): S {
  const record = async <T>(
    op: string,
    key: string,
    token: string | undefined,
    call: () => Promise<T>,
    describe: (value: T) => { result: string; token?: string },
  ): Promise<T> => {
    try {
      const value = await call();
      const { result, token: issued } = describe(value);
      trace.push({ t: Date.now(), op, key, token: issued ?? token, result });
      return value;
    } catch (error) {
      trace.push({ t: Date.now(), op, key, token, result: `error: ${(error as Error).message}` });
      throw error;
    }
  };
  const wrapped: AnyStore = Object.create(store) as AnyStore;
  wrapped.claim = (key, leaseMs, options) =>
    record(
      'claim',
      key,
      undefined,
      () => store.claim(key, leaseMs, options),
      (claim) => ({
        result: claim.state,
        token: claim.state === 'claimed' ? claim.token : undefined,
      }),
    );
  wrapped.commit = (key, token, ttlMs) =>
    record(
      'commit',
      key,
      token,
      () => store.commit(key, token, ttlMs),
      () => ({ result: 'ok' }),
    );
  wrapped.release = (key, token) =>
    record(
      'release',
      key,
      token,
      () => store.release(key, token),
      () => ({ result: 'ok' }),
    );
  if (store.renew)
    wrapped.renew = (key, token, leaseMs) =>
      record(
        'renew',
        key,
        token,
        () => store.renew!(key, token, leaseMs),
        (held) => ({
          result: String(held),
        }),
      );
  if (store.markDone)
    wrapped.markDone = (key, ttlMs) =>
      record(
        'markDone',
        key,
        undefined,
        () => store.markDone!(key, ttlMs),
        () => ({
          result: 'ok',
        }),
      );
  return wrapped as S;
}
