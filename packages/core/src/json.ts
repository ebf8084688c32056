import { isUtf8 } from 'node:buffer';
import { PayloadError } from './errors';

export interface ParseJsonOptions {
  /**
   * `number` (default): JSON numbers become JS numbers (JSON.parse, the fast path).
   * `text`: every JSON number is kept as its exact source text ("100.10", "12345678901234567890"),
   * for gateways whose amounts or references must not pass through a binary float, or whose
   * signature covers the number as written.
   * `json-number`: every JSON number becomes a `JsonNumber` holding its exact source text, for
   * signature schemes that must tell the number 1.50 from the string "1.50".
   */
  numbers?: 'number' | 'text' | 'json-number';
  /** Nesting deeper than this is refused (default 32: no gateway payload comes close). */
  maxDepth?: number;
  /** Package name for error messages. */
  source?: string;
  /** Name of what is parsed, for messages ("body", "param"). */
  what?: string;
}

/**
 * Keys that can reach an object's prototype when a payload is later merged or spread. No gateway
 * sends them, so a payload that carries one is refused outright rather than sanitised.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a JSON payload defensively: bytes must be UTF-8, nesting is bounded, prototype keys are
 * refused. Every failure is a PayloadError (400) that says what is wrong.
 */
export function parseJson(input: Buffer | string, options: ParseJsonOptions = {}): unknown {
  const source = options.source;
  const what = options.what ?? 'body';
  const maxDepth = options.maxDepth ?? 32;
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    if (!isUtf8(input)) {
      throw new PayloadError(`${what} is not valid UTF-8`, {
        code: 'ERR_PAYLOAD_MALFORMED',
        source,
      });
    }
    text = input.toString('utf8');
  }
  if (options.numbers === 'text') {
    // Numbers are quoted in the text, then the native parser runs: several times faster than
    // parsing in JS, and each number keeps its exact source text as a string.
    return parseNative(quoteNumbers(text), maxDepth, source, what);
  }
  if (options.numbers === 'json-number') {
    return new JsonNumberParser(text, maxDepth, source, what).parseDocument();
  }
  return parseNative(text, maxDepth, source, what);
}

/**
 * Wraps every number token outside strings in quotes, in one left-to-right pass: each character is
 * looked at once, so an unsigned body cannot make this quadratic (a regex that retries an
 * unterminated string from every quote was: 64 KiB of `"\"\"…` took over a second). Quotes are
 * added in pairs, so a document with an unterminated string stays invalid.
 */
function quoteNumbers(text: string): string {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = endOfString(text, i + 1);
    } else if (isDigit(c) || (c === 0x2d && isDigit(text.charCodeAt(i + 1)))) {
      // A minus that no digit follows starts no number (JSON.parse refuses it): no regex run for
      // it, so 64 KiB of minus signs costs a character test each, not a regex each.
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) {
        i++;
        continue;
      }
      out += `${text.slice(copied, i)}"${m[0]}"`;
      i += m[0].length;
      copied = i;
    } else i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The index just past the closing quote of the string whose body starts at `i` (or past the end). */
function endOfString(text: string, i: number): number {
  const q = closingQuote(text, i);
  return q === -1 ? text.length : q + 1;
}

/**
 * The index of the quote that closes the string whose body starts at `i`, or -1 when none does.
 * indexOf jumps to each candidate quote natively instead of looking at every character in JS: a
 * 720-byte gateway body is mostly string content. For the bench's payin body, parseJson with
 * `numbers: 'text'` went from 6.9 to 5.0 µs CPU and `'json-number'` from 6.5 to 5.6 µs (medians of
 * 6 × 30,000 parses, old and new build alternating in one process). A quote closes the string when
 * an even number of backslashes precedes it; each backslash is counted once, so the scan stays
 * linear.
 */
function closingQuote(text: string, i: number): number {
  for (;;) {
    const q = text.indexOf('"', i);
    if (q === -1) return -1;
    let backslashes = 0;
    for (let k = q - 1; k >= i && text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    i = q + 1;
  }
}

function parseNative(
  text: string,
  maxDepth: number,
  source: string | undefined,
  what: string,
): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PayloadError(`${what} is not valid JSON (${(error as Error).message})`, {
      code: 'ERR_PAYLOAD_MALFORMED',
      source,
    });
  }
  // Valid UTF-8 text holds no lone surrogate; only a \uD8xx-\uDFxx escape can make one.
  walkJson(value, maxDepth, source, what, !text.isWellFormed() || SURROGATE_ESCAPE.test(text));
  return value;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The checks parseJson makes, for a tree some transport already decoded (a Socket.IO message):
 * bounded depth and no prototype keys. Iterative, so hostile nesting cannot overflow the stack.
 */
export function assertSafeJson(
  root: unknown,
  options: Omit<ParseJsonOptions, 'numbers'> = {},
): void {
  walkJson(root, options.maxDepth ?? 32, options.source, options.what ?? 'body', true);
}

/**
 * Bounded depth, no prototype keys and, when asked, only well-formed strings: a lone surrogate
 * encodes to the same UTF-8 bytes as U+FFFD, so a signature over the re-encoded text would verify
 * for several different parsed ids.
 */
