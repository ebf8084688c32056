import { createPaymentHub, type AwaitedPayment } from '@payhook/core';
import { createSignedParamProvider } from '@payhook/signed-param';
import { createGatewayFixtures, startStatusApis, type StatusApiSimulator } from '../src';

/**
 * Hostile review: two signed-param mounts of one hub that share the provider id, each for its own
 * orders (`orderIdPrefix` A- and B-: two accounts, or two shops, on one platform). An order awaited
 * through the second mount must be asked about through it: the first refuses an order number
 * outside its prefix (a TypeError, before any request), so asked through the first it is never
 * recovered, and ends overdue although it was paid.
 */
const fixtures = createGatewayFixtures();
let apis: StatusApiSimulator;
beforeAll(async () => {
  apis = await startStatusApis(fixtures);
});
afterAll(() => apis.close());

const mount = (orderIdPrefix: string) =>
  createSignedParamProvider({
    ...fixtures.signedParam.providerOptions,
    ...apis.providerOptions.signedParam,
    orderIdPrefix,
  });

// Core kept one provider per id and asked every entry through it (failed before `asksAbout`:
// core keeps every mount and asks through the first whose asksAbout says yes).
it('signed-param mounts sharing an id, by orderIdPrefix: an order awaited through the second is recovered through it', async () => {
  const a = mount('A-');
  const b = mount('B-');
  expect(a.id).toBe(b.id);
  const hub = createPaymentHub({
    awaited: { sweepEveryMs: 0, schedule: { [a.id]: { firstCheckMs: 1, maxIntervalMs: 2 } } },
  });
  const paid: string[] = [];
  const overdue: AwaitedPayment[] = [];
  hub.on('payment.completed', (e) => void paid.push(String(e.orderId)));
  hub.on('awaited.overdue', (p) => void overdue.push(p));
  hub.on('error', () => undefined);
  await hub.expectPayment(a, { orderId: 'A-1', until: Date.now() + 60_000 });
  await hub.expectPayment(b, { orderId: 'B-1', until: Date.now() + 60_000 });
  apis.pay('signed-param', { orderId: 'A-1' });
  apis.pay('signed-param', { orderId: 'B-1' });
  for (let i = 0; i < 5 && paid.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 10));
    await hub.sweep();
  }
  const entry = await hub.awaited.get(`${b.id}:order:B-1`);
  expect([paid.sort(), entry?.state, entry?.lastResult ?? null]).toEqual([
    ['A-1', 'B-1'],
    'settled',
    null,
  ]);
  await hub.close();
});
