import {
  createPaymentHub,
  type Claim,
  type Delivery,
  type IdempotencyStore,
  type PaymentHubOptions,
} from '@payhook/core';
import { createTestProvider, signedDelivery } from '@payhook/core/testing';
import { median } from './lib/stats';

/**
 * For finding where `hub.receive` spends its time (not part of the run): the test gateway's
 * receive in CPU µs per delivery with parts of the hub swapped out: the memory inbox off, and a
 * store with the memory store's claim rules on a plain Map (no LRU, no TTL) whose methods answer
 * plain values instead of promises: what the store costs, at most.
 *
 *   npm run build
 *   TSX_TSCONFIG_PATH=bench/tsconfig.dist.json node --import tsx bench/receive-parts.ts [count] [passes]
 */
const provider = createTestProvider();
const count = Number(process.argv[2] ?? 20_000);
const passes = Number(process.argv[3] ?? 7);

function deliveries(tag: string): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const f = signedDelivery({ txn: `${tag}-${i}`, order: `O${i}` });
    const receivedAt = new Date();
    return { body: Buffer.from(f.body), headers: f.headers, transport: 'http', receivedAt };
  });
}

/** The memory store's rules on a Map, answering without promises (the contract's types aside). */
function plainValueStore(): IdempotencyStore {
  const held = new Map<string, string | true>();
  let claims = 0;
  const answer = <T>(value: T): Promise<T> => value as unknown as Promise<T>;
  return {
    claim(key) {
      const entry = held.get(key);
      if (entry === true) return answer<Claim>({ state: 'done' });
      if (entry !== undefined) return answer<Claim>({ state: 'busy' });
      const token = `${++claims}`;
      held.set(key, token);
      return answer<Claim>({ state: 'claimed', token });
    },
    commit: (key, token) => answer(void (held.get(key) === token && held.set(key, true))),
    release: (key, token) => answer(void (held.get(key) === token && held.delete(key))),
    markDone: (key) => answer(void held.set(key, true)),
  };
}

async function measure(label: string, options: () => PaymentHubOptions): Promise<void> {
  const perDelivery: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const hub = createPaymentHub(options());
    hub.onAny(async () => undefined);
    const batch = deliveries(`${label}-${pass}`);
    const before = process.cpuUsage();
    for (const delivery of batch) await hub.receive(provider, delivery);
    const used = process.cpuUsage(before);
    perDelivery.push((used.user + used.system) / count);
  }
  console.log(`${label.padEnd(36)} ${median(perDelivery).toFixed(1)} µs`);
}

async function main(): Promise<void> {
  console.log(`test gateway, hub.receive, CPU µs per delivery (median of ${passes} × ${count})`);
  await measure('default (memory store and inbox)', () => ({}));
  await measure('store: a Map answering plain values', () => ({ store: plainValueStore() }));
  await measure('inbox: false', () => ({ inbox: false }));
  await measure('inbox: false, the Map store', () => ({
    inbox: false,
    store: plainValueStore(),
  }));
}

void main();
