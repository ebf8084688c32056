import {
  appendFileSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { KEY_FILES, KeyFileRefusedError, writeTestKeyPair } from '../keys';
import { parseCommand } from './args';
import { EXIT, IoError, UsageError } from './errors';
import { KEYS_HELP } from './help';
import type { CliIo } from './io';

const KEYS_OPTIONS = { out: { type: 'string' }, force: { type: 'boolean' } } as const;

/** `payhook keys`: a test RSA pair, and a .gitignore that keeps the private half out of git. */
export function keys(args: string[], io: CliIo): number {
  const parsed = parseCommand(args, KEYS_OPTIONS, () => KEYS_HELP, io);
  if (!parsed) return EXIT.OK;
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const dir = path.resolve(io.cwd, values.out ?? 'payhook-keys');
  let written;
  let ignore;
  try {
    written = writeTestKeyPair(dir, { force: values.force });
    ignore = ignoreKeys(dir);
  } catch (error) {
    // Refused targets (present without --force, a symbolic link) are the user's to look at.
    if (error instanceof KeyFileRefusedError)
      throw new UsageError(
        error.code === 'EEXIST'
          ? error.detail.replace(' (use force to overwrite)', ': use --force to overwrite')
          : error.detail,
      );
    throw new IoError(`cannot write keys in ${dir} (${(error as NodeJS.ErrnoException).code})`);
  }
  if (values.json) io.stdout(`${JSON.stringify({ ...written.files, gitignore: ignore.file })}\n`);
  else
    io.stdout(
      [
        `wrote a test RSA key pair in ${dir}`,
        `  ${written.files.privateKey}   the gateway's private key: payhook send ... --key ${written.files.privateKey}`,
        `  ${written.files.publicKey}    configure the plugin's platformPublicKey with it`,
        `  ${written.files.publicKeyBase64} the same as bare Base64 DER`,
        `  ${ignore.file}    ${ignore.note}`,
        '',
      ].join('\n'),
    );
  return EXIT.OK;
}

const OWN_FILES = new Set<string>([...Object.values(KEY_FILES), '.gitignore']);

/**
 * Keeps the private key out of git: it signs as the gateway, and a committed one is a key anyone
 * can sign with. A directory holding only the keys gets a `.gitignore` of `*`; in a directory with
 * other files (`--out .`), the line `/private.pem` is added to its .gitignore, so nothing else of
 * the user's is ignored.
 */
function ignoreKeys(dir: string): { file: string; note: string } {
  const file = path.join(dir, '.gitignore');
  // Never written through a link: appending to wherever it points is not ours to do.
  if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink())
    return { file, note: `is a symbolic link: left alone; add /${KEY_FILES.privateKey} yourself` };
  const own = readdirSync(dir).every((name) => OWN_FILES.has(name));
  if (!existsSync(file) && own) {
    writeFileSync(file, '# written by payhook keys: test keys stay out of git\n*\n');
    return { file, note: 'written ("*"): git ignores the keys, the private one above all' };
  }
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const covers = ['*', KEY_FILES.privateKey, `/${KEY_FILES.privateKey}`];
  if (lines.some((line) => covers.includes(line)))
    return { file, note: `already ignores ${KEY_FILES.privateKey}: git will not commit it` };
  appendFileSync(file, `${text && !text.endsWith('\n') ? '\n' : ''}/${KEY_FILES.privateKey}\n`);
  return { file, note: `"/${KEY_FILES.privateKey}" added: git will not commit the private key` };
}
