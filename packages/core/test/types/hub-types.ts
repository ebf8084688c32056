/**
 * Type tests, checked by `npm run typecheck` (tsc --noEmit): each @ts-expect-error line must fail to
 * compile, or tsc reports the directive as unused.
 */
import {
  createPaymentHub,
  PAYMENT_EVENT_TYPES,
  type PaymentEvent,
  type PaymentEventType,
} from '../../src';

const hub = createPaymentHub();

hub.on('payment.completed', (event, context) => {
  const type: 'payment.completed' = event.type;
  const amount: string = event.amount;
  const signal: AbortSignal = context.signal;
  void type;
  void amount;
  void signal;
});

hub.on('payment.refunded', (event) => {
  const refundId: string | undefined = event.refund?.refundId;
  void refundId;
  // @ts-expect-error a refunded event is not a completed one
  const wrong: 'payment.completed' = event.type;
  void wrong;
});

// @ts-expect-error an unknown event name does not compile
hub.on('payment.complete', () => undefined);

// @ts-expect-error amount is a string, never a number
hub.on('payment.failed', (event: PaymentEvent & { amount: number }) => event);

hub.on('error', (error) => {
  const code: string = error.code;
  const status: number = error.statusCode;
  void code;
  void status;
});

hub.onAny((event) => {
  const t: PaymentEventType = event.type;
  void t;
});

// The union derives from the one const list.
const names: readonly PaymentEventType[] = PAYMENT_EVENT_TYPES;
void names;
// @ts-expect-error not a payment event type
const bad: PaymentEventType = 'payment.pending';
void bad;

// A store whose claims carry a context: the listeners' context carries it, typed.
interface FakeTx {
  query(sql: string): Promise<unknown>;
}
declare const transactionalStore: import('../../src').IdempotencyStore<{ tx: FakeTx }>;
const txHub = createPaymentHub({ store: transactionalStore });
txHub.on('payment.completed', async (event, { tx, signal }) => {
  await tx.query(`UPDATE orders SET paid = true WHERE id = '${event.orderId}'`);
  void signal;
});
txHub.onAny(async (_event, { tx }) => void (await tx.query('SELECT 1')));
// @ts-expect-error a store without a context gives the listeners no tx
hub.on('payment.completed', (_event, { tx }) => tx);
// A hub with a context is still a PaymentHub where one is expected (adapters, sources).
const plain: import('../../src').PaymentHub = txHub;
void plain;
