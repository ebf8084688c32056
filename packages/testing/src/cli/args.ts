import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@payhook/core';
import { MissingPluginError } from '../plugins';
import { UsageError } from './errors';
import type { CliIo } from './io';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The options every command takes. */
export const COMMON = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** Strict parseArgs whose complaints are usage errors (exit 2). */
export function parse<O extends OptionsConfig>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A command's arguments with the common options, or undefined when they asked for `--help`,
 * which is then printed.
 */
export function parseCommand<O extends OptionsConfig>(
  args: string[],
  options: O,
  help: () => string,
  io: Pick<CliIo, 'stdout'>,
): Parsed<O & typeof COMMON> | undefined {
  const parsed = parse(args, { ...COMMON, ...options });
  if (!(parsed.values as { help?: boolean }).help) return parsed;
  io.stdout(help());
  return undefined;
}

/** An option's value and how the user gave it: the flag, or else the environment variable. */
export interface Given {
  value: string | undefined;
  /** `--api-key` or `CASHY_API_KEY`: what error messages name. */
  name: string;
}

export function given(
  flag: string,
  value: string | undefined,
  envName: string,
  io: Pick<CliIo, 'env'>,
): Given {
  if (value !== undefined) return { value, name: flag };
  return { value: io.env[envName], name: envName };
}

export function nonEmpty(option: Given): string | undefined {
  if (option.value !== undefined && option.value.trim() === '')
    throw new UsageError(`${option.name} is empty`);
  return option.value;
}

/** `option "privateKey" is not ...` → `is not ...`: the problem, without the library's name. */
function problemOf(error: ConfigError): string {
  return error.message.replace(/^.*?: option "[^"]*" /, '');
}

/**
 * Runs a step whose only user input is one option, so that a plugin's ConfigError about it names
 * what the user typed (`--key`), not the library's option (`privateKey`).
 */
export function about<T>(name: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ConfigError && !(error instanceof MissingPluginError))
      throw new UsageError(`${name} ${problemOf(error)}`);
    throw error;
  }
}
