/**
 * What a listener may not run through `tx`: anything that ends, nests or reshapes the claim's
 * transaction, or changes the session (it would outlive the claim on the pooled connection). A
 * `COMMIT` (or `ROLLBACK; UPDATE …` in one string) would commit the listener's writes outside the
 * claim, so a redelivery after a later failure would run them again.
 */
const CONTROL = new Set([
  'BEGIN',
  'START',
  'COMMIT',
  'END',
  'ROLLBACK',
  'ABORT',
  'SAVEPOINT',
  'RELEASE',
  'RESET',
]);

/** Identifier characters: PostgreSQL takes every non-ASCII character as a letter. */
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * Why `text` must not run inside the claim's transaction, or undefined when it may. Read the way
 * PostgreSQL's lexer reads it for what matters here: comments, quoted strings, quoted identifiers
 * and dollar-quoted bodies are skipped, so a `;` or a keyword inside them counts for nothing.
 * Whether a backslash escapes a quote in a plain '…' string depends on the session's
 * standard_conforming_strings (a function call can change it), so the text is read both ways and
 * refused when either reading finds a problem. At most two passes, each linear in the text.
 */
export function transactionControl(text: string): string | undefined {
  const plain = readStatements(text, false);
  // Without a backslash the two readings are the same: the second pass is paid only when needed.
  return plain ?? (text.includes('\\') ? readStatements(text, true) : undefined);
}

function readStatements(text: string, backslashEscapes: boolean): string | undefined {
  const words: string[] = [];
  let statements = 0;
  let inStatement = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    // Comments and blanks separate tokens and start no statement.
    const afterComment = skipComment(text, i);
    if (afterComment > i || c === ';' || isBlank(c)) {
      if (c === ';') inStatement = false;
      i = Math.max(afterComment, i + 1);
      continue;
    }
    const skipped = skipQuoted(text, i, backslashEscapes);
    if (!inStatement) statements++;
    inStatement = true;
    if (statements > 1) return 'more than one statement in one string';
    if (skipped > i) {
      i = skipped;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text)?.[0];
    if (word) {
      if (words.length < 2) words.push(word.toUpperCase());
      i += word.length;
    } else i++;
  }
  return refusal(words[0], words[1]);
}

/** PostgreSQL's blanks: space, tab, newline, carriage return, form feed, vertical tab. */
function isBlank(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
}

function refusal(first: string | undefined, second: string | undefined): string | undefined {
  if (first && CONTROL.has(first)) return `${first} controls the transaction or the session`;
  // SET LOCAL ends with the transaction; any other SET outlives the claim on the pooled client.
  if (first === 'SET' && second !== 'LOCAL')
    return `SET ${second ?? ''} changes the session beyond the claim (use SET LOCAL)`;
  if (first === 'PREPARE' && second === 'TRANSACTION') return 'PREPARE TRANSACTION ends it';
  return undefined;
}

/** Past a comment at `i`; else `i`. A line comment ends at either line break (\r too). */
function skipComment(text: string, i: number): number {
  const c = text[i];
  const next = text[i + 1];
  if (c === '-' && next === '-') return skipLineComment(text, i);
  if (c === '/' && next === '*') return skipBlockComment(text, i);
  return i;
}

/** Past a quoted string, a quoted identifier or a dollar-quoted body at `i`; else `i`. */
function skipQuoted(text: string, i: number, backslashEscapes: boolean): number {
  const c = text[i];
  if (c === "'") return skipQuote(text, i, "'", backslashEscapes || isEscapeString(text, i));
  if (c === '"') return skipQuote(text, i, '"', false);
  // `$` inside a word belongs to the identifier (`a$$`), and `$1` is a parameter, not a quote.
  if (c === '$' && !IDENT_CHAR.test(text[i - 1] ?? ' ')) {
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(text)?.[0];
    if (tag) {
      const end = text.indexOf(tag, i + tag.length);
      return end === -1 ? text.length : end + tag.length;
    }
  }
  return i;
}

function skipLineComment(text: string, i: number): number {
  for (let j = i + 2; j < text.length; j++) if (text[j] === '\n' || text[j] === '\r') return j + 1;
  return text.length;
}

/** E'…' strings take backslash escapes; the E must stand alone (not end an identifier). */
function isEscapeString(text: string, quote: number): boolean {
  const before = text[quote - 1];
  return (before === 'E' || before === 'e') && !IDENT_CHAR.test(text[quote - 2] ?? ' ');
}

function skipQuote(text: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (backslash && c === '\\') j += 2;
    else if (c === quote && text[j + 1] === quote) j += 2;
    else if (c === quote) return j + 1;
    else j++;
  }
  return text.length;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text[j] === '/' && text[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (text[j] === '*' && text[j + 1] === '/') {
      j += 2;
      if (--depth === 0) return j;
    } else j++;
  }
  return text.length;
}
