import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import { StoreTimeoutError } from '@payhook/core';
import { SOURCE } from './sql';

/**
 * Ends a connection now: its socket is destroyed, so a statement in flight rejects at once and the
 * server, when it reads the closed socket, rolls the transaction back. Used past a deadline: a
 * connection whose server stopped answering (frozen, partitioned) is never returned to a pool,
 * where the next request would hang on it too.
 */
export function destroyConnection(client: PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection
    ?.stream;
  stream?.destroy();
}

/**
 * `client.query(text, values)` that must answer within `timeoutMs`. Past it, `onTimeout` runs
 * (it must give the client back as broken: `client.release(error)`), the socket is destroyed and
 * the promise rejects with a StoreTimeoutError (ERR_STORE_TIMEOUT). PostgreSQL's own
 * statement_timeout cannot do this: a server that is frozen or unreachable enforces nothing.
 */
export function queryWithin<R extends QueryResultRow = QueryResultRow>(
  client: PoolClient,
  timeoutMs: number,
  onTimeout: (error: StoreTimeoutError) => void,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  return new Promise<QueryResult<R>>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      const error = new StoreTimeoutError(timeoutMs, `"${firstWords(text)}"`, SOURCE);
      onTimeout(error);
      destroyConnection(client);
      reject(error);
    }, timeoutMs);
    client.query<R>(text, values).then(
      (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The statement's first words, for an error message: never its values. */
function firstWords(text: string): string {
  const words = text.trim().split(/\s+/, 4).join(' ');
  return words.length > 60 ? `${words.slice(0, 60)}…` : words;
}
