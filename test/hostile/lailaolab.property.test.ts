/**
 * Lailaolab portal webhook: no signature (none is published); every payment outcome is confirmed by
 * the status API before it is emitted, and the event is built from the status record alone. A "mutated delivery" is therefore a forged or altered
 * webhook: it must never produce an event the status API does not back, and never a 5xx. Runs
 * against the package's local simulator of the status API.
 */
import fc from 'fast-check';
import type { LailaolabSimulator } from '@payhook/testing';
import { mutationArb, applyMutation, type Fields } from './arbitraries';
import { checkHostile, parseOrNull, RUNS } from './properties';
import { agent, lailaolabTxn, post, startGateway, startSimulator, type Gateway } from './support';
import { reportCounts } from '@payhook/core/testing';

/** What a Lailaolab transaction id looks like (the doc sample and the observed UUIDs). */
const TRANSACTION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

let sim: LailaolabSimulator;
let gw: Gateway;
beforeAll(async () => {
  sim = await startSimulator();
  gw = await startGateway('lailaolab', { simulator: sim });
});
afterAll(async () => {
  await gw.close();
  await sim.close();
  agent.destroy();
});

it(`${RUNS} altered webhooks (one body byte) emit nothing the status API does not back`, async () => {
  const original = gw.genuine(1);
  const first = await post(gw.url, original);
  expect([first.status, first.body]).toEqual([200, gw.ok.body]);
  expect(gw.rec.events).toHaveLength(1);
  const genuine = JSON.parse(original.body as string) as Record<string, unknown>;
  const counts: Record<string, number> = {};
  const queriesBefore = sim.statusRequests.length;
  await fc.assert(
    fc.asyncProperty(mutationArb({ signature: false, headers: 0 }), async (mutation) => {
      const mutated = applyMutation(original, mutation, null, []);
      const reply = await post(gw.url, mutated);
      counts[reply.status] = (counts[reply.status] ?? 0) + 1;
      expect([200, 400, 409]).toContain(reply.status);
      // The one genuine payment stays the only event: altered copies are duplicates at most.
      expect(gw.rec.events).toHaveLength(1);
      const parsed = parseOrNull(mutated.body) as Record<string, unknown> | undefined;
      if (
        parsed &&
        parsed.message === 'SUCCESS' &&
        parsed.status === 'PAYMENT_COMPLETED' &&
        typeof parsed.transactionId === 'string' &&
        parsed.transactionId.length > 0 &&
        typeof parsed.txnAmount === 'number' &&
        (parsed.transactionId !== genuine.transactionId || parsed.txnAmount !== genuine.txnAmount)
      ) {
        // A completion for another transaction or another amount: the status API contradicts it,
        // unless the id is not even a transaction id (the gateway's are letters, digits, '-' and
        // '_': refused before any status query is spent on it).
        expect(reply.status).toBe(TRANSACTION_ID.test(parsed.transactionId) ? 409 : 400);
      }
    }),
    { numRuns: RUNS },
  );
  expect(gw.rec.errors.every((e) => e.statusCode < 500)).toBe(true);
  reportCounts(
    'lailaolab mutations',
    counts,
    'status queries',
    sim.statusRequests.length - queriesBefore,
  );
});

it(`${RUNS} hostile webhook bodies are 4xx (or unhandled), never 5xx, never an event`, async () => {
  const body = JSON.parse(gw.genuine(9).body as string) as Record<string, unknown>;
  const fields: Fields = Object.entries(body).map(([k, v]) => [k, JSON.stringify(v)]);
  const counts = await checkHostile(gw, {
    fields,
    required: ['status', 'message', 'transactionId', 'txnAmount'],
    amountFields: ['txnAmount'],
    authentic: true,
    wire: (p) => ({ body: p.text, headers: {} }),
  });
  reportCounts('lailaolab hostile', counts, lailaolabTxn(9));
});
