/**
 * Cashy (@payhook/payin): `Sign: MD5(raw body + apiKey)` and `MerchantId` headers
 * (https://docs.cashypro.com/en_us/quickstart/quickstart.html). Hostile payloads are signed per
 * case with the package's own signer (MD5 is cheap), so they reach the parser, the schema and
 * normalize.
 */
import { instantToIso, stringifyJson } from '@payhook/core/plugin';
import { cashySign } from '@payhook/payin/signing';
import { checkHostile, checkMutations, RUNS } from './properties';
import {
  agent,
  CASHY_API_KEY,
  CASHY_MERCHANT,
  cashyPayment,
  cashyWire,
  startGateway,
  type Gateway,
} from './support';
import type { Fields } from './arbitraries';
import { reportCounts } from '@payhook/core/testing';

/**
 * Payment `n` completed a minute ago on the Jakarta clock the gateway reads completionTime on: the
 * signed completionTime bounds a webhook's age (24 h by default), so the shared payment's fixed
 * example time would make every genuine delivery stale.
 */
const freshPayment = (n: number) => ({
  ...cashyPayment(n),
  completionTime: instantToIso(Math.floor(Date.now() / 1000) * 1000 - 60_000, 'Asia/Jakarta')
    .slice(0, 19)
    .replace('T', ' '),
});

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway('cashy');
});
afterAll(async () => {
  await gw.close();
  agent.destroy();
});

it(`${RUNS} mutated signed deliveries (body, Sign, MerchantId) are 401 and emit nothing`, async () => {
  const original = cashyWire(freshPayment(1));
  const counts = await checkMutations(gw, {
    genuine: original,
    signature: { header: 'Sign' },
    signedHeaders: ['MerchantId'],
    // MD5 covers the raw bytes and is checked before parsing; hex case is not significant.
    stillGenuine: (m) =>
      Buffer.from(m.body).equals(Buffer.from(original.body)) &&
      m.headers.Sign!.toLowerCase() === original.headers.Sign!.toLowerCase() &&
      m.headers.MerchantId === original.headers.MerchantId,
    envelopeParses: () => true,
  });
  reportCounts('cashy mutations', counts);
});

it(`${RUNS} hostile payloads, validly signed, are 4xx (or unhandled), never 5xx, never an event`, async () => {
  const fields: Fields = Object.entries(freshPayment(9)).map(([k, v]) => [k, stringifyJson(v)]);
  const counts = await checkHostile(gw, {
    fields,
    required: ['orderStatus', 'orderNo', 'mchOrderNo', 'amount'],
    amountFields: ['amount', 'fee'],
    authentic: true,
    // Signed over the exact bytes sent, invalid UTF-8 included, as Cashy's MD5 would be.
    wire: (p) => ({
      body: p.text,
      headers: { MerchantId: CASHY_MERCHANT, Sign: cashySign(p.text, CASHY_API_KEY, 'upper') },
    }),
  });
  reportCounts('cashy hostile', counts);
});
