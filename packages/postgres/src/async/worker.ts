import { checkWholeNumber } from '@payhook/core/plugin';
import { ListenerTimeoutError } from '@payhook/core';
import { asError, notify } from './notify';
import type PgBoss from 'pg-boss';
import type { PoolClient } from 'pg';
import type { JobData } from './enqueue';
import { processJob, type JobOutcome } from './process-job';
import { QUEUE_STATE, type InternalQueue } from './queue';
import { recordFailure, settleDeadCopies } from './record-failure';
import { SOURCE } from './options';
import { ensureStarted } from './start';
import type { PaymentQueue, QueueState } from './types';

export interface WorkerOptions {
  /** Jobs in hand at once in this process (default 4): each holds one pooled connection. */
  concurrency?: number;
  /** How long an idle loop sleeps before asking for work again (default 1,000 ms). */
  pollingIntervalMs?: number;
  /**
   * At `stop()`, how long jobs in hand may finish (default 30,000 ms). Past it their listeners are
   * aborted and their transactions rolled back; the jobs go back to the queue as failed attempts.
   */
  shutdownGraceMs?: number;
}

export interface PaymentWorker {
  /** Takes no new job; finishes (or, past the grace period, returns) the ones in hand. */
  stop(): Promise<void>;
  /** What this worker's jobs came to, by outcome. */
  readonly counts: Readonly<Record<JobOutcome, number>>;
}

interface WorkerState {
  queue: QueueState;
  stopping: boolean;
  inHand: Set<AbortController>;
  wake: Set<() => void>;
  counts: Record<JobOutcome, number>;
  pollingIntervalMs: number;
}

/**
 * Runs the queue's listeners on its jobs, in this process (beside the web server or on its own);
 * start as many as you like on as many machines: pg-boss hands each job to one of them.
 */
export function startWorker(queue: PaymentQueue, options: WorkerOptions = {}): PaymentWorker {
  const state = (queue as InternalQueue)[QUEUE_STATE];
  if (!state) throw new TypeError('startWorker needs a queue made by createPaymentQueue');
  const rule = { source: SOURCE };
  const concurrency = checkWholeNumber(options.concurrency, 4, 'concurrency', rule);
  const pollingIntervalMs = checkWholeNumber(
    options.pollingIntervalMs,
    1000,
    'pollingIntervalMs',
    rule,
  );
  const graceMs = checkWholeNumber(options.shutdownGraceMs, 30_000, 'shutdownGraceMs', rule);
  const w: WorkerState = {
    queue: state,
    stopping: false,
    inHand: new Set(),
    wake: new Set(),
    counts: { done: 0, duplicate: 0, stale: 0, waiting: 0, blocked: 0, failed: 0 },
    pollingIntervalMs,
  };
  const loops = ensureStarted(state).then(() =>
    Promise.all([
      ...Array.from({ length: concurrency }, () => loop(w, takeJob)),
      loop(w, takeDeadCopies),
    ]),
  );
  loops.catch((error) => notify(state, 'error', error));
  return {
    counts: w.counts,
    async stop() {
      w.stopping = true;
      for (const wake of w.wake) wake();
      const grace = setTimeout(() => {
        for (const controller of w.inHand)
          controller.abort(new Error('the worker is shutting down'));
      }, graceMs);
      await loops.catch(() => undefined);
      clearTimeout(grace);
    },
  };
}

/** One loop: take work while there is some, sleep while there is none, until stopped. */
async function loop(w: WorkerState, take: (w: WorkerState) => Promise<boolean>): Promise<void> {
  while (!w.stopping) {
    let busy = false;
    try {
      busy = await take(w);
    } catch (error) {
      notify(w.queue, 'error', asError(error));
    }
    if (!busy && !w.stopping) await sleep(w, w.pollingIntervalMs);
  }
}

function sleep(w: WorkerState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      w.wake.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    w.wake.add(done);
  });
}

async function takeJob(w: WorkerState): Promise<boolean> {
  const { boss, settings } = w.queue;
  const jobs = await boss.fetch<JobData>(settings.queueName, {
    batchSize: 1,
    includeMetadata: true,
  });
  const job = jobs?.[0];
  if (!job) return false;
  await handle(w, job);
  return true;
}

/** Copies pg-boss put in the dead-letter queue (jobs whose worker died on their last attempt). */
async function takeDeadCopies(w: WorkerState): Promise<boolean> {
  const { boss, settings } = w.queue;
  const jobs = await boss.fetch<JobData>(settings.deadQueueName, { batchSize: 20 });
  if (!jobs?.length) return false;
  await settleDeadCopies(w.queue, jobs);
  return true;
}

async function handle(w: WorkerState, job: PgBoss.JobWithMetadata<JobData>): Promise<void> {
  const state = w.queue;
  const controller = new AbortController();
  w.inHand.add(controller);
  let client: PoolClient;
  try {
    client = await state.pool.connect();
  } catch (error) {
    // No connection, so nothing ran: the job stays active until pg-boss expires and retries it.
    w.inHand.delete(controller);
    notify(state, 'error', error as Error);
    return;
  }
  guardClient(state, client);
  try {
    const outcome = await processJob(state, client, job, controller.signal);
    w.counts[outcome]++;
    client.release();
  } catch (error) {
    w.counts.failed++;
    await dropTransaction(state, client, error, controller.signal.aborted);
    await recordFailure(state, job, error);
  } finally {
    w.inHand.delete(controller);
  }
}

const GUARDED = new WeakSet<PoolClient>();

/**
 * A connection lost while checked out (terminated below, a database restart) must be an error of
 * its job, not an unhandled 'error' event that ends the process. Once per pooled connection.
 */
function guardClient(state: QueueState, client: PoolClient): void {
  if (GUARDED.has(client)) return;
  GUARDED.add(client);
  client.on('error', (error) => void notify(state, 'error', error));
}

/**
 * Rolls the attempt back. After a timeout or an abort a listener may still be running on this
 * connection (or blocked on a lock): its backend is terminated, so the transaction ends now and
 * nothing it does later can reach the database.
 */
async function dropTransaction(
  state: QueueState,
  client: PoolClient,
  error: unknown,
  aborted: boolean,
): Promise<void> {
  const pid = (client as PoolClient & { processID?: number }).processID;
  if ((aborted || error instanceof ListenerTimeoutError) && pid !== undefined) {
    // Released only once the connection has closed: a termination notice arriving after the
    // release would reach the pool's idle listener and become the pool's unhandled 'error'.
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      client.once('end', () => (clearTimeout(timer), resolve()));
    });
    await state.pool.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
    await closed;
    client.release(error instanceof Error ? error : true);
    return;
  }
  try {
    await client.query('ROLLBACK');
    client.release();
  } catch {
    client.release(true);
  }
}
