import { createMemoryInbox, createMemoryStore, createPaymentHub } from '../src';
import { createTestProvider, signedDelivery } from '../src/testing';

/**
^ * Found by a hostile review: replay refuses an entry received longer ago than the provider's maxAgeMs, and records
 * the refusal as a new entry (transport `replay`, same body and headers) dated NOW. Replaying that
 * refusal entry passes the age check (it looks fresh), so the old delivery is processed again once
 * the store has forgotten it: the max-age bound is bypassed without allowOlderThanMaxAge.
 * (Reached for deliveries whose body carries no signed time, e.g. the Cashy FAIL the code names.)
 */
it('replaying the stale refusal entry of an old delivery does not process it', async () => {
  const provider = { ...createTestProvider(), maxAgeMs: 60_000 };
  const inbox = createMemoryInbox();
  let effects = 0;
  const wire = (store = createMemoryStore()) => {
    const hub = createPaymentHub({ store, inbox });
    hub.on('payment.completed', () => void effects++);
    return hub;
  };
  const fixture = signedDelivery({ txn: 'OLD-1', order: 'O1' });
  const first = await wire().receive(provider, {
    body: Buffer.from(fixture.body),
    headers: fixture.headers,
    transport: 'http',
    receivedAt: new Date(Date.now() - 2 * 3_600_000),
  });
  expect(first.outcome).toBe('processed');
  // Later: the store has forgotten the event (a new process, or its retention passed).
  const hub = wire();
  const refused = await hub.replay(provider, first.inboxId!);
  expect(refused.outcome).toBe('rejected');
  const again = await hub.replay(provider, refused.inboxId!);
  expect({ outcome: again.outcome, effects }).toEqual({ outcome: 'rejected', effects: 1 });
});

it('a replay whose original the inbox no longer keeps is refused unless allowed', async () => {
  const provider = { ...createTestProvider(), maxAgeMs: 60_000 };
  // An inbox that has dropped some entries (pruned or evicted).
  const kept = createMemoryInbox();
  const dropped = new Set<string>();
  const inbox = {
    ...kept,
    get: async (id: string) => (dropped.has(id) ? undefined : kept.get(id)),
  };
  const hub = createPaymentHub({ inbox });
  let effects = 0;
  hub.on('payment.completed', () => void effects++);
  const fixture = signedDelivery({ txn: 'GONE-1', order: 'O2' });
  const first = await hub.receive(provider, {
    body: Buffer.from(fixture.body),
    headers: fixture.headers,
    transport: 'http',
    receivedAt: new Date(),
  });
  const replayed = await hub.replay(provider, first.inboxId!);
  expect(replayed.outcome).toBe('duplicate');
  // The original leaves the inbox; the replay's own entry stays.
  dropped.add(first.inboxId!);
  const entry = await inbox.get(replayed.inboxId!);
  expect(entry?.replayOf).toBe(first.inboxId);
  expect(await inbox.get(first.inboxId!)).toBeUndefined();
  const again = await hub.replay(provider, replayed.inboxId!);
  expect(again.error?.code).toBe('ERR_DELIVERY_STALE');
  const allowed = await hub.replay(provider, replayed.inboxId!, { allowOlderThanMaxAge: true });
  expect(allowed.outcome).toBe('duplicate');
  expect(effects).toBe(1);
});
