import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * Writes a pair as `private.pem`, `public.pem` and `public.base64` in `dir` (created if needed).
 * Existing files are kept unless `force`: overwriting a key someone configured would break it.
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
  if (!options.force) {
    const existing = Object.values(files).filter((f) => existsSync(f));
    if (existing.length > 0)
      throw new Error(`${SOURCE}: ${existing.join(', ')} already exist (use force to overwrite)`);
  }
  const pair = options.pair ?? generateTestKeyPair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.privateKey, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.publicKey, pair.publicKeyPem);
  writeFileSync(files.publicKeyBase64, `${pair.publicKeyBase64}\n`);
  return { pair, files };
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
