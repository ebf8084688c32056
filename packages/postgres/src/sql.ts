import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { ConfigError } from '@payhook/core';

export const SOURCE = '@payhook/postgres';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name checked at construction, so it can be quoted into SQL as an identifier. */
export function checkSchemaName(value: unknown, fallback: string): string {
  const schema = value ?? fallback;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema))
    throw new ConfigError(
      'schema',
      'must be a lower-case SQL identifier (letters, digits, _; at most 63 characters)',
      { source: SOURCE },
    );
  return schema;
}

/** `"schema"."table"`: the schema is checked by checkSchemaName, the table is ours. */
export const qualified = (schema: string, table: string): string => `"${schema}"."${table}"`;

/**
 * The advisory lock of a key: 64 bits of its SHA-256, scoped by schema so two shops in one database
 * never share a lock. A collision only makes one event answer `busy` (the gateway retries).
 */
export function lockId(schema: string, key: string): string {
  const digest = createHash('sha256').update(schema).update('\0').update(key).digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * `fn` inside BEGIN … COMMIT on a pooled client: rolled back when it throws (the error rethrown),
 * and the client always given back. The one place this package opens a transaction of its own.
 */
export async function inTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const value = await fn(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
