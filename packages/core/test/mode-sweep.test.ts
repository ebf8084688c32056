/**
 * A test and a live mount of one gateway on one hub share its provider id (issue 26 review). The
 * sweeper's "status API down" mark and its query budget are the API's, and the sandbox's API is
 * not production's: a sandbox outage, or sandbox orders spending the budget, must not keep the
 * live orders from being asked about.
 */
import { createPaymentHub } from '../src';
import { createStatusTestGateway, TEST_SECRET } from '../src/testing';

const SANDBOX = 'sandbox-secret-do-not-use';

it('a sandbox status API that is down never defers the live orders of the same sweep', async () => {
  const live = createStatusTestGateway({ secret: TEST_SECRET });
  const test = createStatusTestGateway({ mode: 'test', secret: SANDBOX });
  test.mode = 'down';
  const hub = createPaymentHub({ awaited: { sweepEveryMs: 0, concurrency: 1 } });
  hub.onAny(() => undefined);
  const until = Date.now() + 60_000;
  // One at a time, the sandbox's order first: it is leased, and asked, before the live one.
  await hub.expectPayment(test.provider, { orderId: 'S-1', until });
  await new Promise((r) => setTimeout(r, 5));
  const order = await hub.expectPayment(live.provider, { orderId: 'L-1', until });
  live.paid('T-L', 'L-1');
  await new Promise((r) => setTimeout(r, 5));
  const report = await hub.sweep({ all: true });
  expect(test.asked).toEqual(['S-1']);
  expect(live.asked).toEqual(['L-1']);
  expect(report).toMatchObject({ recovered: 1, deferred: 0 });
  expect((await hub.awaited.get(order.key))?.state).toBe('settled');
  await hub.close();
});

it('sandbox orders never spend the live status API budget', async () => {
  const sweep = { queriesPerMinute: 1 };
  const live = createStatusTestGateway({ secret: TEST_SECRET, sweep });
  const test = createStatusTestGateway({ mode: 'test', secret: SANDBOX, sweep });
  const hub = createPaymentHub({ awaited: { sweepEveryMs: 0 } });
  hub.onAny(() => undefined);
  const until = Date.now() + 60_000;
  await hub.expectPayment(test.provider, { orderId: 'S-2', until });
  await new Promise((r) => setTimeout(r, 5));
  const order = await hub.expectPayment(live.provider, { orderId: 'L-2', until });
  live.paid('T-L2', 'L-2');
  await new Promise((r) => setTimeout(r, 5));
  await hub.sweep({ all: true });
  expect(test.asked).toEqual(['S-2']);
  expect(live.asked).toEqual(['L-2']);
  expect((await hub.awaited.get(order.key))?.state).toBe('settled');
  await hub.close();
});
