import { ConfigError, ProviderConfigError } from './errors';
import { silentLogger, type Logger } from './logger';

/**
 * Option checks every gateway plugin needs at construction. Each throws a ProviderConfigError
 * naming the option, so a bad setting stops the app at boot rather than at the first payment.
 */

/**
 * An http(s) URL, parsed: returns a `URL` object, not a string (use `.href`, or `new URL(path,
 * checked)` to join a path); anything else is a ProviderConfigError naming the option.
 */
export function checkHttpUrl(value: unknown, option: string, source?: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ProviderConfigError(option, 'must be an http(s) URL', { source });
  }
  return url;
}

/** What `checkWholeNumber` accepts: at least `min` (1 by default) of `unit`. */
export interface WholeNumberRule {
  min?: number;
  unit?: string;
  /** The package whose option it is, named in the error. */
  source?: string;
  /** A gateway plugin's option: the error is a ProviderConfigError rather than a ConfigError. */
  provider?: boolean;
}

/**
 * A whole number of at least `rule.min` (1 by default), or `fallback` when absent: the one check
 * behind every timeout, lease, cache size and retry count of the hub and its plugins.
 */
export function checkWholeNumber(
  value: unknown,
  fallback: number,
  option: string,
  rule: WholeNumberRule = {},
): number {
  const { min = 1, unit, source, provider = false } = rule;
  const v = value ?? fallback;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) return v;
  const what = `${min === 0 ? '0 or a positive' : 'a positive'} whole number${unit ? ` of ${unit}` : ''}`;
  throw new (provider ? ProviderConfigError : ConfigError)(option, `must be ${what}`, { source });
}

/** A positive whole number of milliseconds, or `fallback` when absent. */
export function checkPositiveMs(
  value: unknown,
  fallback: number,
  option: string,
  source?: string,
): number {
  return checkWholeNumber(value, fallback, option, {
    unit: 'milliseconds',
    source,
    provider: true,
  });
}

/** A non-empty string (a key, an id); `what` says where the merchant finds it. */
export function checkRequiredText(
  value: unknown,
  option: string,
  what: string,
  source?: string,
): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ProviderConfigError(option, `is required: ${what}`, { source });
  }
  return value;
}

/** What `optionFailer` returns: throws the error naming `option`; `cause` is kept when given. */
export type OptionFailer = (option: string, problem: string, cause?: unknown) => never;

/** How `optionFailer` builds its errors. */
export interface OptionFailerRule {
  /** Put before every option name, e.g. `'reconnect.'` for the options of a nested object. */
  prefix?: string;
  /** A gateway plugin's option (the default): a ProviderConfigError; `false`: a ConfigError. */
  provider?: boolean;
}

/**
 * The `fail` of a plugin's options code: `fail(option, problem, cause?)` throws a
 * ProviderConfigError (or, with `provider: false`, a ConfigError) `option "<prefix><option>"
 * <problem>` from `source`. Declare it with its type, `const fail: OptionFailer = ...`, so a call
 * as a statement narrows like a `throw`.
 */
export function optionFailer(source: string, rule: OptionFailerRule = {}): OptionFailer {
  const { prefix = '', provider = true } = rule;
  const ErrorClass = provider ? ProviderConfigError : ConfigError;
  return (option, problem, cause) => {
    throw new ErrorClass(`${prefix}${option}`, problem, { source, cause });
  };
}

/** Deprecated options already warned about in this process: `source` and option name. */
const warnedDeprecations = new Set<string>();

/**
 * Warns once per process that `option` of `source` is deprecated, naming its `replacement`:
 * through `logger.warn` when given (the hub's, for a plugin built with one) and not the silent
 * default, else
 * `process.emitWarning` with the code `PAYHOOK_DEPRECATED_OPTION`. Returns whether it warned.
 *
 * @example warnDeprecatedOption('@payhook/payin', 'baseUrl', 'statusQuery.baseUrl', hub.logger)
 */
export function warnDeprecatedOption(
  source: string,
  option: string,
  replacement: string,
  logger?: Pick<Logger, 'warn'>,
): boolean {
  const key = `${source}\u0000${option}`;
  if (warnedDeprecations.has(key)) return false;
  warnedDeprecations.add(key);
  const message = `${source}: the option ${option} is deprecated: give ${replacement} instead`;
  // The hub's default logger is silent: a warning sent there would never be seen.
  if (logger && logger !== silentLogger) logger.warn({ source, option, replacement }, message);
  else
    process.emitWarning(message, { type: 'DeprecationWarning', code: 'PAYHOOK_DEPRECATED_OPTION' });
  return true;
}

/**
 * Moves deprecated top-level options into their new place, `into` (for example `statusQuery`):
 * `renames` maps each old name to its name inside `into`. The old names keep working, with a
 * one-time warning each ({@link warnDeprecatedOption}); giving an old name and `into` together is a
 * ProviderConfigError. Returns the options without the old names, or `options` itself when none is
 * given.
 *
 * @example moveDeprecatedOptions(options, 'statusQuery', { queryTimeoutMs: 'timeoutMs' }, SOURCE)
 */
export function moveDeprecatedOptions<T extends object>(
  options: T,
  into: string,
  renames: Readonly<Record<string, string>>,
  source: string,
  logger?: Pick<Logger, 'warn'>,
): T {
  if (!options || typeof options !== 'object') return options;
  const given = options as Record<string, unknown>;
  const old = Object.keys(renames).filter((name) => given[name] !== undefined);
  if (old.length === 0) return options;
  if (given[into] !== undefined)
    throw new ProviderConfigError(
      old[0]!,
      `is the deprecated spelling of ${into}.${renames[old[0]!]}: give ${into} only`,
      { source },
    );
  const moved: Record<string, unknown> = {};
  const rest: Record<string, unknown> = { ...given };
  for (const name of old) {
    warnDeprecatedOption(source, name, `${into}.${renames[name]}`, logger);
    moved[renames[name]!] = given[name];
    delete rest[name];
  }
  return { ...rest, [into]: moved } as T;
}
