import express, { type Express } from 'express';
import { Pool, type PoolClient } from 'pg';
import { createPaymentHub, type PaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';
import { verifyCashySign } from '@payhook/payin/signing';
import { createPostgresInbox, createPostgresStore, migrate } from '@payhook/postgres';

/**
 * The two PostgreSQL routes of the load benchmark, on one pool and one database (a schema of the
 * run's own, dropped at stop):
 *
 * - `payin-postgres`: the Cashy deliveries of `payin-redis`, processed on @payhook/postgres (its
 *   store and its durable inbox, `createPostgresInbox`), the listener running the merchant's order
 *   UPDATE through the event's transaction;
 * - `pg-baseline`: what a careful merchant writes by hand without payhook: the raw body, Cashy's MD5
 *   check (the payin plugin's own `verifyCashySign`, same deliveries), then one transaction: BEGIN,
 *   INSERT into a processed table ON CONFLICT DO NOTHING, the same order UPDATE, a delivery-log row
 *   (the raw body and the headers), COMMIT.
 *
 * Both log every delivery in the database: payhook's inbox entry is written inside the event's
 * transaction (then completed with the final answer after the commit), the baseline's log row is
 * the INSERT inside its transaction. The order rows exist before a run (`seedOrders`, outside the
 * timed window), so both UPDATEs change a row, as a real order's payment does.
 *
 * Every statement sent on the pool's connections can be counted (`countStatements`), which is how
 * the bench reports the round trips per delivery of each route.
 */
export interface PostgresRoutes {
  /** Inserts open order rows for a route's coming deliveries (their `mchOrderNo`). */
  seedOrders(route: PgRoute, orderIds: string[]): Promise<void>;
  /** Starts counting the statements sent on the pool (resets the count). */
  startCount(): void;
  /** Stops counting: each distinct statement (whitespace collapsed) with how often it was sent. */
  stopCount(): Array<{ text: string; n: number }>;
  /** Drops the bench's schema; resolves with how many processed records payhook's store held. */
  stop(): Promise<number>;
}

export type PgRoute = 'payin-postgres' | 'pg-baseline';

/** The order UPDATE both routes run: the same statement text, on a table of each route's own. */
export const orderUpdate = (table: string): string =>
  `UPDATE ${table} SET status = 'paid', paid = $2 WHERE id = $1`;

export async function mountPostgresRoutes(
  app: Express,
  options: {
    databaseUrl: string;
    schema: string;
    payin: { merchantId: string; apiKey: string };
    /** The bench's counters, as for the other routes. */
    watch(hub: PaymentHub): void;
    bump(route: PgRoute, what: string): void;
  },
): Promise<PostgresRoutes> {
  // One connection per load-generator connection (50): the store answers the retry body at once
  // when the pool is exhausted (by design), which with max 20 turned 40,414 of 45,412 requests
  // into retries (measured 2026-12-01) and measured the pool size, not the store.
  const pool = new Pool({ connectionString: options.databaseUrl, max: 60 });
  pool.on('error', () => undefined);
  // The statement counter: every client of the pool sends its queries through it (one query is
  // one round trip: pg's extended protocol sends Parse/Bind/Execute/Sync together and waits once).
  let counting: Map<string, number> | undefined;
  pool.on('connect', (client: PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      if (counting) {
        const first = args[0] as string | { text?: string };
        const text = (typeof first === 'string' ? first : (first?.text ?? '?'))
          .replace(/\s+/g, ' ')
          .replace(/-?\b\d{6,}\b/g, '<n>') // literal keys (the advisory lock's) grouped as one statement
          .trim();
        counting.set(text, (counting.get(text) ?? 0) + 1);
      }
      return send(...args);
    };
  });
  const { schema } = options;
  const t = (name: string): string => `"${schema}".${name}`;
  await migrate(pool, { schema });
  for (const orders of ['orders', 'baseline_orders'])
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${t(orders)} (id text PRIMARY KEY, status text NOT NULL, paid text)`,
    );
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${t('baseline_processed')} (
       id text PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())`,
  );
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${t('baseline_log')} (
       seq bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(),
       headers jsonb NOT NULL, body bytea NOT NULL)`,
  );

  // payin + PostgreSQL: payhook's store and its durable inbox on the pool.
  const store = createPostgresStore({ pool, schema });
  await store.ready();
  const inbox = createPostgresInbox({ pool, schema });
  const hub = createPaymentHub({ store, inbox });
  const payhookUpdate = orderUpdate(t('orders'));
  hub.on('payment.completed', async (event, { tx }) => {
    await tx.query(payhookUpdate, [event.orderId, event.amount]);
  });
  options.watch(hub);
  app.use('/payin-postgres', createPayinMiddleware(hub, options.payin));

  // pg-baseline: the hand-written route.
  const { merchantId, apiKey } = options.payin;
  const baselineUpdate = orderUpdate(t('baseline_orders'));
  const claim = `INSERT INTO ${t('baseline_processed')} (id) VALUES ($1) ON CONFLICT DO NOTHING`;
  const log = `INSERT INTO ${t('baseline_log')} (headers, body) VALUES ($1, $2)`;
  app.post('/pg-baseline', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body = req.body as Buffer;
    const sign = req.get('sign');
    if (req.get('merchantid') !== merchantId || !sign || !verifyCashySign(body, sign, apiKey)) {
      res.status(401).type('text/plain').send('FAIL');
      return;
    }
    let message: {
      merchantId?: unknown;
      orderNo?: unknown;
      mchOrderNo?: unknown;
      amount?: unknown;
    };
    try {
      message = JSON.parse(body.toString('utf8')) as typeof message;
    } catch {
      res.status(400).type('text/plain').send('FAIL');
      return;
    }
    if (
      message?.merchantId !== merchantId ||
      typeof message.orderNo !== 'string' ||
      typeof message.mchOrderNo !== 'string'
    ) {
      res.status(400).type('text/plain').send('FAIL');
      return;
    }
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      await client.query('BEGIN');
      const claimed = await client.query(claim, [message.orderNo]);
      if (claimed.rowCount === 1)
        await client.query(baselineUpdate, [message.mchOrderNo, String(message.amount)]);
      await client.query(log, [JSON.stringify(req.headers), body]);
      await client.query('COMMIT');
      options.bump('pg-baseline', claimed.rowCount === 1 ? 'dispatched' : 'duplicate');
      res.status(200).type('text/plain').send('SUCCESS');
    } catch {
      await client?.query('ROLLBACK').catch(() => undefined);
      options.bump('pg-baseline', 'error:rolled-back');
      res.status(500).type('text/plain').send('FAIL');
    } finally {
      client?.release();
    }
  });

  return {
    async seedOrders(route, orderIds) {
      await pool.query(
        `INSERT INTO ${t(route === 'pg-baseline' ? 'baseline_orders' : 'orders')} (id, status)
         SELECT unnest($1::text[]), 'open' ON CONFLICT DO NOTHING`,
        [orderIds],
      );
    },
    startCount() {
      counting = new Map();
    },
    stopCount() {
      const out = [...(counting ?? new Map<string, number>())].map(([text, n]) => ({ text, n }));
      counting = undefined;
      return out;
    },
    async stop() {
      await store.close();
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${t('processed')}`,
      );
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
      return rows[0]?.n ?? 0;
    },
  };
}
