import type { ChildProcess } from 'node:child_process';

/**
 * The next IPC message of `type` from a child, rejecting if the child exits first: how the bench
 * parts wait for their server or simulator processes.
 */
export function nextMessage<T>(child: ChildProcess, type: string, who: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string } & T): void => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`${who} exited (${code}) while waiting for ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
