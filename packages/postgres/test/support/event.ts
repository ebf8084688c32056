import type { PaymentEvent } from '@payhook/core';

/** A completed test-gateway payment, as the hub would queue it (async mode's tests enqueue it). */
export const completedEvent = (txn: string): PaymentEvent =>
  ({
    id: `test-gateway:${txn}:paid`,
    type: 'payment.completed',
    provider: 'test-gateway',
    orderId: null,
    transactionId: txn,
    amount: '10.00',
    currency: 'LAK',
    occurredAt: '2025-01-02T03:04:05+07:00',
    receivedAt: '2025-01-02T03:04:06+07:00',
    verification: 'signature',
    raw: {},
  }) as PaymentEvent;
