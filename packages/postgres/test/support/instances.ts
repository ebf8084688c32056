/** Starts support/instance.ts as separate Node processes and reads their counts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../../..');

export interface Stats {
  name: string;
  pid: number;
  dispatched: Record<string, number>;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
}
export interface Instance {
  process: ChildProcess;
  port: number;
  url: string;
  stderr(): string;
}

export async function startInstance(
  name: string,
  env: { DATABASE_URL: string; SCHEMA: string; CRASH_BATCH?: string; POOL_MAX?: string },
): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/postgres/test/support/instance.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
        INSTANCE_NAME: name,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolveReady, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolveReady((JSON.parse(line) as { port: number }).port);
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`instance ${name} exited with ${code}: ${stderr}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout!.resume();
  return {
    process: child,
    port,
    url: `http://127.0.0.1:${port}/webhooks/test`,
    stderr: () => stderr,
  };
}

export async function stopInstance(instance: Instance): Promise<void> {
  const child = instance.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export async function stats(instance: Instance): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/stats`);
  return (await response.json()) as Stats;
}
