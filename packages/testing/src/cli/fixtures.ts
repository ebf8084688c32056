import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { COMMON } from './args';
import type { SendGateway } from './declare';
import { UsageError } from './errors';
import { gatewayOptions, SEND_OPTIONS } from './send-table';

/**
 * `payhook send --fixtures <module>`: a plugin's own fixtures module, whose gateway declarations
 * (defineSendGateway) join the built-in ones for that run: their events, options and help.
 */

/** What a --fixtures module added, and where it came from. */
export interface LoadedFixtures {
  /** As typed (what errors name). */
  spec: string;
  /** Absolute path. */
  file: string;
  gateways: SendGateway<unknown>[];
}

/**
 * The `--fixtures` value, read before the strict parse: the module's own flags are unknown until
 * it is loaded. The flags known so far are given their types, so none of their values is taken
 * for `--fixtures`.
 */
export function fixturesArgument(
  args: string[],
  builtins: readonly SendGateway<unknown>[],
): string | undefined {
  const { values } = parseArgs({
    args,
    options: { ...gatewayOptions(builtins), ...COMMON, ...SEND_OPTIONS },
    allowPositionals: true,
    strict: false,
  });
  const value = values.fixtures;
  // No value (last argument): the strict parse says so.
  return typeof value === 'string' ? value : undefined;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

type Unknown = Record<string, unknown>;

const isObject = (value: unknown): value is Unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Has the two fields only a declaration has: then it is checked (and refused if bad). */
const looksLikeDeclaration = (value: unknown): value is Unknown =>
  isObject(value) && 'gateway' in value && 'events' in value;

/** What is wrong with a would-be declaration; empty when it is one. */
function problemsOf(d: Unknown): string[] {
  const problems: string[] = [];
  const text = (field: string): void => {
    if (typeof d[field] !== 'string') problems.push(`${field} must be a string`);
  };
  if (typeof d.gateway !== 'string' || !NAME.test(d.gateway))
    problems.push('gateway must be a name of lower-case letters, digits and dashes');
  text('summary');
  text('amountHelp');
  text('transactionHelp');
  if (d.plugin !== undefined && (typeof d.plugin !== 'string' || d.plugin === ''))
    problems.push('plugin, when given, must be a package name');
  if (typeof d.setup !== 'function') problems.push('setup must be a function');
  if (d.urlOptional !== undefined && typeof d.urlOptional !== 'function')
    problems.push('urlOptional, when given, must be a function');
  if (!isObject(d.options)) problems.push('options must be an object (of flags)');
  else
    for (const [flag, option] of Object.entries(d.options))
      if (
        !NAME.test(flag) ||
        !isObject(option) ||
        (option.type !== 'string' && option.type !== 'boolean') ||
        typeof option.help !== 'string' ||
        (option.value !== undefined && typeof option.value !== 'string')
      )
        problems.push(`option "${flag}" must be { type: 'string' | 'boolean', help, value? }`);
  if (!isObject(d.events) || Object.keys(d.events).length === 0)
    problems.push('events must be an object with at least one event');
  else
    for (const [name, event] of Object.entries(d.events))
      if (
        !NAME.test(name) ||
        !isObject(event) ||
        typeof event.summary !== 'string' ||
        typeof event.build !== 'function'
      )
        problems.push(`event "${name}" must be { summary, build(context, input) }`);
  return problems;
}

/**
 * The declarations a module exports: the module itself (`module.exports = declaration`), its
 * default export, or any named export; a CommonJS module's exports seen through its default too.
 */
function declarationsIn(namespace: unknown): Unknown[] {
  const found = new Set<Unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (looksLikeDeclaration(value)) found.add(value);
    else if (isObject(value) && depth < 2)
      for (const key of Object.keys(value)) visit(value[key], depth + 1);
  };
  visit(namespace, 0);
  return [...found];
}

/** `import()`, or `require()` where the host has no dynamic import (jest without vm modules). */
async function load(file: string): Promise<unknown> {
  try {
    return (await import(pathToFileURL(file).href)) as unknown;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING')) throw error;
    return require(file) as unknown;
  }
}

/** Loads and checks `--fixtures <spec>`; every problem is a usage error naming the module. */
export async function loadFixtures(
  spec: string,
  cwd: string,
  builtins: readonly SendGateway<unknown>[],
): Promise<LoadedFixtures> {
  if (spec.trim() === '') throw new UsageError('--fixtures is empty');
  const file = path.resolve(cwd, spec);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`--fixtures ${spec}: no such file (${file})`);
  if (!stat.isFile()) throw new UsageError(`--fixtures ${spec}: not a file (${file})`);
  let namespace: unknown;
  try {
    namespace = await load(file);
  } catch (error) {
    // Its first line: a require stack adds nothing (and the error may come from another realm).
    const { message } = error as { message?: unknown };
    const first = (typeof message === 'string' ? message : String(error)).split('\n')[0];
    throw new UsageError(`--fixtures ${spec} could not be loaded: ${first}`);
  }
  const candidates = declarationsIn(namespace);
  if (candidates.length === 0)
    throw new UsageError(
      `--fixtures ${spec} exports no gateway declaration: export one made with ` +
        'defineSendGateway({ gateway, summary, events, ... }) from @payhook/testing',
    );
  const gateways: SendGateway<unknown>[] = [];
  for (const candidate of candidates) {
    const problems = problemsOf(candidate);
    const name = typeof candidate.gateway === 'string' ? `"${candidate.gateway}"` : 'exported';
    if (problems.length > 0)
      throw new UsageError(
        `--fixtures ${spec}: the ${name} declaration is not valid: ${problems.join('; ')}`,
      );
    const gateway = candidate as unknown as SendGateway<unknown>;
    if (builtins.some((g) => g.gateway === gateway.gateway))
      throw new UsageError(
        `--fixtures ${spec}: gateway "${gateway.gateway}" is built in; give yours another name`,
      );
    if (gateways.some((g) => g.gateway === gateway.gateway))
      throw new UsageError(`--fixtures ${spec} declares gateway "${gateway.gateway}" twice`);
    gateways.push(gateway);
  }
  try {
    gatewayOptions([...builtins, ...gateways]);
  } catch (error) {
    throw new UsageError(`--fixtures ${spec}: ${(error as Error).message}`);
  }
  return { spec, file, gateways };
}

/**
 * A fixtures module's `plugin`, resolved from the module's directory (where its author installed
 * it): absent, the usage error says what to install.
 */
export function checkFixturesPlugin(fixtures: LoadedFixtures, plugin: string, user: string): void {
  try {
    createRequire(fixtures.file).resolve(plugin);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Only "not found" means absent: an ESM-only package may just refuse require.resolve.
    if (code === 'MODULE_NOT_FOUND')
      throw new UsageError(`${user} needs ${plugin}: npm install -D ${plugin}`);
  }
}
