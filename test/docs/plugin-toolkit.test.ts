/**
 * docs/plugin-toolkit.md documents every export of `@payhook/core/plugin` (issue 26): each
 * runtime export and each exported type has a bullet (`- \`name\`: ...`) or a heading
 * (`## \`name\``) of its own, and the page names nothing in that form that the module does not
 * export. Runtime exports are read from the module itself; type names from the
 * `export type { ... }` lists (and inline `type X` specifiers) of plugin/index.ts,
 * with the TypeScript parser.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as plugin from '@payhook/core/plugin';

const ROOT = path.resolve(__dirname, '..', '..');
const INDEX = path.join(ROOT, 'packages', 'core', 'src', 'plugin', 'index.ts');
const DOC = path.join(ROOT, 'docs', 'plugin-toolkit.md');

/** The names index.ts re-exports, split into values and types as its export lists declare them. */
function declaredExports(): { values: string[]; types: string[] } {
  const source = ts.createSourceFile(INDEX, readFileSync(INDEX, 'utf8'), ts.ScriptTarget.Latest);
  const values: string[] = [];
  const types: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    const clause = statement.exportClause;
    if (!clause || !ts.isNamedExports(clause))
      throw new Error('plugin/index.ts: `export *` would hide names from this test; list them');
    for (const element of clause.elements)
      (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
  }
  return { values, types };
}

/** The names the page documents: the first backticked identifier of a bullet or a heading. */
function documentedNames(): string[] {
  const names: string[] = [];
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^(?:[-*]|#{2,6}) `([A-Za-z_$][\w$]*)`/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

describe('docs/plugin-toolkit.md', () => {
  const { values, types } = declaredExports();
  const runtime = Object.keys(plugin).filter((name) => name !== 'default' && name !== '__esModule');
  const documented = documentedNames();
  const exported = new Set([...runtime, ...types]);

  it('reads the export lists of plugin/index.ts as the module exports them', () => {
    expect([...values].sort()).toEqual([...runtime].sort());
    expect(types.length).toBeGreaterThan(0);
  });

  it('has a bullet or heading for every runtime export', () => {
    const missing = runtime.filter((name) => !documented.includes(name));
    expect(missing).toEqual([]);
  });

  it('has a bullet or heading for every exported type', () => {
    const missing = types.filter((name) => !documented.includes(name));
    expect(missing).toEqual([]);
  });

  it('names nothing in a bullet or heading that @payhook/core/plugin does not export', () => {
    const unknown = documented.filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
  });

  it('documents each export once, with an example', () => {
    const twice = documented.filter((name, i) => documented.indexOf(name) !== i);
    expect(twice).toEqual([]);
    const text = readFileSync(DOC, 'utf8');
    const withoutExample = documented.filter((name) => {
      const line = text.split('\n').find((l) => l.startsWith(`- \`${name}\``));
      return line !== undefined && !/Example: `[^`]+`/.test(line);
    });
    expect(withoutExample).toEqual([]);
  });
});
