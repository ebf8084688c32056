import { Pool } from 'pg';
import type { PaymentHubFor } from '@payhook/core';
import { createPostgresStore, migrate, type PostgresStore } from '@payhook/postgres';

/**
 * With DATABASE_URL set, the example keeps its orders in PostgreSQL too: the processed record of
 * each event and the order's UPDATE commit in one transaction (the listener's `tx`).
 */
export interface MerchantDatabase {
  pool: Pool;
  store: PostgresStore;
  /** The merchant's own table (in its own schema, beside payhook's). */
  table: string;
  close(): Promise<void>;
}

export async function connectDatabase(url: string, schema = 'payhook'): Promise<MerchantDatabase> {
  const pool = new Pool({ connectionString: url, max: 10 });
  // A lost idle connection is reported by the pool; the next claim opens a fresh one.
  pool.on('error', () => undefined);
  // The example migrates at boot, explicitly; a real deployment runs `payhook-postgres migrate`.
  await migrate(pool, { schema });
  const table = `"${schema}".merchant_orders`;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (
       id text PRIMARY KEY, status text NOT NULL, paid text, refunded text NOT NULL DEFAULT '0',
       transaction_id text, updates integer NOT NULL DEFAULT 0)`,
  );
  const store = createPostgresStore({ pool, schema });
  await store.ready();
  return {
    pool,
    store,
    table,
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

/** The merchant's writes, through the event's transaction: committed with the processed record. */
export function attachDatabaseOrders(hub: PaymentHubFor<PostgresStore>, table: string): void {
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(
      `INSERT INTO ${table} (id, status, paid, transaction_id, updates) VALUES ($1, 'paid', $2, $3, 1)
       ON CONFLICT (id) DO UPDATE SET status = 'paid', paid = EXCLUDED.paid,
         transaction_id = EXCLUDED.transaction_id, updates = ${table}.updates + 1`,
      [event.orderId ?? event.transactionId, event.amount, event.transactionId],
    );
  });
  hub.on('payment.failed', async (event, { tx }) => {
    await tx.query(
      `INSERT INTO ${table} (id, status, updates) VALUES ($1, 'failed', 1)
       ON CONFLICT (id) DO UPDATE SET updates = ${table}.updates + 1,
         status = CASE WHEN ${table}.status = 'paid' THEN 'paid' ELSE 'failed' END`,
      [event.orderId ?? event.transactionId],
    );
  });
}
