/**
 * Functions a reader can hold in their head: no function in any package's src is longer than
 * MAX_LINES, unless a comment right above it says why (`// long: <reason>`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { reportCounts } from '@payhook/core/testing';

const ROOT = path.resolve(__dirname, '..', '..');
const MAX_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

interface LongFunction {
  where: string;
  lines: number;
}

/** Every function-like node longer than `max` lines, with no `long:` reason comment before it. */
export function longFunctions(file: string, text: string, max: number): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      const comments = ts.getLeadingCommentRanges(text, statementOf(node).getFullStart()) ?? [];
      const reasoned = comments.some((c) => /\blong: \S/.test(text.slice(c.pos, c.end)));
      if (lines > max && !reasoned)
        found.push({ where: `${path.relative(ROOT, file)}:${start + 1}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The statement a function belongs to (its `const x = () => …` or `export function`). */
function statementOf(node: ts.Node): ts.Node {
  let current = node;
  while (
    current.parent &&
    !ts.isSourceFile(current.parent) &&
    !ts.isBlock(current.parent) &&
    !ts.isClassLike(current.parent) &&
    !ts.isObjectLiteralExpression(current.parent)
  )
    current = current.parent;
  return current;
}

describe('functions stay short', () => {
  it(`no function in packages/*/src is over ${MAX_LINES} lines without a "long:" reason`, () => {
    const files = readdirSync(path.join(ROOT, 'packages')).flatMap((pkg) => {
      const src = path.join(ROOT, 'packages', pkg, 'src');
      try {
        return sourceFiles(src);
      } catch {
        return [];
      }
    });
    const long = files.flatMap((file) =>
      longFunctions(file, readFileSync(file, 'utf8'), MAX_LINES),
    );
    reportCounts('function length', `${files.length} files read, ${long.length} over ${MAX_LINES}`);
    expect(long).toEqual([]);
  });

  it('finds a long function, and accepts one whose reason is written above it', () => {
    const body = Array.from({ length: 90 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    const plain = `export function big() {\n${body}\n}\n`;
    const reasoned = `// long: one table of ninety constants reads best in one piece\n${plain}`;
    expect(longFunctions(path.join(ROOT, 'x.ts'), plain, MAX_LINES)).toEqual([
      { where: 'x.ts:1', lines: 92 },
    ]);
    expect(longFunctions(path.join(ROOT, 'x.ts'), reasoned, MAX_LINES)).toEqual([]);
  });
});
