import { record } from './record';

/** Stands for the reader's own code in the Lailaolab README example. */
export const markOrderPaid = (transactionId: string, amount: string) =>
  record('markOrderPaid', transactionId, amount);

/**
 * Your call to the gateway's QR API. Here the QR of order `<id>` is transaction `<id>-qr`; the test
 * registers that transaction with its simulator.
 */
export async function generateQr(orderId: string | undefined) {
  await record('generateQr', orderId);
  return { transactionId: `${orderId}-qr`, qrCode: `qr-code-of-${orderId}` };
}

/** Your code that gives up on an order nobody paid for (the `awaited.overdue` notice). */
export const expireOrder = (transactionId: string | null) => record('expireOrder', transactionId);
