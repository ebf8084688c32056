import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A prefix no other test run uses, so tests can run side by side and clean up after themselves. */
export function testPrefix(name: string): string {
  return `payhook-test:${name}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS) and returns how many there were. */
export async function deletePrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ScratchRedisOptions {
  /**
   * Run with an append-only file in a directory of its own (kept across stop/start, removed by
   * `cleanup()`), so a restart after SIGKILL reloads what Redis acknowledged. Default: no persistence.
   */
  appendonly?: boolean;
  /**
   * With `appendonly`: `everysec` (the default, as in redis.conf) or `always`, which writes and
   * fsyncs the AOF before Redis answers.
   */
  appendfsync?: 'everysec' | 'always';
}

/** A throwaway redis-server the test can stop (SIGKILL), freeze (SIGSTOP) and start again on its port. */
export class ScratchRedis {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  /** The server's own log (stdout), every start, up to the last 64 KB. */
  log = '';
  constructor(
    readonly port: number,
    private readonly options: ScratchRedisOptions = {},
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The data directory of an `appendonly` server (its AOF is in `appendonlydir/`). */
  get directory(): string | undefined {
    return this.dir;
  }

  async start(): Promise<void> {
    const persistence = this.options.appendonly
      ? [
          ...['--appendonly', 'yes', '--appendfsync', this.options.appendfsync ?? 'everysec'],
          ...['--dir', this.dataDir()],
        ]
      : ['--appendonly', 'no'];
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
    });
    this.keepLog(output);
    child.stdout!.on('data', (chunk: Buffer) => this.keepLog(chunk.toString()));
    child.stderr!.resume();
  }

  private keepLog(text: string): void {
    this.log = (this.log + text).slice(-65_536);
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing until `thaw()`. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: the server runs again and executes what waited in its sockets. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    // SIGKILL ends a frozen (SIGSTOPped) server too.
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the server and removes its data directory, if it had one. */
  async cleanup(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private dataDir(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'payhook-redis-'));
    return this.dir;
  }
}

/**
 * A TCP proxy in front of a Redis: `cutNextReply()` makes it drop the connection instead of
 * forwarding the next reply, so the command has run on Redis but its answer never comes back.
 */
export class CuttingProxy {
  private server: Server | undefined;
  private cut = false;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (this.cut) {
          this.cut = false;
          client.destroy();
          return;
        }
        client.write(chunk);
      });
    });
    this.server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
  }

  cutNextReply(): void {
    this.cut = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
