import type { AnyPaymentProvider, PaymentHub, ReceiveResult } from '@payhook/core';
import { createTestProvider, signedDelivery, type TestPayload } from '@payhook/core/testing';

export const provider = createTestProvider();

/** One signed delivery of the reference test gateway straight into `hub.receive`. */
export function deliver<C>(
  hub: PaymentHub<C>,
  payload: Partial<TestPayload>,
  via: AnyPaymentProvider = provider,
): Promise<ReceiveResult> {
  const fixture = signedDelivery(payload);
  return hub.receive(via, {
    body: Buffer.from(fixture.body),
    headers: fixture.headers,
    transport: 'http',
    receivedAt: new Date(),
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
