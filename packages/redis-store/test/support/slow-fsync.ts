/**
 * A slow disk for one redis-server, made with strace's fault injection: every fdatasync (the
 * AOF's fsync) of the process, in whichever thread, waits `delayMs` before it runs. A busy or
 * shared disk does the same, for as long as it is busy; this makes it happen on demand.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Whether strace can be run here (Debian package `strace`; root, or ptrace allowed). */
export function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class SlowFsync {
  private tracer: ChildProcess | undefined;

  constructor(
    private readonly pid: number,
    private readonly delayMs: number,
  ) {}

  /** Resolves once strace is attached to every thread of the server. */
  async start(): Promise<void> {
    const tracer = spawn(
      'strace',
      ['-f', '-p', String(this.pid), '-o', '/dev/null', '-e', 'trace=fdatasync'].concat([
        '-e',
        `inject=fdatasync:delay_enter=${this.delayMs * 1000}`,
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.tracer = tracer;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (/attached/.test(output)) {
          tracer.stderr!.off('data', onData);
          tracer.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`strace exited with ${code}: ${output}`));
      tracer.stderr!.on('data', onData);
      tracer.once('exit', onExit);
    });
    tracer.stderr!.resume();
  }

  /**
   * SIGKILL: a traced server that was killed is only reaped once its tracer is gone, so call this
   * after sending the server its SIGKILL (before that, it would let the delayed fsync run).
   */
  async stop(): Promise<void> {
    const tracer = this.tracer;
    this.tracer = undefined;
    if (!tracer || tracer.exitCode !== null || tracer.signalCode !== null) return;
    const exited = once(tracer, 'exit');
    tracer.kill('SIGKILL');
    await exited;
  }
}
