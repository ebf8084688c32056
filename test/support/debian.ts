import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A program some tests drive for real (Chromium for the inspector's page, strace for a slow
 * disk), installed from Debian's packages when a new machine lacks it, so that `npm install &&
 * npm test` runs those tests there rather than skipping them. The machines run the tests as root;
 * elsewhere the error says what to install. apt-get waits for dpkg's lock: two test workers, or an
 * install already running, may hold it.
 */
export function ensureDebianProgram(path: string, pkg: string): string {
  if (existsSync(path)) return path;
  const apt = (args: string[]): void =>
    void execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
      stdio: 'ignore',
      timeout: 900_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['install', '-y', '--no-install-recommends', pkg]);
  } catch {
    try {
      apt(['update']);
      apt(['install', '-y', '--no-install-recommends', pkg]);
    } catch (error) {
      throw new Error(
        `this test needs ${path}, and installing Debian's ${pkg} failed (${(error as Error).message}); ` +
          `run: apt-get install -y ${pkg}`,
      );
    }
  }
  if (!existsSync(path)) throw new Error(`apt-get installed ${pkg} but ${path} is absent`);
  return path;
}
