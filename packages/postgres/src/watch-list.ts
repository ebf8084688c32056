import type { Pool } from 'pg';
import { ConfigError } from '@payhook/core';
import { checkWholeNumber } from '@payhook/core/plugin';
import { checkSchemaName, inTransaction, lockId, qualified, SOURCE } from './sql';

export interface PostgresWatchListOptions {
  pool: Pool;
  /** The store's schema (default `payhook`). */
  schema?: string;
  /** Which list, e.g. `lailaolab`: every instance that shares it uses the same schema and name. */
  name: string;
  /** Most entries kept; beyond it, those closest to their expiry are dropped (default 10,000). */
  maxEntries?: number;
}

/**
 * The Lailaolab socket source's `watchList` in PostgreSQL (the same shape as its WatchList): ids
 * followed until their expiry (milliseconds since the epoch, the writer's clock), shared by every
 * instance on the schema and surviving restarts. Reads delete the expired entries.
 */
export interface PostgresWatchList {
  add(id: string, expiresAt: number): Promise<{ size: number; dropped: string[] }>;
  remove(id: string): Promise<{ removed: boolean; size: number }>;
  list(): Promise<{ ids: string[]; expired: number }>;
}

export function createPostgresWatchList(options: PostgresWatchListOptions): PostgresWatchList {
  const { pool, name } = options ?? ({} as PostgresWatchListOptions);
  if (!pool || typeof pool.connect !== 'function')
    throw new ConfigError('pool', 'must be a pg Pool', { source: SOURCE });
  if (typeof name !== 'string' || name.length === 0)
    throw new ConfigError('name', 'must be a non-empty string', { source: SOURCE });
  const schema = checkSchemaName(options.schema, 'payhook');
  const maxEntries = checkWholeNumber(options.maxEntries, 10_000, 'maxEntries', { source: SOURCE });
  const table = qualified(schema, 'watch_list');
  const size = async (q: Pick<Pool, 'query'>): Promise<number> =>
    (
      await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE name = $1`, [
        name,
      ])
    ).rows[0]!.n;
  return {
    async add(id, expiresAt) {
      checkEntry(id, expiresAt);
      return inTransaction(pool, async (client) => {
        // One writer of this list at a time, so the trim below never races another add.
        await client.query(`SELECT pg_advisory_xact_lock(${lockId(schema, `watch-list:${name}`)})`);
        await client.query(`DELETE FROM ${table} WHERE name = $1 AND expires_at <= $2`, [
          name,
          Date.now(),
        ]);
        await client.query(
          `INSERT INTO ${table} (name, id, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (name, id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
          [name, id, expiresAt],
        );
        const dropped = await client.query<{ id: string }>(
          `DELETE FROM ${table} WHERE name = $1 AND id IN (
             SELECT id FROM ${table} WHERE name = $1 ORDER BY expires_at DESC, id OFFSET $2)
           RETURNING id`,
          [name, maxEntries],
        );
        return { size: await size(client), dropped: dropped.rows.map((r) => r.id) };
      });
    },
    async remove(id) {
      const result = await pool.query(`DELETE FROM ${table} WHERE name = $1 AND id = $2`, [
        name,
        id,
      ]);
      return { removed: (result.rowCount ?? 0) > 0, size: await size(pool) };
    },
    async list() {
      const expired = await pool.query(
        `DELETE FROM ${table} WHERE name = $1 AND expires_at <= $2`,
        [name, Date.now()],
      );
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM ${table} WHERE name = $1 ORDER BY expires_at, id`,
        [name],
      );
      return { ids: rows.map((r) => r.id), expired: expired.rowCount ?? 0 };
    },
  };
}

function checkEntry(id: unknown, expiresAt: unknown): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024)
    throw new TypeError('watch list: id must be a non-empty string of at most 1024 characters');
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt))
    throw new TypeError(
      'watch list: expiresAt must be a whole number of milliseconds since the epoch',
    );
}
