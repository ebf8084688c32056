import type { Express } from 'express';
import { Pool } from 'pg';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';
import { createPostgresStore, migrate } from '@payhook/postgres';

/**
 * The payin + PostgreSQL route of the load benchmark: the same Cashy deliveries as `payin-redis`,
 * processed on @payhook/postgres, the listener writing the merchant's order row through the
 * event's transaction (one transaction per payment: claim, the UPDATE, the processed record).
 * It runs in a schema of its own, dropped at stop.
 */
export interface PostgresRoute {
  /** Drops the bench's schema; resolves with how many processed records it held. */
  stop(): Promise<number>;
}

export async function mountPostgresRoute(
  app: Express,
  options: {
    path: string;
    databaseUrl: string;
    schema: string;
    payin: { merchantId: string; apiKey: string };
    /** The bench's counters, as for the other routes. */
    watch(hub: PaymentHub): void;
  },
): Promise<PostgresRoute> {
  // One connection per load-generator connection (50): the store answers the retry body at once
  // when the pool is exhausted (by design), which with max 20 turned 40,414 of 45,412 requests
  // into retries (measured 2026-12-01) and measured the pool size, not the store.
  const pool = new Pool({ connectionString: options.databaseUrl, max: 60 });
  pool.on('error', () => undefined);
  const { schema } = options;
  await migrate(pool, { schema });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".orders (id text PRIMARY KEY, paid text NOT NULL)`,
  );
  const store = createPostgresStore({ pool, schema });
  await store.ready();
  const hub = createPaymentHub({ store });
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(`INSERT INTO "${schema}".orders (id, paid) VALUES ($1, $2)`, [
      event.orderId,
      event.amount,
    ]);
  });
  options.watch(hub);
  app.use(options.path, createPayinMiddleware(hub, options.payin));
  return {
    async stop() {
      await store.close();
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".processed`,
      );
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
      return rows[0]?.n ?? 0;
    },
  };
}
