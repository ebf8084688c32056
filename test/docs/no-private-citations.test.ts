/**
 * Docs that are true (issue 12): no tracked file may cite what a reader of the repository or of
 * the published packages cannot open. That is the project's private notes and the gateway
 * documents it started from, which live outside this repository: the reference notes, the source
 * documents and their file names, the design notes. A fact they hold is cited by the gateway's
 * public documentation URL (see docs/events/<gateway>.md), or said in our own words.
 *
 * The patterns are built from pieces so that this file does not cite them itself; the scan covers
 * this file too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

const SHARED = ['shared', ''].join('/');
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Each private path, with the name the failure report gives it. */
const PRIVATE_PATTERNS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'reference notes', pattern: new RegExp(escape(`${SHARED}reference`)) },
  { name: 'source documents', pattern: new RegExp(escape(`${SHARED}seeds`)) },
  { name: 'design notes', pattern: new RegExp(escape(`${SHARED}design`)) },
  { name: 'path outside the repository', pattern: new RegExp(escape(`../${SHARED}`)) },
  { name: 'reference notes', pattern: new RegExp(escape(['providers', 'md'].join('.'))) },
  { name: 'design notes', pattern: new RegExp(escape(['ARCHITECTURE', 'md'].join('.'))) },
  {
    name: 'source document file name',
    pattern: new RegExp(['\\d{3}', '[0-9a-f]{16}\\.txt'].join('_')),
  },
];

/** The names of the private paths a line cites; empty when it cites none. */
function privateCitations(line: string): string[] {
  return PRIVATE_PATTERNS.filter(({ pattern }) => pattern.test(line)).map(({ name }) => name);
}

/** The part of a long line around its first citation. */
function excerpt(line: string): string {
  const at = Math.min(
    ...PRIVATE_PATTERNS.map(({ pattern }) => line.search(pattern)).filter((index) => index >= 0),
  );
  const start = Math.max(0, at - 50);
  return `${start > 0 ? '…' : ''}${line.slice(start, at + 50).trim()}${at + 50 < line.length ? '…' : ''}`;
}

/** One `file:line: what: excerpt` entry per line of `text` that cites a private path. */
function citationsIn(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const names = privateCitations(line);
    if (names.length === 0) return [];
    return [`${file}:${i + 1}: ${[...new Set(names)].join(', ')}: ${excerpt(line)}`];
  });
}

const SCANNED = /\.(ts|js|mjs|md|json)$/;

const THIS_FILE = path.relative(ROOT, __filename).split(path.sep).join('/');

/** The git-tracked files to scan, and this file even before it is committed. */
function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  const files = out
    .split('\0')
    .filter((file) => SCANNED.test(file) && path.basename(file) !== 'package-lock.json');
  return [...new Set([...files, THIS_FILE])];
}

function readIfPresent(file: string): string | null {
  try {
    return readFileSync(path.join(ROOT, file), 'utf8');
  } catch (error) {
    // Tracked but deleted in the working tree: nothing left to cite from.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

describe('the matcher', () => {
  // Sample lines, assembled so that this file holds none of them literally.
  const cites: Array<[string, string]> = [
    ['a reference-notes path', `see /work/${SHARED}reference/notes for the status table`],
    ['a source-documents folder', `the sample in ${SHARED}seeds/ is the doc's`],
    ['a design-notes path', `(${SHARED}design, "the replay entry")`],
    ['a relative path out of the repository', `read ../${SHARED}anything first`],
    ['the reference notes by name', `(${['providers', 'md'].join('.')} §2.1, worked example)`],
    ['the design notes by name', `${['ARCHITECTURE', 'md'].join('.')} ("Unknown is not an error")`],
    ['a source document by file name', `seed \`${['123', '0123456789abcdef.txt'].join('_')}\``],
  ];
  it.each(cites)('flags %s', (_what, line) => {
    expect(privateCitations(line)).not.toEqual([]);
  });

  const clean: Array<[string, string]> = [
    ['a public documentation URL', 'https://docs.paycools.com/en/v2/common/UnifiedAPIParam.html'],
    ['a doc of this repository', 'the mapping is in docs/events/newpay.md'],
    ['the word shared on its own', 'a shared secret; the shared store'],
    ['a section number with no file', 'NewPay v1 "4.4. Callback", 2.2.2'],
    ['a number that is not a file name', 'orderNo PAYIN8232154612109344768, 123_4567'],
  ];
  it.each(clean)('passes %s', (_what, line) => {
    expect(privateCitations(line)).toEqual([]);
  });

  it('reports the file, the line and what is cited', () => {
    const cited = `(${['providers', 'md'].join('.')} 3.3)`;
    const text = ['fine', 'also fine', cited, ''].join('\n');
    expect(citationsIn('sample.ts', text)).toEqual([`sample.ts:3: reference notes: ${cited}`]);
    expect(citationsIn('sample.ts', 'fine\n')).toEqual([]);
  });
});

describe('tracked files', () => {
  const files = trackedFiles();

  it('include the docs and the sources, not the lockfile', () => {
    expect(files).toContain('docs/events/newpay.md');
    expect(files.some((file) => file.startsWith('packages/') && file.endsWith('.ts'))).toBe(true);
    expect(files.some((file) => path.basename(file) === 'package-lock.json')).toBe(false);
  });

  it('cite no private path (file:line: what it cites)', () => {
    const hits = files.flatMap((file) => {
      const text = readIfPresent(file);
      return text === null ? [] : citationsIn(file, text);
    });
    expect(hits).toEqual([]);
  });
});
