import type { PaymentFailure } from '@payhook/core';
import { record } from './record';

/** Stands for the reader's order store in README.md's example. */
export const orders = {
  markPaid: (eventId: string, orderId: string | null, amount: string, currency: string | null) =>
    record('orders.markPaid', eventId, orderId, amount, currency),
  markFailed: (eventId: string, orderId: string | null, failure: PaymentFailure | undefined) =>
    record('orders.markFailed', eventId, orderId, failure),
  refund: (eventId: string, orderId: string | null, amount: string) =>
    record('orders.refund', eventId, orderId, amount),
};
