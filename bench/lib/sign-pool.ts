import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  RSA_ROUTES,
  createBuilder,
  serialText,
  type RouteName,
  type SenderSecrets,
  type Wire,
} from './deliveries';

/**
 * Pre-signs deliveries before a timed run. RSA-2048 signing costs about a millisecond each, so RSA
 * deliveries are signed on one worker thread per core; the cheap ones (MD5, HMAC, none) are built
 * on the calling thread.
 */
export interface SignPool {
  make(route: RouteName, tag: string, count: number): Promise<Wire[]>;
  close(): Promise<void>;
}

const CHUNK = 250;

export function createSignPool(secrets: SenderSecrets): SignPool {
  const file = path.join(__dirname, 'sign-worker.ts');
  const size = Math.max(1, availableParallelism());
  // tsx's loader does not follow into worker threads by itself: register it in the worker first.
  const workers = Array.from(
    { length: size },
    () =>
      new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, {
        eval: true,
        workerData: secrets,
      }),
  );
  const local = createBuilder(secrets);
  let nextId = 0;
  const pending = new Map<number, (wires: Wire[]) => void>();
  for (const w of workers) {
    w.on('message', (m: { id: number; wires: Wire[] }) => {
      pending.get(m.id)?.(m.wires);
      pending.delete(m.id);
    });
    w.on('error', (error) => {
      throw error;
    });
  }
  const run = (w: Worker, route: RouteName, tag: string, from: number, count: number) =>
    new Promise<Wire[]>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      w.postMessage({ id, route, tag, from, count });
    });

  return {
    async make(route, tag, count) {
      if (!RSA_ROUTES.has(route)) {
        const out: Wire[] = [];
        for (let i = 0; i < count; i++) out.push(local.build(route, serialText(tag, i), i));
        return out;
      }
      // Chunks handed out round-robin keep both cores busy to the end.
      const jobs: Array<Promise<Wire[]>> = [];
      let k = 0;
      for (let from = 0; from < count; from += CHUNK)
        jobs.push(run(workers[k++ % size]!, route, tag, from, Math.min(CHUNK, count - from)));
      return (await Promise.all(jobs)).flat();
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
