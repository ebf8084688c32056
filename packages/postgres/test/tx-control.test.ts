import { transactionControl } from '../src/tx-control';

/**
 * What `tx.query` refuses: statements that end, nest or reshape the claim's transaction, read the
 * way PostgreSQL's lexer reads them (a `;` or a keyword inside a string or a comment counts for
 * nothing). The real-PostgreSQL effect is in hub.test.ts ("a listener that tries to leave…").
 */
describe('transactionControl', () => {
  it.each([
    'COMMIT',
    'commit',
    '  Commit  ;',
    'END',
    'END TRANSACTION',
    'ROLLBACK',
    'rollback to savepoint a',
    'ABORT',
    'BEGIN',
    'begin isolation level serializable',
    'START TRANSACTION',
    'SAVEPOINT s1',
    'RELEASE SAVEPOINT s1',
    'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
    "PREPARE TRANSACTION 'x'",
    'SET standard_conforming_strings = off',
    'SET search_path TO elsewhere',
    'RESET ALL',
    '/* a comment */ COMMIT',
    '-- a line comment\nCOMMIT',
    '/* nested /* comment */ still */ COMMIT',
  ])('refuses %j', (sql) => {
    expect(transactionControl(sql)).toMatch(/controls the transaction|changes the session|ends it/);
  });

  it.each([
    "ROLLBACK; UPDATE orders SET paid_count = paid_count + 100 WHERE id = 'o1'",
    "UPDATE orders SET paid = true WHERE id = 'o1'; COMMIT",
    'SELECT 1; SELECT 2',
    "SELECT 'a;b'; SELECT 2",
    'SELECT 1;/* */SELECT 2',
    // PostgreSQL ends a line comment at \r too.
    'SELECT 1 --\r; COMMIT; --\n',
    // A long identifier may end in `$$`: it is not a dollar quote.
    `SELECT 1 AS ${'a'.repeat(64)}$$; COMMIT; SELECT 1 AS b$$`,
    // With standard_conforming_strings off, '\'' is one quote: read both ways.
    "SELECT '\\''; COMMIT; --'",
    // And with it on, '\' is a whole string.
    "SELECT '\\'; COMMIT; --'",
  ])('refuses several statements in one string: %j', (sql) => {
    expect(transactionControl(sql)).toBe('more than one statement in one string');
  });

  it.each([
    "UPDATE orders SET paid_count = paid_count + 1 WHERE id = 'o1'",
    'UPDATE orders SET paid_count = paid_count + 1 WHERE id = $1',
    'SELECT 1;',
    'SELECT 1 ;  -- trailing comment; COMMIT',
    "SELECT 'COMMIT; ROLLBACK'",
    "SELECT E'it\\'s; COMMIT'",
    'SELECT "COMMIT" FROM t',
    'SELECT $$ ; COMMIT $$',
    'SELECT $tag$ ; COMMIT $tag$',
    "INSERT INTO t (note) VALUES ('begin; end')",
    '/* COMMIT; */ SELECT 1',
    'SET LOCAL statement_timeout = 1000',
    'PREPARE q AS SELECT 1',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'DO $$ BEGIN PERFORM 1; END $$',
  ])('lets %j run', (sql) => {
    expect(transactionControl(sql)).toBeUndefined();
  });

  it('is linear in the text: 1 MiB of quotes and semicolons inside one string', () => {
    const big = `SELECT '${"x;''".repeat(262_144)}'`;
    const started = process.hrtime.bigint();
    expect(transactionControl(big)).toBeUndefined();
    // A quadratic scan of 1 MiB would take minutes; linear takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
  });
});
