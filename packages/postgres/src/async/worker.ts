import { checkWholeNumber } from '@payhook/core/plugin';
import { ListenerTimeoutError } from '@payhook/core';
import { asError, notify } from './notify';
import type PgBoss from 'pg-boss';
import type { PoolClient } from 'pg';
import { destroyConnection } from '../deadline';
import type { JobData } from './enqueue';
import { createHousekeeping, type Housekeeping } from './housekeeping';
import { connectWithin, type Lease } from './lease';
import { processJob, type JobOutcome } from './process-job';
import { QUEUE_STATE, type InternalQueue } from './queue';
import { recordFailure, settleDeadCopies } from './record-failure';
import { settleReserveMs, SOURCE } from './options';
import { ensureStarted } from './start';
import type { PaymentQueue, QueueState } from './types';

export interface WorkerOptions {
  /**
   * Jobs in hand at once in this process (default 4): each holds one pooled connection. Any value
   * works with any pool size: a loop that finds the pool dry waits `connectTimeoutMs` and tries
   * again, and ending a timed-out job never needs the pool (see housekeeping.ts).
   */
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
  housekeeping: Housekeeping;
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
    housekeeping: createHousekeeping(state),
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
      await w.housekeeping.close();
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

/**
 * A connection of the pool first, then a job fetched on it: a job is never taken (and its expiry
 * never starts) without a connection to run it on, and the fetch never waits on the pool.
 */
async function lease(w: WorkerState): Promise<Lease | undefined> {
  const { pool, settings } = w.queue;
  try {
    const leased = await connectWithin(
      pool,
      settings.connectTimeoutMs,
      settings.statementTimeoutMs,
    );
    guardClient(w.queue, leased.client);
    return leased;
  } catch {
    // The pool is dry (every connection in a job, or in the web process): try again later.
    return undefined;
  }
}

async function takeJob(w: WorkerState): Promise<boolean> {
  const { boss, settings } = w.queue;
  const leased = await lease(w);
  if (!leased) return false;
  // Before the fetch: the job's expiry (started_on + expire_in) starts no earlier than this.
  const fetchedAt = Date.now();
  const jobs = await boss
    .fetch<JobData>(settings.queueName, { batchSize: 1, includeMetadata: true, db: leased.db })
    .catch((error: unknown) => (leased.release(asError(error)), []));
  const job = jobs[0];
  if (!job) return (leased.release(), false);
  await handle(w, leased, job, fetchedAt);
  return true;
}

/** Copies pg-boss put in the dead-letter queue (jobs whose worker died on their last attempt). */
async function takeDeadCopies(w: WorkerState): Promise<boolean> {
  const { boss, settings } = w.queue;
  const leased = await lease(w);
  if (!leased) return false;
  try {
    const jobs = await boss.fetch<JobData>(settings.deadQueueName, {
      batchSize: 20,
      db: leased.db,
    });
    if (!jobs.length) return false;
    await settleDeadCopies(w.queue, leased, jobs);
    return true;
  } finally {
    leased.release();
  }
}

async function handle(
  w: WorkerState,
  leased: Lease,
  job: PgBoss.JobWithMetadata<JobData>,
  fetchedAt: number,
): Promise<void> {
  const state = w.queue;
  const controller = new AbortController();
  w.inHand.add(controller);
  const watchdog = watchExpiry(state, job, controller, fetchedAt);
  try {
    const outcome = await processJob(state, leased, job, controller.signal);
    w.counts[outcome]++;
  } catch (error) {
    w.counts.failed++;
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
    const healthy = await dropTransaction(w, leased, reason, controller.signal.aborted);
    await recordOn(w, healthy ? leased : undefined, job, reason);
  } finally {
    clearTimeout(watchdog);
    leased.release();
    w.inHand.delete(controller);
  }
}

/**
 * Ends the attempt before pg-boss could expire its job: at the job's expiry (the shorter of its
 * own, set by whoever queued it, and this queue's) less what recording the failure may take. The
 * abort ends the listeners' wait (runWorkerListeners) or the order-lock wait; the statement in flight
 * has its deadline; dropTransaction then terminates the backend.
 */
function watchExpiry(
  state: QueueState,
  job: PgBoss.JobWithMetadata<JobData>,
  controller: AbortController,
  fetchedAt: number,
): NodeJS.Timeout {
  const own = state.settings.expireInSeconds * 1000;
  const jobs = Number(job.expireInSeconds) * 1000;
  const expireMs = Number.isFinite(jobs) && jobs > 0 ? Math.min(jobs, own) : own;
  // A job queued with a shorter expiry than this worker needs to settle (queued by a process
  // configured otherwise): half of it still runs, rather than every attempt ending at once.
  const budgetMs = Math.max(expireMs / 2, expireMs - settleReserveMs(state.settings));
  const timer = setTimeout(
    () => controller.abort(new ListenerTimeoutError(budgetMs, job.data.id)),
    Math.max(0, fetchedAt + budgetMs - Date.now()),
  );
  timer.unref();
  return timer;
}

/** The failure record, on the attempt's connection when it is still good, else a housekeeping one. */
async function recordOn(
  w: WorkerState,
  healthy: Lease | undefined,
  job: PgBoss.JobWithMetadata<JobData>,
  error: unknown,
): Promise<void> {
  let leased = healthy;
  try {
    leased ??= await w.housekeeping.connect();
  } catch (cause) {
    // No connection to record it on: the job stays active until pg-boss expires and retries it.
    notify(w.queue, 'error', asError(cause));
    return;
  }
  try {
    await recordFailure(w.queue, leased, job, error);
  } finally {
    leased.release();
  }
}

const GUARDED = new WeakSet<PoolClient>();
/** Connections this worker is terminating: their "terminated" error is expected, not news. */
const TERMINATING = new WeakSet<PoolClient>();

/**
 * A connection lost while checked out (terminated below, a database restart) must be an error of
 * its job, not an unhandled 'error' event that ends the process. Once per pooled connection.
 */
function guardClient(state: QueueState, client: PoolClient): void {
  if (GUARDED.has(client)) return;
  GUARDED.add(client);
  client.on('error', (error) => {
    if (!TERMINATING.has(client)) notify(state, 'error', error);
  });
}

/**
 * Rolls the attempt back; true when its connection is still good for the failure record. After a
 * timeout or an abort a listener may still be running on this connection (or blocked on a lock):
 * its backend is terminated from a housekeeping connection (never the pool, which those very jobs
 * may hold), so the transaction ends now and nothing it does later can reach the database.
 */
async function dropTransaction(
  w: WorkerState,
  leased: Lease,
  error: unknown,
  aborted: boolean,
): Promise<boolean> {
  if (leased.released) return false; // a statement past its deadline destroyed it already
  if (aborted || error instanceof ListenerTimeoutError) {
    await terminate(w, leased, asError(error));
    return false;
  }
  try {
    await leased.query('ROLLBACK');
    return !leased.released;
  } catch {
    leased.release(true);
    return false;
  }
}

async function terminate(w: WorkerState, leased: Lease, error: Error): Promise<void> {
  const { client, pid } = leased;
  // Released only once the connection has closed: a termination notice arriving after the
  // release would reach the pool's idle listener and become the pool's unhandled 'error'.
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, w.queue.settings.statementTimeoutMs);
    client.once('end', () => resolve());
  });
  TERMINATING.add(client);
  const asked = pid !== undefined && (await w.housekeeping.terminate(pid));
  // Not asked (no housekeeping connection either): the socket is destroyed instead; PostgreSQL
  // then rolls the transaction back, and never commits it.
  if (!asked) destroyConnection(client);
  await closed;
  clearTimeout(timer);
  leased.release(error);
}
