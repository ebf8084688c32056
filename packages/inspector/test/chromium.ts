import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium: the browser tests drive it through playwright-core, nothing downloaded. */
export const CHROMIUM = process.env.PAYHOOK_CHROMIUM ?? '/usr/bin/chromium';

/**
 * A new machine has no browser, and `npm install && npm test` must still run the browser tests
 * for real: install Debian's package when it is missing (the machines run the tests as root;
 * elsewhere the error says what to install). Waits for dpkg's lock, since two test workers, or
 * an install already running, may hold it.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const install = (): void =>
    void execFileSync(
      'apt-get',
      ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'chromium'],
      {
        stdio: 'ignore',
        timeout: 900_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
  try {
    install();
  } catch {
    try {
      execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], {
        stdio: 'ignore',
        timeout: 900_000,
      });
      install();
    } catch (error) {
      throw new Error(
        `the browser tests need Chromium at ${CHROMIUM} and installing Debian's chromium failed ` +
          `(${(error as Error).message}); run: apt-get install -y chromium`,
      );
    }
  }
  if (!existsSync(CHROMIUM))
    throw new Error(`apt-get installed chromium but ${CHROMIUM} is absent`);
  return CHROMIUM;
}
