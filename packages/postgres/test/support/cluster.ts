/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, its own port), so a
 * test can stop and start the server. Run as the `postgres` user when the test runs as root.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.PAYHOOK_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface Cluster {
  port: number;
  url: string;
  start(): void;
  /** `fast`: connections are closed, in-progress transactions rolled back (a restart). */
  stop(mode?: 'fast' | 'immediate'): void;
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
    destroy() {
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
