/** What a command needs from its process; structurally the testing CLI's CliIo. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (the worker). Default: SIGINT or SIGTERM. */
  stopSignal?: () => Promise<void>;
}

/** Resolves at the first SIGINT or SIGTERM, and then listens to neither. */
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
export function resolveIo(io: Partial<CommandIo> = {}): Required<CommandIo> {
  return {
    stdout: io.stdout ?? ((t) => void process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => void process.stderr.write(t)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stopSignal: io.stopSignal ?? defaultStop,
  };
}
