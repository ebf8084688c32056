import { parentPort, workerData } from 'node:worker_threads';
import { createBuilder, serialText, type RouteName, type SenderSecrets } from './deliveries';

/** One signing thread: builds the deliveries it is asked for and posts them back. */
const builder = createBuilder(workerData as SenderSecrets);
parentPort!.on(
  'message',
  (job: { id: number; route: RouteName; tag: string; from: number; count: number }) => {
    const wires = [];
    for (let i = 0; i < job.count; i++)
      wires.push(builder.build(job.route, serialText(job.tag, job.from + i), job.from + i));
    parentPort!.postMessage({ id: job.id, wires });
  },
);
