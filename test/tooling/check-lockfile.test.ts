import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-lockfile.js');

function workspace(manifest: object, lock: object, members: Record<string, object> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'payhook-lock-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
  for (const [key, member] of Object.entries(members)) {
    mkdirSync(path.join(dir, key), { recursive: true });
    writeFileSync(path.join(dir, key, 'package.json'), JSON.stringify(member));
  }
  return dir;
}

function check(dir: string) {
  const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return run;
}

const manifest = { name: 'app', devDependencies: { jest: '^30' } };
const goodLock = {
  lockfileVersion: 3,
  packages: {
    '': { name: 'app', devDependencies: { jest: '^30' } },
    'node_modules/jest': { version: '30.0.0', dev: true },
  },
};

describe('scripts/check-lockfile.js (run by .ci/run before npm ci)', () => {
  it('accepts the committed lockfile', () => {
    const out = execFileSync(process.execPath, [SCRIPT, ROOT], { encoding: 'utf8' });
    expect(out).toMatch(/in sync/);
  });

  it('accepts a lockfile in sync with every package.json', () => {
    expect(check(workspace(manifest, goodLock)).status).toBe(0);
  });

  it('refuses entries without a version, naming them and the command to run', () => {
    const lock = structuredClone(goodLock) as typeof goodLock & {
      packages: Record<string, object>;
    };
    lock.packages['node_modules/jest/node_modules/@unrs/resolver-binding-x'] = { optional: true };
    const run = check(workspace(manifest, lock));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/resolver-binding-x: no version/);
    expect(run.stderr).toMatch(/npm install/);
  });

  it('refuses a dependency added to a workspace package.json but not to the lockfile', () => {
    const member = { name: '@x/a', dependencies: { ajv: '^8' } };
    const lock = structuredClone(goodLock) as typeof goodLock & {
      packages: Record<string, object>;
    };
    lock.packages['packages/a'] = { name: '@x/a' };
    const run = check(workspace(manifest, lock, { 'packages/a': member }));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /packages\/a dependencies\.ajv: package\.json \^8, lockfile has none/,
    );
  });

  it('refuses a changed range in the root package.json', () => {
    const run = check(workspace({ ...manifest, devDependencies: { jest: '^29' } }, goodLock));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/\(root\) devDependencies\.jest/);
  });
});
