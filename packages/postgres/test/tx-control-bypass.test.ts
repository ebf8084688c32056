import { createPaymentHub } from '@payhook/core';
import { createPostgresStore } from '../src';
import { transactionControl } from '../src/tx-control';
import { insertOrders, paidCounts, testPool, useTestSchema } from './support/db';
import { deliver } from './support/deliver';

/**
 * Found by a hostile review: where tx-control's lexer read SQL differently from PostgreSQL, a
 * listener's `tx.query` could COMMIT the claim's transaction mid-listener, its write committed
 * outside the claim and run again by each redelivery (3 deliveries: paid 3 times). Each escape is
 * now refused before it reaches PostgreSQL: the write rolls back with the claim, every time.
 */
const escapes = (): Array<[string, string[]]> => [
  // PostgreSQL ends a `--` comment at \r as well as \n; the lexer only at \n.
  ['line comment ended by \\r', ['SELECT 1 --\r; COMMIT; --\n']],
  // A word longer than 64 characters: the lexer reads 64, then takes the identifier's `$$` for a
  // dollar quote and skips to the next `$$`; PostgreSQL reads one identifier.
  [
    'identifier longer than 64 chars ending in $$',
    [`SELECT 1 AS ${'a'.repeat(64)}$$; COMMIT; SELECT 1 AS b$$`],
  ],
  // standard_conforming_strings = off (a plain SET, allowed): '\'' is one quote to PostgreSQL,
  // the lexer reads '' as a doubled quote and stays in the string up to the `--'`.
  [
    'standard_conforming_strings off',
    ['SET standard_conforming_strings = off', "SELECT '\\''; COMMIT; --'"],
  ],
];

const db = useTestSchema('review_txc');

describe('tx-control lexer bypasses', () => {
  it.each(escapes())('the lexer refuses the escape (%s)', (_label, statements) => {
    expect(statements.some((s) => transactionControl(s) !== undefined)).toBe(true);
  });

  it.each(escapes().map(([label, s], i) => [label, s, `B${i}`] as const))(
    'the listener is refused and its write never escapes the claim (%s)',
    async (_label, statements, order) => {
      await insertOrders(db.pool, db.schema, [order]);
      const store = createPostgresStore({ ...db, statementTimeoutMs: 1_000 });
      const hub = createPaymentHub({ store, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
      const codes: string[] = [];
      hub.on('payment.completed', async (event, { tx }) => {
        await tx.query(
          `UPDATE "${db.schema}".orders SET paid_count = paid_count + 1 WHERE id = $1`,
          [event.orderId],
        );
        for (const s of statements)
          await tx.query(s).catch((error: { code: string }) => {
            codes.push(error.code);
            throw error;
          });
      });
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await deliver(hub, { txn: `T-${order}`, order });
        outcomes.push(r.outcome);
        if (r.outcome === 'processed' || r.outcome === 'duplicate') break;
      }
      const paid = (await paidCounts(db.pool, db.schema)).get(order);
      // Refused on every delivery, and nothing the listener wrote ever committed.
      expect({ outcomes, paid, codes }).toEqual({
        outcomes: ['failed', 'failed', 'failed'],
        paid: 0,
        codes: ['ERR_TX_CONTROL', 'ERR_TX_CONTROL', 'ERR_TX_CONTROL'],
      });
    },
  );

  it('a plain (session) SET through tx is refused: nothing outlives the claim on the pooled client', async () => {
    const one = testPool({ max: 1 });
    try {
      await insertOrders(db.pool, db.schema, ['S1']);
      const store = createPostgresStore({
        pool: one,
        schema: db.schema,
        statementTimeoutMs: 1_000,
      });
      const hub = createPaymentHub({ store, handlerTimeoutMs: 3_000, leaseMs: 10_000 });
      hub.on('payment.completed', async (_event, { tx }) => {
        // `SET …` is `SET SESSION …`: it would outlive the claim. `SET LOCAL` is fine.
        await tx.query('SET LOCAL statement_timeout = 5000');
        await tx.query('SET default_transaction_read_only = on');
      });
      const result = await deliver(hub, { txn: 'T-S1', order: 'S1' });
      expect(result.outcome).toBe('failed');
      // The merchant's next use of its own pool gets the listener's session setting.
      const setting = (await one.query('SHOW default_transaction_read_only')).rows[0];
      expect(setting).toEqual({ default_transaction_read_only: 'off' });
    } finally {
      await one.end();
    }
  });
});
