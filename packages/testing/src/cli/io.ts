export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (simulate). Default: SIGINT or SIGTERM. */
  stopSignal?: () => Promise<void>;
}

function defaultStop(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** The process's streams, environment and signals, unless the caller (a test) gives its own. */
export function resolveIo(io: Partial<CliIo>): CliIo {
  return {
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stopSignal: io.stopSignal ?? defaultStop,
  };
}
