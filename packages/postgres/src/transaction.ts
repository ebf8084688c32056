import type { PoolClient, QueryResult } from 'pg';
import { SOURCE } from './sql';

/**
 * What a listener gets as `tx`: the event's transaction, to run its own queries through. It is
 * committed with the processed record when every listener resolved, rolled back otherwise. Never
 * run BEGIN, COMMIT or ROLLBACK through it.
 */
export interface PostgresTransaction {
  query: PoolClient['query'];
}

/** One open claim: its pooled client inside BEGIN, and the keys recorded at its commit. */
export interface OpenTransaction {
  readonly client: PoolClient;
  readonly key: string;
  /** Keys claimed inside this transaction (the completion marker), recorded done with it. */
  readonly joined: Set<string>;
  /** Resolves true once committed, false once rolled back. */
  readonly finished: Promise<boolean>;
  finish(committed: boolean): void;
  /** The `tx` handed to the listeners: it refuses queries once the transaction ended. */
  readonly tx: PostgresTransaction;
}

export function openTransaction(client: PoolClient, key: string): OpenTransaction {
  let ended = false;
  let resolve!: (committed: boolean) => void;
  const finished = new Promise<boolean>((r) => (resolve = r));
  const query = ((...args: Parameters<PoolClient['query']>) => {
    if (ended)
      return Promise.reject(
        new Error(
          `${SOURCE}: the transaction of ${key} has ended; run queries while the listener runs`,
        ),
      );
    return (client.query as (...a: unknown[]) => Promise<QueryResult>)(...args);
  }) as PoolClient['query'];
  return {
    client,
    key,
    joined: new Set(),
    finished,
    finish(committed) {
      ended = true;
      resolve(committed);
    },
    tx: { query },
  };
}
