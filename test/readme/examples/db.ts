import { record } from './record';

/** Stands for the reader's database in the core and redis-store README examples. */
export const db = {
  orders: {
    markPaid: (
      orderId: string | null,
      amount: string,
      options: { signal: AbortSignal; eventId?: string },
    ) =>
      record('db.orders.markPaid', orderId, amount, {
        eventId: options.eventId,
        signal: options.signal instanceof AbortSignal,
      }),
  },
};