function walkJson(
  root: unknown,
  maxDepth: number,
  source: string | undefined,
  what: string,
  checkStrings: boolean,
): void {
  const check = (text: string): void => {
    if (checkStrings && !text.isWellFormed()) throw loneSurrogate(source, what);
  };
  if (typeof root === 'string') return check(root);
  if (root === null || typeof root !== 'object') return;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > maxDepth) throw tooDeep(maxDepth, source, what);
    if (Array.isArray(value)) {
      for (const item of value)
        if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
        else if (typeof item === 'string') check(item);
    } else {
      for (const key of Object.keys(value as object)) {
        if (FORBIDDEN_KEYS.has(key)) throw forbiddenKey(key, source, what);
        check(key);
        const item = (value as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
        else if (typeof item === 'string') check(item);
      }
    }
  }
}

function loneSurrogate(source: string | undefined, what: string): PayloadError {
  return new PayloadError(
    `${what} holds a string with a lone surrogate (not well-formed Unicode)`,
    {
      code: 'ERR_PAYLOAD_MALFORMED',
      source,
    },
  );
}

function tooDeep(maxDepth: number, source: string | undefined, what: string): PayloadError {
  return new PayloadError(`${what} nests deeper than ${maxDepth} levels`, {
    code: 'ERR_PAYLOAD_MALFORMED',
    source,
  });
}

function forbiddenKey(key: string, source: string | undefined, what: string): PayloadError {
  return new PayloadError(`${what} carries the forbidden key "${key}"`, {
    code: 'ERR_PAYLOAD_MALFORMED',
    source,
  });
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** The first backslash or control character of a string's raw body (JSON allows neither raw). */
// eslint-disable-next-line no-control-regex
const RAW_STRING_SPECIAL = /[\u0000-\u001f\\]/;

/** A small recursive-descent JSON parser that turns every number into a JsonNumber (its exact text). */
class JsonNumberParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
    private readonly source: string | undefined,
    private readonly what: string,
  ) {}

  parseDocument(): unknown {
    const value = this.value(1);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  private fail(problem: string): never {
    throw new PayloadError(`${this.what} is not valid JSON (${problem} at position ${this.i})`, {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: this.source,
    });
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): unknown {
    this.ws();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return value;
    }
    return this.fail('unexpected token');
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) return this.fail(this.i >= this.s.length ? 'unexpected end' : 'unexpected token');
    this.i += m[0].length;
    return new JsonNumber(m[0]);
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    // The closing quote found natively (see closingQuote), then one regex pass for what JSON
    // forbids raw in a string: the JS loop over every character was most of this parser's time.
    const end = closingQuote(s, start + 1);
    if (end === -1) {
      this.i = s.length;
      this.fail('unterminated string');
    }
    const raw = s.slice(start + 1, end);
    const special = RAW_STRING_SPECIAL.exec(raw);
    if (special !== null && special[0] !== '\\') {
      this.i = start + 1 + special.index;
      this.fail('control character in string');
    }
    this.i = end + 1;
    if (special === null) {
      if (!raw.isWellFormed()) throw loneSurrogate(this.source, this.what);
      return raw;
    }
    // Escapes: the native parser decodes them (and refuses a bad one); control characters after
    // the first backslash are refused by it too.
    let text: string;
    try {
      text = JSON.parse(s.slice(start, this.i)) as string;
    } catch {
      this.i = start;
      return this.fail('bad escape in string');
    }
    if (!text.isWellFormed()) throw loneSurrogate(this.source, this.what);
    return text;
  }

  private array(depth: number): unknown[] {
    if (depth > this.maxDepth) throw tooDeep(this.maxDepth, this.source, this.what);
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected , or ]');
      }
    }
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) throw tooDeep(this.maxDepth, this.source, this.what);
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const key = this.string();
      if (FORBIDDEN_KEYS.has(key)) throw forbiddenKey(key, this.source, this.what);
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected :');
      this.i++;
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected , or }');
      }
    }
  }
}

const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A JSON number carried as its exact source text: `1.50` stays `1.50` (a JS number cannot keep the
 * trailing zero, nor more than 15-17 significant digits). Produced by parseJson's
 * `numbers: 'json-number'`, written verbatim by stringifyJson.
 */
export class JsonNumber {
  readonly text: string;
  constructor(text: string) {
    if (typeof text !== 'string' || !NUMBER_TEXT.test(text)) {
      throw new TypeError(
        `@payhook/core: ${JSON.stringify(String(text)).slice(0, 40)} is not JSON number text`,
      );
    }
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

/** `jsonNumber('100.10')`: a number written as exactly that text by stringifyJson. */
export const jsonNumber = (text: string): JsonNumber => new JsonNumber(text);

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | JsonNumber
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * Compact JSON, as gateways write it: JsonNumber verbatim, object keys in the order given (or
 * sorted), undefined members left out like JSON.stringify does. Used to produce bodies byte for byte
 * and for signature strings that embed JSON.
 */
export function stringifyJson(value: JsonValue, options: { sortKeys?: boolean } = {}): string {
  if (value === undefined)
    throw new TypeError('@payhook/core: undefined cannot be written as JSON');
  return write(value, options.sortKeys === true);
}

function write(value: JsonValue, sortKeys: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new TypeError(`@payhook/core: ${value} cannot be written as JSON`);
    return String(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${(value as readonly JsonValue[]).map((v) => write(v, sortKeys)).join(',')}]`;
  const object = value as { readonly [key: string]: JsonValue };
  const keys = Object.keys(object).filter((k) => object[k] !== undefined);
  if (sortKeys) keys.sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(object[k], sortKeys)}`).join(',')}}`;
}
