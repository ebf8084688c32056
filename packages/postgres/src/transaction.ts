import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import { PaymentError } from '@payhook/core';
import { answerWithin, queryWithin, type StatementDeadline, type Terminator } from './deadline';
import { SOURCE } from './sql';
import { transactionControl } from './tx-control';

/**
 * What a listener gets as `tx`: the event's transaction, to run its own queries through. It is
 * committed with the processed record when every listener resolved, rolled back otherwise. It
 * refuses BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, SET TRANSACTION and several statements in
 * one string (ERR_TX_CONTROL).
 */
export interface PostgresTransaction {
  query: PoolClient['query'];
}

/**
 * The store's own statement runner (under its deadline, not the listeners' guard), on the claim
 * context: the inbox writes its entry inside the event's transaction with it, behind a savepoint
 * that `tx` would refuse. A symbol, so it is no part of what listeners are offered.
 */
export const STORE_QUERY: unique symbol = Symbol('payhook.postgres.storeQuery');

/** One open claim: its pooled client inside BEGIN, and the keys recorded at its commit. */
export interface OpenTransaction {
  readonly client: PoolClient;
  readonly key: string;
  /** Keys claimed inside this transaction (the completion marker), recorded done with it. */
  readonly joined: Set<string>;
  /** Resolves true once committed, false once rolled back. */
  readonly finished: Promise<boolean>;
  /** The `tx` handed to the listeners: it refuses queries once the transaction ended. */
  readonly tx: PostgresTransaction;
  /** The connection's own error (server restart, network), if one came while it was ours. */
  readonly broken: Error | undefined;
  /**
   * Refuses the listeners' queries from now on. Called before the store queues its own final
   * statements (the processed rows and COMMIT, or ROLLBACK): a listener query queued after them on
   * the same client would run once the transaction ended, in autocommit, outside the claim.
   */
  close(): void;
  /**
   * The transaction's identity, `now()` as text (the start of the transaction, to the
   * microsecond), read when the key was taken: the commit checks it is still the same transaction.
   */
  started?: string;
  /**
   * One of the store's own statements on this client, under the store's statement deadline: past
   * it the client is destroyed (the transaction ends, PostgreSQL rolls it back) and this rejects
   * with ERR_STORE_TIMEOUT.
   */
  run<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
  /** Gives the client back: destroyed when `error` is given (PostgreSQL then rolls back). */
  end(committed: boolean, error?: Error): void;
  /** ROLLBACK and give the client back (destroyed if the ROLLBACK fails or passes its deadline). */
  rollback(): Promise<void>;
}

/**
 * The `query` handed to listeners on a client the store owns. It refuses transaction control
 * (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, SET TRANSACTION, several statements in one
 * string): the claim owns the transaction. And it refuses once `close()` was called, so a listener
 * query queued after the owner's final statements (COMMIT or ROLLBACK) can never run after them,
 * in autocommit or in the next user's transaction on that pooled client.
 */
export function guardQueries(
  client: PoolClient,
  key: string,
  deadline?: StatementDeadline,
): { query: PoolClient['query']; close(): void; readonly running: number } {
  let closed = false;
  let running = 0;
  const query = ((...args: Parameters<PoolClient['query']>) => {
    const refused = closed
      ? `the transaction of ${key} has ended; run queries while the listener runs`
      : refusedStatement(args[0]);
    if (refused !== undefined) {
      const error = new PaymentError(refused, {
        code: closed ? 'ERR_STORE_UNAVAILABLE' : 'ERR_TX_CONTROL',
        source: SOURCE,
      });
      // pg's callback form: the error goes to the callback, as pg's own errors do.
      const callback = args.find((a) => typeof a === 'function') as
        ((e: Error) => void) | undefined;
      if (callback) return void process.nextTick(callback, error);
      return Promise.reject(error);
    }
    const sent = (client.query as (...a: unknown[]) => Promise<QueryResult> | undefined)(...args);
    // pg's callback and submittable forms return no promise: nothing to time or count.
    if (!sent || typeof sent.then !== 'function') return sent;
    // Counted so the owner knows a statement of a listener is still on the wire.
    running++;
    const done = (): void => void running--;
    sent.then(done, done);
    return deadline ? answerWithin(client, sent, deadline, statementText(args[0]) ?? '') : sent;
  }) as PoolClient['query'];
  return {
    query,
    close: () => void (closed = true),
    get running() {
      return running;
    },
  };
}

/** The SQL of pg's first query argument: a string, a config `{ text }` or a submittable. */
function statementText(arg: unknown): string | undefined {
  const config = arg as { text?: unknown; cursor?: { text?: unknown } } | null;
  const text = typeof arg === 'string' ? arg : (config?.text ?? config?.cursor?.text);
  return typeof text === 'string' ? text : undefined;
}

/** Why a listener's statement is refused, or undefined. */
function refusedStatement(arg: unknown): string | undefined {
  const text = statementText(arg);
  if (text === undefined) return 'tx.query takes SQL text (or a config with text)';
  const control = transactionControl(text);
  return control === undefined
    ? undefined
    : `tx.query refused: ${control}. The claim owns the transaction: it commits your writes with ` +
        'the processed record, or rolls them back; run one statement per call, no BEGIN/COMMIT/ROLLBACK';
}

export function openTransaction(
  client: PoolClient,
  key: string,
  statementTimeoutMs: number,
  terminator?: Terminator,
): OpenTransaction {
  let ended = false;
  let broken: Error | undefined;
  let resolve!: (committed: boolean) => void;
  const finished = new Promise<boolean>((r) => (resolve = r));
  // A checked-out client that loses its connection emits 'error': unheard, it would crash the app.
  const onError = (error: Error): void => void (broken ??= error);
  client.on('error', onError);
  // The listeners' statements have the store's deadline too: a frozen server must not hold a
  // listener (and so the request) until the handler timeout.
  // Past a deadline the backend is terminated too: a socket destroyed mid-statement does not stop
  // it, and it would keep the claim's lock.
  const pid = (client as PoolClient & { processID?: number }).processID;
  const giveUp = (error: Error): void => {
    transaction.end(false, error);
    terminator?.terminate(pid);
  };
  const guard = guardQueries(client, key, { timeoutMs: statementTimeoutMs, onTimeout: giveUp });
  const transaction: OpenTransaction = {
    client,
    key,
    joined: new Set(),
    finished,
    tx: { query: guard.query },
    get broken() {
      return broken;
    },
    close: guard.close,
    run: (text, values) => queryWithin(client, statementTimeoutMs, giveUp, text, values),
    end(committed, error) {
      if (ended) return;
      ended = true;
      guard.close();
      client.off('error', onError);
      client.release(error ?? broken);
      resolve(committed);
    },
    async rollback() {
      if (ended) return;
      guard.close();
      // A listener's statement still running (the hub gave up on it at its hard cap, or it waits
      // on a lock): a ROLLBACK would queue behind it. Destroying the connection ends the
      // transaction now; PostgreSQL rolls it back.
      if (guard.running > 0)
        return transaction.end(false, new Error(`${key} released while a listener statement ran`));
      try {
        await transaction.run('ROLLBACK');
        transaction.end(false);
      } catch (error) {
        transaction.end(false, error as Error);
      }
    },
  };
  return transaction;
}
