/**
 * The list and the delivery page flag what an operator must not miss next to an amount (issue 26):
 * sandbox money (`event.mode === 'test'`) and a reversal that is not a plain refund (a void, a
 * chargeback). Entries come from a real hub's memory inbox, through the real pipeline.
 */
import { createPaymentHub } from '@payhook/core';
import {
  createTestProvider,
  signedDelivery,
  TEST_SECRET,
  type TestPayload,
} from '@payhook/core/testing';
import { toDetail, toRow } from '../src/views';

const SANDBOX = 'sandbox-secret-for-the-inspector';

async function entryFor(payload: Partial<TestPayload>, secret: string) {
  const hub = createPaymentHub();
  hub.onAny(() => undefined);
  const provider = createTestProvider({
    secret: [TEST_SECRET, { key: SANDBOX, mode: 'test' }],
    allowTestMode: true,
  });
  const signed = signedDelivery({ at: new Date().toISOString(), ...payload }, secret);
  const result = await hub.receive(provider, {
    body: Buffer.from(signed.body),
    headers: signed.headers,
    transport: 'http',
    receivedAt: new Date(),
  });
  expect(result.outcome).toBe('processed');
  const entry = await hub.inbox!.get(result.inboxId!);
  return entry!;
}

describe('flags next to the amount', () => {
  it('test for sandbox money, the kind for a void or a chargeback, nothing for a live payment or refund', async () => {
    const rows = await Promise.all([
      entryFor({ txn: 'T-1' }, SANDBOX),
      entryFor({ txn: 'T-2', status: 'VOIDED', refundId: 'V-2' }, TEST_SECRET),
      entryFor({ txn: 'T-3', status: 'CHARGEBACK', refundId: 'D-3' }, SANDBOX),
      entryFor({ txn: 'T-4' }, TEST_SECRET),
      entryFor({ txn: 'T-5', status: 'REFUNDED', refundId: 'R-5' }, TEST_SECRET),
    ]);
    expect(rows.map((e) => toRow(e).flags)).toEqual(['test', 'void', 'test, chargeback', '', '']);
    expect(toDetail(rows[2]!, [], new Set()).flags).toBe('test, chargeback');
  });
});
