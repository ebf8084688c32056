/**
 * Core's Express adapter with core's example HMAC gateway (packages/core/test/hmac-provider.ts):
 * HMAC-SHA256 of the raw body in `x-test-signature`. Hostile payloads are HMAC-signed per case
 * (cheap), so they get past the signature and reach the parser, the schema and normalize.
 */
import { sign, reportCounts } from '@payhook/core/testing';
import { checkHostile, checkMutations, RUNS } from './properties';
import { agent, startGateway, type Gateway } from './support';
import type { Fields } from './arbitraries';

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('core');
});
afterAll(async () => {
  await gw.close();
  agent.destroy();
});

const genuine = () => gw.genuine(1);

it(`${RUNS} mutated signed deliveries (body byte, signature byte) are 401 and emit nothing`, async () => {
  const original = genuine();
  const counts = await checkMutations(gw, {
    genuine: original,
    signature: { header: 'x-test-signature' },
    // The signature is checked on the raw bytes before any parsing: every body change is a 401.
    stillGenuine: (m) =>
      Buffer.from(m.body).equals(Buffer.from(original.body)) &&
      m.headers['x-test-signature']!.toLowerCase() ===
        original.headers['x-test-signature']!.toLowerCase(),
    envelopeParses: () => true,
  });
  reportCounts('core mutations', counts);
});

it(`${RUNS} hostile payloads, validly signed, are 4xx (or unhandled), never 5xx, never an event`, async () => {
  const fields: Fields = [
    ['event', '"payment"'],
    ['txn', '"T9"'],
    ['order', '"O9"'],
    ['amount', '"500.10"'],
    ['status', '"PAID"'],
    ['at', '"2025-01-02T03:04:05+07:00"'],
  ];
  const counts = await checkHostile(gw, {
    fields,
    required: ['event', 'txn', 'amount', 'status', 'at'],
    amountFields: ['amount'],
    authentic: true,
    wire: (p) => ({
      body: p.text,
      headers: { 'x-test-signature': sign(p.text.toString('latin1')) },
    }),
  });
  reportCounts('core hostile', counts);
});
