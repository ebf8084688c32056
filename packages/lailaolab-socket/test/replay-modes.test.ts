import { createPaymentHub, type PaymentEvent } from '@payhook/core';
import { createCountingStore } from '@payhook/core/testing';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { createLailaolabProvider } from '../src';
import { SECRET } from './helpers';

/**
 * Replay and mode (issue 26 review). An inbox entry names its provider by id, and a test and a
 * live Lailaolab mount share the id `lailaolab`: the inspector replays through the one provider
 * it was given for that id. A socket message is trusted for its channel, the key's; with
 * `confirmByStatusQuery: false` nothing else vouches for it. A sandbox channel's message replayed
 * through the live mount must not become a live payment.
 */
const SANDBOX_SECRET = '$2b$10$Sandbox/Only.Key0qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68';
const TXN = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';

let live: LailaolabSimulator;
let sandbox: LailaolabSimulator;
beforeAll(async () => {
  live = await startLailaolabSimulator({ secretKey: SECRET });
  sandbox = await startLailaolabSimulator({ secretKey: SANDBOX_SECRET });
});
afterAll(async () => {
  await live.close();
  await sandbox.close();
});

it('a sandbox socket message replayed through the live mount never becomes a live event', async () => {
  const hub = createPaymentHub({ store: createCountingStore() });
  const events: PaymentEvent[] = [];
  hub.onAny((e) => void events.push(e));
  const trusted = { confirmByStatusQuery: false } as const;
  const testMount = createLailaolabProvider({
    secretKey: SANDBOX_SECRET,
    statusQuery: { baseUrl: sandbox.apiBase },
    mode: 'test',
    ...trusted,
  });
  const liveMount = createLailaolabProvider({
    secretKey: SECRET,
    statusQuery: { baseUrl: live.apiBase },
    ...trusted,
  });
  sandbox.createTransaction({ transactionId: TXN, amount: 5000 });
  const message = sandbox.pay(TXN, { emit: false, at: new Date(Date.now() - 60_000) });
  const first = await hub.receive(testMount, {
    body: Buffer.alloc(0),
    headers: {},
    transport: 'socket',
    message,
    receivedAt: new Date(),
  });
  expect(first.outcome).toBe('processed');
  expect(events.map((e) => e.mode)).toEqual(['test']);
  const again = await hub.replay(liveMount, first.inboxId!);
  expect(events.filter((e) => e.mode === 'live')).toEqual([]);
  expect(again.outcome).not.toBe('processed');
});

it('a live socket message replayed through its own mount is asked about with the live key', async () => {
  const hub = createPaymentHub({ store: createCountingStore() });
  const events: PaymentEvent[] = [];
  hub.onAny((e) => void events.push(e));
  const liveMount = createLailaolabProvider({
    secretKey: SECRET,
    statusQuery: { baseUrl: live.apiBase },
    confirmByStatusQuery: false,
  });
  const id = 'f2a3b4c5-d6e7-4f8a-9b0c-1d2e3f4a5b6c';
  live.createTransaction({ transactionId: id, amount: 7000 });
  const message = live.pay(id, { emit: false, at: new Date(Date.now() - 60_000) });
  const asked = () => live.statusRequests.filter((r) => r.transactionId === id).length;
  const first = await hub.receive(liveMount, {
    body: Buffer.alloc(0),
    headers: {},
    transport: 'socket',
    message,
    receivedAt: new Date(),
  });
  expect(first.outcome).toBe('processed');
  // Trusted for its channel: no status query on the socket itself.
  expect(asked()).toBe(0);
  const again = await hub.replay(liveMount, first.inboxId!);
  expect(again.outcome).toBe('duplicate');
  expect(asked()).toBe(1);
  expect(events.map((e) => [e.mode, e.verification])).toEqual([['live', 'secret-channel']]);
});
