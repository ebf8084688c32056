/**
 * JSON text indented token by token: every token is copied as it was sent, so `100.10` stays
 * `100.10`, `1e2` stays `1e2`, `-0.0` and integers beyond 2^53 keep every digit. A payments tool must
 * never show an amount the gateway did not send (JSON.parse + stringify would print `100.1`).
 *
 * One pass over the text with an explicit stack (no recursion: a deeply nested body cannot
 * overflow the call stack), so it is linear in the input. Indentation stops growing after
 * MAX_INDENT levels, which keeps the output linear in the input too. Returns undefined when the
 * text is not exactly one JSON value.
 */
const MAX_INDENT = 32;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const SPACE = /[ \t\n\r]*/y;
const INDENTS = Array.from({ length: MAX_INDENT + 1 }, (_, depth) => `\n${'  '.repeat(depth)}`);

/** What may come next. */
type Expect = 'value' | 'key' | 'colon' | 'next';

export function prettyJson(text: string): string | undefined {
  const out: string[] = [];
  const stack: Array<'{' | '['> = [];
  let expect: Expect = 'value';
  let opened = false; // the last token opened a container: `{}` and `[]` stay on one line
  let i = skipSpace(text, 0);
  const newline = (): void => void out.push(INDENTS[Math.min(stack.length, MAX_INDENT)]!);
  while (i < text.length) {
    const c = text[i]!;
    const closes = (c === '}' || c === ']') && stack.length > 0;
    if (closes) {
      const inObject = stack[stack.length - 1] === '{';
      if (c !== (inObject ? '}' : ']')) return undefined;
      // After a value, or right after the opening bracket: never after a comma or a colon.
      if (!(expect === 'next' || (opened && expect === (inObject ? 'key' : 'value'))))
        return undefined;
      stack.pop();
      if (!opened) newline();
      out.push(c);
      expect = 'next';
    } else if (expect === 'next' && c === ',' && stack.length > 0) {
      out.push(',');
      newline();
      expect = stack[stack.length - 1] === '{' ? 'key' : 'value';
    } else if (expect === 'colon' && c === ':') {
      out.push(': ');
      expect = 'value';
    } else {
      if (opened) newline();
      const end = valueEnd(text, i, expect);
      if (end === undefined) return undefined;
      out.push(text.slice(i, end));
      if (c === '{' || c === '[') stack.push(c);
      opened = c === '{' || c === '[';
      expect = opened ? (c === '{' ? 'key' : 'value') : expect === 'key' ? 'colon' : 'next';
      i = skipSpace(text, end);
      continue;
    }
    opened = false;
    i = skipSpace(text, i + 1);
  }
  return stack.length === 0 && expect === 'next' ? out.join('') : undefined;
}

/** Where the token at `i` ends when it is what `expect` allows (a key is a string). */
function valueEnd(text: string, i: number, expect: Expect): number | undefined {
  const c = text[i];
  if (c === '"') return expect === 'value' || expect === 'key' ? stringEnd(text, i) : undefined;
  if (expect !== 'value') return undefined;
  if (c === '{' || c === '[') return i + 1;
  const token = c === 't' || c === 'f' || c === 'n' ? LITERAL : NUMBER;
  token.lastIndex = i;
  return token.test(text) ? token.lastIndex : undefined;
}

/** The index after the closing quote; undefined for an unterminated string or a raw control char. */
function stringEnd(text: string, i: number): number | undefined {
  for (let j = i + 1; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code < 0x20) return undefined;
    if (code === 0x5c) {
      const escape = text[j + 1];
      if (escape === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return undefined;
        j += 5;
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) j += 1;
      else return undefined;
    }
  }
  return undefined;
}

function skipSpace(text: string, i: number): number {
  const code = text.charCodeAt(i);
  // Most tokens are not followed by whitespace: no regex run for them.
  if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return i;
  SPACE.lastIndex = i;
  SPACE.test(text);
  return SPACE.lastIndex;
}
