/**
 * Issue 23, item 4: `payhook keys` never leaves a world-readable private key and never writes
 * through a symbolic link. Real files in a temporary directory, the CLI in-process.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT, KEY_FILES, KeyFileRefusedError, writeTestKeyPair } from '../src';
import { captureCli } from './run-cli';

const keys = (dir: string, ...extra: string[]) =>
  captureCli(['keys', '--out', dir, ...extra], { cwd: dir });
const modeOf = (file: string): number => statSync(file).mode & 0o777;

let dir: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'payhook-keys-'));
  outside = mkdtempSync(path.join(tmpdir(), 'payhook-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('payhook keys: file modes', () => {
  it('a fresh private key is 0600, the public files 0644', async () => {
    expect((await keys(dir)).code).toBe(EXIT.OK);
    expect(modeOf(path.join(dir, KEY_FILES.privateKey))).toBe(0o600);
    expect(modeOf(path.join(dir, KEY_FILES.publicKey))).toBe(0o644);
    expect(modeOf(path.join(dir, KEY_FILES.publicKeyBase64))).toBe(0o644);
  });

  it('--force over an existing 0644 private.pem: a new key, and 0600 after', async () => {
    const privateKey = path.join(dir, KEY_FILES.privateKey);
    writeFileSync(privateKey, 'old key\n');
    chmodSync(privateKey, 0o644);
    const run = await keys(dir, '--force');
    expect(run.code).toBe(EXIT.OK);
    expect(readFileSync(privateKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(modeOf(privateKey)).toBe(0o600);
    // No temporary file is left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('without --force, an existing file is refused and kept as it was', async () => {
    const publicKey = path.join(dir, KEY_FILES.publicKey);
    writeFileSync(publicKey, 'configured key\n');
    const run = await keys(dir);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/already exist: use --force/);
    expect(readFileSync(publicKey, 'utf8')).toBe('configured key\n');
    expect(existsSync(path.join(dir, KEY_FILES.privateKey))).toBe(false);
  });
});

describe('payhook keys: a symbolic link at a key file is refused, never followed', () => {
  it.each([
    ['a link to an existing file', true],
    ['a dangling link', false],
  ])('%s at private.pem, with --force: refused, the link target untouched', async (_n, exists) => {
    const target = path.join(outside, 'victim');
    if (exists) writeFileSync(target, 'not yours\n', { mode: 0o644 });
    const link = path.join(dir, KEY_FILES.privateKey);
    symlinkSync(target, link);
    const run = await keys(dir, '--force');
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/private\.pem is a symbolic link/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    if (exists) expect(readFileSync(target, 'utf8')).toBe('not yours\n');
    else expect(existsSync(target)).toBe(false);
    // Refused before anything was written: no other key file either.
    expect(existsSync(path.join(dir, KEY_FILES.publicKey))).toBe(false);
  });

  it('a dangling link without --force is refused too (it is not "absent")', async () => {
    const target = path.join(outside, 'planted.pem');
    symlinkSync(target, path.join(dir, KEY_FILES.publicKeyBase64));
    const run = await keys(dir);
    expect(run.code).toBe(EXIT.USAGE);
    expect(existsSync(target)).toBe(false);
  });

  it('writeTestKeyPair refuses with a KeyFileRefusedError (ELOOP)', () => {
    symlinkSync(path.join(outside, 'x'), path.join(dir, KEY_FILES.publicKey));
    let caught: unknown;
    try {
      writeTestKeyPair(dir, { force: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeyFileRefusedError);
    expect(caught).toMatchObject({ code: 'ELOOP' });
    expect(existsSync(path.join(outside, 'x'))).toBe(false);
  });
});
