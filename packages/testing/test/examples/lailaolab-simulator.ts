import { createPaymentHub, type PaymentEvent } from '@payhook/core';
import { createLailaolabSource } from '@payhook/lailaolab-socket';
import { createLailaolabFixtures } from '@payhook/testing';

export async function lailaolabOnTheSimulator(): Promise<PaymentEvent> {
  const hub = createPaymentHub();
  const connected = new Promise<void>((resolve) => hub.once('source.up', () => resolve()));
  const paid = new Promise<PaymentEvent>((resolve) =>
    hub.on('payment.completed', async (event) => resolve(event)),
  );

  const lailaolab = createLailaolabFixtures();
  const sim = await lailaolab.startSimulator();
  const source = createLailaolabSource(hub, {
    ...lailaolab.sourceOptions(sim),
    confirmByStatusQuery: true,
  });
  // The source connects in the background: a payment emitted before it is up reaches no one.
  await connected;

  sim.createTransaction({ transactionId: 'T-1', orderNo: 'D-1', amount: 100000 });
  sim.pay('T-1'); // the status API says PAYMENT_COMPLETED, and the socket emits the message
  const event = await paid; // { type: 'payment.completed', orderId: 'D-1', amount: '100000', ... }

  await source.close();
  await sim.close();
  return event;
}
