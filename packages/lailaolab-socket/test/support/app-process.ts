/**
 * Starts support/merchant-app.ts as its own Node process (`node --import tsx`, the workspace
 * sources through the root tsconfig paths) and talks to it over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { SweepReport } from '../../src';

const ROOT = resolve(__dirname, '../../../..');

export interface AppStats {
  name: string;
  pid: number;
  /** Listener runs per transaction id. */
  dispatched: Record<string, number>;
  sourceErrors: string[];
  /** The sweep `stats` ran (after the one in flight, if any). */
  sweep: SweepReport;
}

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  watch(ids: string[]): Promise<number>;
  watching(): Promise<{ ids: string[]; watched: number }>;
  stats(): Promise<AppStats>;
  /** SIGKILL: no close(), nothing flushed. */
  kill(): Promise<void>;
  /** Disconnects IPC: the app closes its source and store and exits. */
  stop(): Promise<void>;
}

export interface AppOptions {
  name: string;
  /** The hub's awaited list: Redis (shared, with a Redis store) or the default memory one. */
  awaited: 'redis' | 'memory';
  socketUrl: string;
  apiBase: string;
  secret: string;
  redisUrl?: string;
  prefix?: string;
}

export async function startApp(options: AppOptions): Promise<AppProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
    INSTANCE_NAME: options.name,
    AWAITED_LIST: options.awaited,
    SOCKET_URL: options.socketUrl,
    API_BASE: options.apiBase,
    SECRET: options.secret,
    REDIS_URL: options.redisUrl ?? '',
    PREFIX: options.prefix ?? '',
  };
  const child = fork(resolve(__dirname, 'merchant-app.ts'), [], {
    cwd: ROOT,
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const waiting = new Map<string, Array<(message: Record<string, unknown>) => void>>();
  const failures: Array<(error: Error) => void> = [];
  child.on('message', (message: Record<string, unknown>) => {
    const type = String(message.type);
    if (type === 'error') {
      for (const fail of failures.splice(0)) fail(new Error(`${options.name}: ${message.message}`));
      return;
    }
    waiting.get(type)?.shift()?.(message);
  });
  child.once('exit', (code, signal) => {
    const error = new Error(`${options.name} exited (${code ?? signal}): ${stderr}`);
    for (const fail of failures.splice(0)) fail(error);
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise<T>((resolveNext, reject) => {
      const list = waiting.get(type) ?? [];
      list.push((m) => resolveNext(m as T));
      waiting.set(type, list);
      failures.push(reject);
    });
  const ask = <T>(message: Record<string, unknown>, reply: string): Promise<T> => {
    const answer = next<T>(reply);
    child.send(message);
    return answer;
  };
  await next('ready');
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    name: options.name,
    child,
    watch: async (ids) => (await ask<{ stored: number }>({ type: 'watch', ids }, 'watched')).stored,
    watching: () => ask({ type: 'watching' }, 'watching'),
    stats: () => ask({ type: 'stats' }, 'stats'),
    async kill() {
      if (exited()) return;
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    },
    async stop() {
      if (exited()) return;
      const gone = once(child, 'exit');
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
