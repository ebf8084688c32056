/**
 * What a listener may not run through `tx`: anything that ends, nests or reshapes the claim's
 * transaction. A `COMMIT` (or `ROLLBACK; UPDATE …` in one string) would commit the listener's
 * writes outside the claim, so a redelivery after a later failure would run them again.
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
]);

/**
 * Why `text` must not run inside the claim's transaction, or undefined when it may. Reads the
 * statement the way PostgreSQL's lexer does for what matters here: comments, quoted strings,
 * quoted identifiers and dollar-quoted bodies are skipped, so a `;` or a keyword inside them counts
 * for nothing. One pass, linear in the text.
 */
export function transactionControl(text: string): string | undefined {
  const words: string[] = [];
  let statements = 0;
  let inStatement = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const skipped = skipQuoted(text, i);
    if (skipped > i) {
      if (!inStatement) statements++;
      inStatement = true;
      i = skipped;
      continue;
    }
    if (c === ';') {
      inStatement = false;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (!inStatement) statements++;
    inStatement = true;
    if (statements > 1) return 'more than one statement in one string';
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i, i + 64))?.[0];
    if (word) {
      if (statements === 1 && words.length < 2) words.push(word.toUpperCase());
      i += word.length;
    } else i++;
  }
  const [first, second] = words;
  if (first && CONTROL.has(first)) return `${first} controls the transaction`;
  if (first === 'SET' && (second === 'TRANSACTION' || second === 'SESSION'))
    return `SET ${second} changes the transaction`;
  if (first === 'PREPARE' && second === 'TRANSACTION') return 'PREPARE TRANSACTION ends it';
  return undefined;
}

/** Past a comment, a quoted string, a quoted identifier or a dollar-quoted body at `i`; else `i`. */
function skipQuoted(text: string, i: number): number {
  const c = text[i];
  const next = text[i + 1];
  if (c === '-' && next === '-') {
    const end = text.indexOf('\n', i);
    return end === -1 ? text.length : end + 1;
  }
  if (c === '/' && next === '*') return skipBlockComment(text, i);
  if (c === "'") return skipQuote(text, i, "'", isEscapeString(text, i));
  if (c === '"') return skipQuote(text, i, '"', false);
  if (c === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66))?.[0];
    // `$1` is a parameter, not a quote: the tag has no digit first.
    if (tag) {
      const end = text.indexOf(tag, i + tag.length);
      return end === -1 ? text.length : end + tag.length;
    }
  }
  return i;
}

/** E'…' strings take backslash escapes; the E must stand alone (not end an identifier). */
function isEscapeString(text: string, quote: number): boolean {
  const before = text[quote - 1];
  return (before === 'E' || before === 'e') && !/[A-Za-z0-9_$]/.test(text[quote - 2] ?? ' ');
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
