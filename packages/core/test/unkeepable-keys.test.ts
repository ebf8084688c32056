import { createPaymentHub, type PaymentProvider } from '@payhook/core';
import { createTestProvider, signedDelivery, type TestPayload } from '@payhook/core/testing';

// A key no store can keep (U+0000, a lone surrogate) is refused once and recorded, never claimed:
// otherwise every redelivery would fail in the store and be answered "retry" forever.
const base = createTestProvider();
const withKey = (transactionId: string): PaymentProvider<TestPayload> => ({
  ...base,
  normalize: (raw, ctx) => {
    const drafts = base.normalize(raw, ctx);
    return Array.isArray(drafts) ? drafts.map((d) => ({ ...d, transactionId })) : drafts;
  },
});

it.each([
  ['a NUL', 'T\u0000x'],
  ['a lone surrogate', 'T\ud800x'],
])(
  'a transaction id with %s: 400 ERR_PAYLOAD_INVALID, recorded, no claim, no listener',
  async (_, txn) => {
    const hub = createPaymentHub();
    hub.on('error', () => undefined);
    let runs = 0;
    hub.on('payment.completed', () => void runs++);
    const fixture = signedDelivery({ txn: 'T1' });
    const result = await hub.receive(withKey(txn), {
      body: Buffer.from(fixture.body),
      headers: fixture.headers,
      transport: 'http',
      receivedAt: new Date(),
    });
    expect([result.outcome, result.reply.status, result.error?.code]).toEqual([
      'rejected',
      400,
      'ERR_PAYLOAD_INVALID',
    ]);
    expect(runs).toBe(0);
    expect((await hub.inbox!.get(result.inboxId!))?.outcome).toBe('rejected');
    // Nothing claimed: the same delivery with a keepable key is processed.
    const again = await hub.receive(withKey('T1'), {
      body: Buffer.from(fixture.body),
      headers: fixture.headers,
      transport: 'http',
      receivedAt: new Date(),
    });
    expect([again.outcome, runs]).toEqual(['processed', 1]);
  },
);
