/**
 * Starts merchant app instances as separate Node processes (support/instance.ts, run with
 * `node --import tsx` on the workspace sources) and reads their counts: the harness of the
 * cross-process and Redis-kill tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { resolve } from 'node:path';
import { postKeepAlive } from '@payhook/core/testing';
import type { TraceEntry } from './trace-store';

export const ROOT = resolve(__dirname, '../../../..');

export interface Ready {
  name: string;
  pid: number;
  port: number;
  core: string;
  redisStore: string;
}
export interface Stats {
  name: string;
  pid: number;
  dispatched: Record<string, number>;
  outcomes: Record<string, number>;
  errors: string[];
  /** Event ids whose commit the hub gave up (ERR_COMMIT_FAILED). */
  failedCommits: string[];
  /** onLostClaim calls, by operation. */
  lostClaims: Record<string, number>;
  /** The store's log lines (message only), for the report. */
  storeLog: string[];
}
export interface Instance {
  process: ChildProcess;
  ready: Ready;
  url: string;
  stderr(): string;
}

export interface InstanceOptions {
  redisUrl: string;
  prefix: string;
  /** Hub and store settings; instance.ts has its defaults (5 s, 15 s, store's 1 s). */
  handlerTimeoutMs?: number;
  leaseMs?: number;
  commandTimeoutMs?: number;
  /** `memory`: the instance uses the in-process store (REDIS_URL is then ignored). */
  store?: 'redis' | 'memory';
  /** Record every store call (support/trace-store.ts), read with `traceOf`. */
  trace?: boolean;
}

export async function startInstance(name: string, options: InstanceOptions): Promise<Instance> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Explicit: tsx maps @payhook/* to packages/*/src through the root tsconfig paths.
    TSX_TSCONFIG_PATH: resolve(ROOT, 'tsconfig.json'),
    REDIS_URL: options.redisUrl,
    PREFIX: options.prefix,
    INSTANCE_NAME: name,
  };
  if (options.handlerTimeoutMs) env.HANDLER_TIMEOUT_MS = String(options.handlerTimeoutMs);
  if (options.leaseMs) env.LEASE_MS = String(options.leaseMs);
  if (options.commandTimeoutMs) env.COMMAND_TIMEOUT_MS = String(options.commandTimeoutMs);
  if (options.store === 'memory') env.STORE = 'memory';
  if (options.trace) env.STORE_TRACE = '1';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/redis-store/test/support/instance.ts'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<Ready>((resolveReady, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolveReady(JSON.parse(line) as Ready);
      }
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`instance ${name} exited with ${code}: ${stderr}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout!.resume();
  return {
    process: child,
    ready,
    url: `http://127.0.0.1:${ready.port}/webhooks/test`,
    stderr: () => stderr,
  };
}

export async function stopInstance(instance: Instance): Promise<number | null> {
  const child = instance.process;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

export async function stats(instance: Instance): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${instance.ready.port}/stats`);
  return (await response.json()) as Stats;
}

/** The store calls an instance started with `trace` made: on `keys` only, or all of them. */
export async function traceOf(instance: Instance, keys: string[] = []): Promise<TraceEntry[]> {
  const query = keys.map((k) => `key=${encodeURIComponent(k)}`).join('&');
  const response = await fetch(`http://127.0.0.1:${instance.ready.port}/trace?${query}`);
  return (await response.json()) as TraceEntry[];
}

/** Dispatches per event id over several instances, and the sum per instance. */
export function dispatchTotals(all: Stats[]): {
  total: Map<string, number>;
  perInstance: number[];
} {
  const total = new Map<string, number>();
  for (const s of all)
    for (const [id, n] of Object.entries(s.dispatched)) total.set(id, (total.get(id) ?? 0) + n);
  const perInstance = all.map((s) => Object.values(s.dispatched).reduce((x, y) => x + y, 0));
  return { total, perInstance };
}

/** Plain node:http with keep-alive: ten thousand POSTs cost a fraction of what fetch costs here. */
export function createPoster(maxSockets = 64) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post: (url: string, fixture: { body: string; headers: Record<string, string> }) =>
      postKeepAlive(url, fixture, agent),
    destroy: () => agent.destroy(),
  };
}
