import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import { loadPrivateKey, type KeyInput } from '@payhook/core/plugin';

export const SOURCE = '@payhook/testing';

/**
 * A gateway's key pair for local tests: the private half signs deliveries as the gateway would,
 * the public half configures the plugin, in the forms the gateways' portals hand it out.
 */
export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  /** Bare Base64 DER (SubjectPublicKeyInfo), as the Asian gateways' portals show it. */
  publicKeyBase64: string;
}

/** A fresh RSA pair (2048 bits, what the gateways use). Generated, never an account's key. */
export function generateTestKeyPair(modulusLength = 2048): TestKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength });
  return testKeyPairFrom(privateKey);
}

/** The pair of a supplied private key (PEM, bare Base64 DER or KeyObject). */
export function testKeyPairFrom(privateKey: KeyInput): TestKeyPair {
  const key = loadPrivateKey(privateKey, 'privateKey', SOURCE);
  const publicKey = createPublicKey(key);
  return {
    privateKey: key,
    publicKey,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** File names `writeTestKeyPair` uses inside its directory. */
export const KEY_FILES = {
  privateKey: 'private.pem',
  publicKey: 'public.pem',
  publicKeyBase64: 'public.base64',
} as const;

export interface WrittenKeyPair {
  pair: TestKeyPair;
  files: { privateKey: string; publicKey: string; publicKeyBase64: string };
}

/** A key file that is refused: a symbolic link, something not a file, or present without force. */
export class KeyFileRefusedError extends Error {
  constructor(
    /** What is refused, without the package prefix: what the CLI prints. */
    readonly detail: string,
    readonly code: 'EEXIST' | 'ELOOP' | 'EISDIR',
  ) {
    super(`${SOURCE}: ${detail}`);
  }
}

/**
 * Writes a pair as `private.pem`, `public.pem` and `public.base64` in `dir` (created if needed).
 * Existing files are kept unless `force`: overwriting a key someone configured would break it.
 * Each file is written to a fresh temporary name (O_CREAT | O_EXCL | O_NOFOLLOW, the private key
 * 0600 from its first byte) and renamed over the target: an existing file's mode (a 0644
 * private.pem) is never inherited, and a symbolic link at a target, dangling or not, is refused
 * (even with force) rather than followed to write the key somewhere else. Every target is checked
 * before any is written, so a refusal leaves the directory as it was.
 */
export function writeTestKeyPair(
  dir: string,
  options: { pair?: TestKeyPair; force?: boolean } = {},
): WrittenKeyPair {
  const files = {
    privateKey: path.join(dir, KEY_FILES.privateKey),
    publicKey: path.join(dir, KEY_FILES.publicKey),
    publicKeyBase64: path.join(dir, KEY_FILES.publicKeyBase64),
  };
  mkdirSync(dir, { recursive: true });
  const existing = Object.values(files).filter((file) => checkTarget(file));
  if (existing.length > 0 && !options.force)
    throw new KeyFileRefusedError(
      `${existing.join(', ')} already exist (use force to overwrite)`,
      'EEXIST',
    );
  const pair = options.pair ?? generateTestKeyPair();
  writeKeyFile(files.privateKey, pair.privateKeyPem, 0o600);
  // Public halves: meant to be read and configured anywhere, so 0644 (before the umask).
  writeKeyFile(files.publicKey, pair.publicKeyPem, 0o644);
  writeKeyFile(files.publicKeyBase64, `${pair.publicKeyBase64}\n`, 0o644);
  return { pair, files };
}

/** Whether a regular file is at `file`; a symbolic link or anything else there is refused. */
function checkTarget(file: string): boolean {
  let stats;
  try {
    stats = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (stats.isSymbolicLink())
    throw new KeyFileRefusedError(
      `${file} is a symbolic link: refused, a key is never written through a link`,
      'ELOOP',
    );
  if (!stats.isFile())
    throw new KeyFileRefusedError(`${file} exists and is not a regular file`, 'EISDIR');
  return true;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fsConstants;

/**
 * The file under a temporary name of its own, then renamed over the target. O_EXCL | O_NOFOLLOW:
 * the name is new, so nothing planted there (a link) is opened; the mode is set at creation, so no
 * byte is ever readable with a wider one; rename(2) replaces a link planted at the target since
 * the check instead of following it.
 */
function writeKeyFile(target: string, text: string, mode: number): void {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(8).toString('hex')}.tmp`,
  );
  const fd = openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    try {
      writeFileSync(fd, text);
      // The umask can only narrow the mode given to open; fchmod makes it exactly `mode`.
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Reads a private key file (PEM or bare Base64 DER) into a pair. */
export function readTestKeyPair(file: string): TestKeyPair {
  return testKeyPairFrom(readFileSync(file, 'utf8'));
}

/** A pair as given (TestKeyPair or a private key), or a generated one. */
export function resolveTestKeyPair(keys: TestKeyPair | KeyInput | undefined): TestKeyPair {
  if (keys === undefined) return generateTestKeyPair();
  if (typeof keys === 'object' && 'privateKeyPem' in keys) return keys;
  return testKeyPairFrom(keys);
}
