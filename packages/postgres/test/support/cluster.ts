/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, its own port), so a
 * test can stop and start the server. Run as the `postgres` user when the test runs as root.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const execFileAsync = promisify(execFile);
const BIN = process.env.PAYHOOK_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface Cluster {
  port: number;
  url: string;
  start(): void;
  /** `fast`: connections are closed, in-progress transactions rolled back (a restart). */
  stop(mode?: 'fast' | 'immediate'): void;
  /**
   * SIGSTOP to the postmaster and every backend: the server stops answering but keeps its TCP
   * sockets (the kernel still accepts connections), as a hung host or a paused VM does.
   */
  freeze(): Promise<void>;
  /** SIGCONT to the processes `freeze` stopped. */
  thaw(): void;
  destroy(): void;
}

function run(args: string[], uid?: number, gid?: number): void {
  execFileSync(args[0]!, args.slice(1), { stdio: 'ignore', uid, gid, timeout: 60_000 });
}

export function createCluster(port: number): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'payhook-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  // initdb refuses to run as root: the cluster then belongs to the postgres user.
  const ids = root ? postgresIds() : { uid: undefined, gid: undefined };
  if (root) chownSync(dir, ids.uid!, ids.gid!);
  run(
    [`${BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'],
    ids.uid,
    ids.gid,
  );
  const ctl = (...args: string[]): void =>
    run([`${BIN}/pg_ctl`, '-D', data, ...args], ids.uid, ids.gid);
  let frozen: number[] = [];
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      ctl(
        '-w',
        '-l',
        join(dir, 'log'),
        '-o',
        `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`,
        'start',
      ),
    stop: (mode = 'fast') => ctl('-w', '-m', mode, 'stop'),
    async freeze() {
      const postmaster = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]!;
      // One shell, not a synchronous call per process: the test's event loop keeps running (its
      // requests' latencies are what is measured). The postmaster first, so that it forks no
      // backend we would miss.
      const { stdout } = await execFileAsync('sh', [
        '-c',
        'kill -STOP "$1" && for p in $(ps -o pid= --ppid "$1"); do kill -STOP "$p"; done; ' +
          'echo "$1" $(ps -o pid= --ppid "$1")',
        'freeze',
        postmaster,
      ]);
      frozen = stdout.trim().split(/\s+/).map(Number);
    },
    thaw() {
      for (const pid of [...frozen].reverse()) process.kill(pid, 'SIGCONT');
      frozen = [];
    },
    destroy() {
      if (frozen.length > 0) this.thaw();
      try {
        ctl('-w', '-m', 'immediate', 'stop');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}
