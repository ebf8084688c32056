/**
 * The store kit under node:test, with strict types: `node --import tsx --test` runs this file (see
 * store-conformance.test.ts). STORE_KIT_BROKEN=1 runs it on a store whose claim is never busy.
 */
import { describe, it } from 'node:test';
import { createMemoryStore, type IdempotencyStore } from '../../src';
import { runStoreConformance } from '../../src/testing';

function neverBusy(): IdempotencyStore {
  const store = createMemoryStore();
  return {
    ...store,
    claim: async (key, leaseMs) => {
      const claim = await store.claim(key, leaseMs);
      return claim.state === 'busy' ? { state: 'claimed', token: 'another' } : claim;
    },
  };
}

runStoreConformance(
  {
    name: 'memory store under node:test',
    create: process.env.STORE_KIT_BROKEN ? neverBusy : () => createMemoryStore(),
    without: ['close'],
  },
  { describe, it },
);
