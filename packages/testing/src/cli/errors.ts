/** Exit codes, for scripts. */
export const EXIT = {
  /** Done: the delivery got the gateway's success body (send), keys written, simulator stopped. */
  OK: 0,
  /** Delivered, but the app's answer was not the gateway's success body: the gateway would retry. */
  NOT_ACKNOWLEDGED: 1,
  /** Bad usage or input: unknown command, gateway or event, missing or bad option, unreadable key. */
  USAGE: 2,
  /** I/O failure: URL unreachable or timed out, port in use, key files not writable. */
  IO: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad usage or input: exit 2, with a pointer to --help. */
export class UsageError extends Error {}

/** The network or the file system failed: exit 3. */
export class IoError extends Error {}

/** ECONNREFUSED, ENOTFOUND, "timed out"...: what fetch's error says about the network. */
export function networkReason(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
