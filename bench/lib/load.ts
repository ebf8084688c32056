import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { nextMessage } from './ipc';
import type { Counters, ServerConfig } from '../server';
import type { RouteName, Wire } from './deliveries';

// autocannon ships no types; this is the part of its API used here.
const autocannon = require('autocannon') as (
  options: Record<string, unknown>,
  done: (error: Error | null, result: AutocannonResult) => void,
) => { stop(): void; on(event: 'response', listener: () => void): void };

interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { total: number; sent: number };
}

export interface RunResult {
  route: RouteName;
  /** Completed 2xx answers per second over the whole run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export interface BenchServer {
  port: number;
  pid: number;
  counters(): Promise<Counters>;
  /** Inserts the open order rows a PostgreSQL route's deliveries will pay (outside the timing). */
  seedOrders(route: 'payin-postgres' | 'pg-baseline', orderIds: string[]): Promise<void>;
  /** Counts the statements the PostgreSQL routes send between start and stop. */
  startCount(): Promise<void>;
  stopCount(): Promise<Array<{ text: string; n: number }>>;
  stop(): Promise<{ redisKeysRemoved: number }>;
}

/** Starts bench/server.ts as a child process: `node --import tsx bench/server.ts`. */
export function startServer(config: ServerConfig): Promise<BenchServer> {
  const child: ChildProcess = fork(path.join(__dirname, '..', 'server.ts'), [], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_SERVER_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_SERVER_PROF]
        : []),
    ],
    env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const once = <T>(type: string): Promise<T> => nextMessage<T>(child, type, 'bench server');
  return once<{ port: number }>('ready').then(({ port }) => ({
    port,
    pid: child.pid!,
    async counters() {
      const reply = once<{ counters: Counters }>('counters');
      child.send({ type: 'counters' });
      return (await reply).counters;
    },
    async seedOrders(route, orderIds) {
      const reply = once('seeded');
      child.send({ type: 'seed-orders', route, orderIds });
      await reply;
    },
    async startCount() {
      const reply = once('counting');
      child.send({ type: 'count-start' });
      await reply;
    },
    async stopCount() {
      const reply = once<{ statements: Array<{ text: string; n: number }> }>('counted');
      child.send({ type: 'count-stop' });
      return (await reply).statements;
    },
    async stop() {
      const reply = once<{ redisKeysRemoved: number }>('stopped');
      child.send({ type: 'stop' });
      const stopped = await reply;
      await new Promise((resolve) =>
        child.exitCode === null ? child.once('exit', resolve) : resolve(null),
      );
      return stopped;
    },
  }));
}

/** Spare deliveries beyond `amount`: autocannon may build a request ahead on each connection. */
export const spareFor = (connections: number): number => connections * 2;

/**
 * One autocannon run on one route: `wires.length - spare` requests over `connections` keep-alive
 * connections, each request carrying the next delivery of the pool (none is ever sent twice).
 */
export function runLoad(
  port: number,
  route: RouteName,
  wires: Wire[],
  connections: number,
  maxSeconds: number,
): Promise<RunResult> {
  const amount = wires.length - spareFor(connections);
  let next = 0;
  return new Promise((resolve, reject) => {
    // autocannon notices a finished `amount` only on its one-second tick, so its own duration is
    // rounded up to whole seconds; the window is measured here, from start to the last answer.
    const started = process.hrtime.bigint();
    let lastAnswer = started;
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        amount,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: `/${route}`,
            setupRequest: (request: Record<string, unknown>) => {
              if (next >= wires.length) throw new Error(`${route}: delivery pool exhausted`);
              const w = wires[next++]!;
              return { ...request, body: w.body, headers: w.headers };
            },
          },
        ],
      },
      (error, result) => {
        clearTimeout(guard);
        if (error) return reject(error);
        const seconds = Number(lastAnswer - started) / 1e9;
        resolve({
          route,
          rps: result['2xx'] / seconds,
          p50: result.latency.p50,
          p99: result.latency.p99,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          seconds,
        });
      },
    );
    instance.on('response', () => {
      lastAnswer = process.hrtime.bigint();
    });
    // Bounded duration: a run that cannot finish its amount is stopped and reported as it stands.
    const guard = setTimeout(() => instance.stop(), maxSeconds * 1000);
  });
}
