import type { PaymentFailure } from '@payhook/core';
import { record } from './record';

/** Stands for the reader's order store in README.md's example. */
export const orders = {
  markPaid: (orderId: string | null, amount: string, currency: string | null) =>
    record('orders.markPaid', orderId, amount, currency),
  markFailed: (orderId: string | null, failure: PaymentFailure | undefined) =>
    record('orders.markFailed', orderId, failure),
  refund: (orderId: string | null, amount: string) => record('orders.refund', orderId, amount),
};
