/**
 * Test-mode ids and completion markers (issue 26 review): `test:` after the provider id keeps a
 * sandbox event apart from a live one only if no live key can start with `test:` itself. A key is
 * the gateway's text (a transaction id, an order number), so one that does must still name a fact
 * of its own: a sandbox payment never makes a live payment a duplicate, nor supersedes its failure.
 */
import { testDelivery } from './support/deliveries';
import { createPaymentHub } from '../src';
import { createCountingStore, createTestProvider, recordHub } from '../src/testing';

const LIVE = 'live-secret-do-not-use';
const SANDBOX = 'sandbox-secret-do-not-use';

const delivery = testDelivery;

function setup() {
  const hub = createPaymentHub({ store: createCountingStore() });
  const provider = createTestProvider({
    secret: [LIVE, { key: SANDBOX, mode: 'test' }],
    allowTestMode: true,
  });
  return { hub, rec: recordHub(hub), provider };
}

it('a live payment whose key starts with test: is not the sandbox payment of the rest', async () => {
  const { hub, rec, provider } = setup();
  const sandbox = await hub.receive(provider, delivery({ txn: 'A1', status: 'PAID' }, SANDBOX));
  expect(sandbox.outcome).toBe('processed');
  const live = await hub.receive(provider, delivery({ txn: 'test:A1', status: 'PAID' }, LIVE));
  expect(live.outcome).toBe('processed');
  expect(rec.events.map((e) => [e.mode, e.transactionId])).toEqual([
    ['test', 'A1'],
    ['live', 'test:A1'],
  ]);
  expect(new Set(rec.events.map((e) => e.id)).size).toBe(2);
});

it('a sandbox payment whose key is a live one less test: is processed after it', async () => {
  const { hub, rec, provider } = setup();
  const live = await hub.receive(provider, delivery({ txn: 'test:B1', status: 'PAID' }, LIVE));
  expect(live.outcome).toBe('processed');
  const sandbox = await hub.receive(provider, delivery({ txn: 'B1', status: 'PAID' }, SANDBOX));
  expect(sandbox.outcome).toBe('processed');
  expect(rec.events).toHaveLength(2);
});

it('a sandbox completion never supersedes the failure of a live transaction test:<its id>', async () => {
  const { hub, rec, provider } = setup();
  await hub.receive(provider, delivery({ txn: 'C1', status: 'PAID' }, SANDBOX));
  const failed = await hub.receive(provider, delivery({ txn: 'test:C1', status: 'FAILED' }, LIVE));
  expect(failed.outcome).toBe('processed');
  expect(rec.events.map((e) => e.type)).toEqual(['payment.completed', 'payment.failed']);
});
