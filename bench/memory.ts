import { randomBytes } from 'node:crypto';
import { createMemoryStore, createPaymentHub, type Delivery } from '@payhook/core';
import { createPayinProvider } from '@payhook/payin';
import { createBuilder, serialText } from './lib/deliveries';

/**
 * Memory: N distinct, validly signed Cashy deliveries (MD5, the cheapest signature, so the run is
 * about the hub and the store) through one hub on the default memory store. Deliveries are built
 * as they go, so the heap measured is the hub's and the store's, not a pre-built pool. Run with
 * --expose-gc: the heap after a full GC is sampled at every tenth of the run.
 */

export interface MemoryOptions {
  deliveries: number;
}

export interface MemoryReport {
  deliveries: number;
  dispatched: number;
  storeMax: number;
  /** Keys the store took in (each completed payment writes its event key and a completion marker). */
  keysWritten: number;
  /** Done markers the store dropped to stay within `max`. */
  evicted: number;
  /** keysWritten - evicted: what the store still holds; must not exceed storeMax. */
  keysHeld: number;
  /** The newest 1,000 deliveries sent again: all must be acknowledged as duplicates. */
  recentReplaysDuplicate: number;
  heapPeakMb: number;
  /** Heap after a full GC at each tenth of the run, MB. */
  heapAfterGcMb: number[];
  rssPeakMb: number;
  seconds: number;
  deliveriesPerSecond: number;
}

const MB = 1024 * 1024;

export async function runMemory(options: MemoryOptions): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/memory.ts needs node --expose-gc');
  const apiKey = randomBytes(16).toString('hex');
  const builder = createBuilder({
    signedParamPrivatePem: '',
    newpayPrivatePem: '',
    newpayAppId: 0,
    payinMerchantId: '100001',
    payinApiKey: apiKey,
    octokitSecret: '',
    bodySize: 720,
  });
  const provider = createPayinProvider({ merchantId: '100001', apiKey });
  const storeMax = 100_000; // createMemoryStore's default
  let evicted = 0;
  const store = createMemoryStore({ onEvict: () => evicted++ });
  const hub = createPaymentHub({ store });
  let dispatched = 0;
  hub.onAny(async () => {
    dispatched++;
  });
  const delivery = (i: number): Delivery => {
    const w = builder.build('payin', serialText('mem', i), i);
    return {
      body: Buffer.from(w.body),
      headers: {
        'content-type': w.headers['content-type'],
        merchantid: '100001',
        sign: w.headers.Sign,
      },
      transport: 'http',
      receivedAt: new Date(),
    };
  };

  const n = options.deliveries;
  const tenth = Math.max(1, Math.floor(n / 10));
  let heapPeak = 0;
  let rssPeak = 0;
  const heapAfterGc: number[] = [];
  const sample = (): void => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    rssPeak = Math.max(rssPeak, m.rss);
  };
  gc();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const result = await hub.receive(provider, delivery(i));
    if (result.outcome !== 'processed') throw new Error(`delivery ${i}: ${result.outcome}`);
    if (i % 1000 === 999) sample();
    if (i % tenth === tenth - 1) {
      gc();
      heapAfterGc.push(Math.round((process.memoryUsage().heapUsed / MB) * 10) / 10);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let recentReplaysDuplicate = 0;
  for (let i = n - 1000; i < n; i++)
    if ((await hub.receive(provider, delivery(i))).outcome === 'duplicate')
      recentReplaysDuplicate++;
  const keysWritten = 2 * n;
  return {
    deliveries: n,
    dispatched,
    storeMax,
    keysWritten,
    evicted,
    keysHeld: keysWritten - evicted,
    recentReplaysDuplicate,
    heapPeakMb: Math.round((heapPeak / MB) * 10) / 10,
    heapAfterGcMb: heapAfterGc,
    rssPeakMb: Math.round((rssPeak / MB) * 10) / 10,
    seconds,
    deliveriesPerSecond: n / seconds,
  };
}

if (require.main === module) {
  const options = JSON.parse(process.argv[2] ?? '{"deliveries":100000}') as MemoryOptions;
  runMemory(options).then(
    (report) => (process.send ? process.send({ report }) : console.log(report)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
