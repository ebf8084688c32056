import { type PaymentEvent, type PaymentHub } from '@payhook/core';
import { addDecimal, compareDecimal } from '@payhook/core/plugin';

/** The merchant's side: an orders table in memory, kept by payhook's three events. */

export type OrderStatus = 'pending' | 'paid' | 'failed' | 'partially refunded' | 'refunded';

export interface Order {
  id: string;
  gateway: string;
  /** What the customer owes, exact decimal. */
  amount: string;
  currency: string;
  status: OrderStatus;
  /** What the gateway reported paid (null until paid). */
  paid: string | null;
  refunded: string;
  transactionId: string | null;
  /** A line per event applied, for the log and the table. */
  history: string[];
}

export interface OrdersTable {
  create(order: { id: string; gateway: string; amount: string; currency: string }): Order;
  get(id: string): Order | undefined;
  all(): Order[];
  /** The table as text, one order per line. */
  format(): string;
}

export function createOrdersTable(): OrdersTable {
  const orders = new Map<string, Order>();
  return {
    create(init) {
      const order: Order = {
        ...init,
        status: 'pending',
        paid: null,
        refunded: '0',
        transactionId: null,
        history: [],
      };
      orders.set(order.id, order);
      return order;
    },
    get: (id) => orders.get(id),
    all: () => [...orders.values()],
    format() {
      const rows = [
        ['order', 'gateway', 'amount', 'status', 'paid', 'refunded'],
        ...[...orders.values()].map((o) => [
          o.id,
          o.gateway,
          `${o.amount} ${o.currency}`,
          o.status,
          o.paid ?? '-',
          o.refunded === '0' ? '-' : o.refunded,
        ]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      return rows
        .map((r) =>
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        )
        .join('\n');
    },
  };
}

/**
 * The business logic, written once for every gateway: mark orders paid, failed or refunded. An
 * order is found by the merchant order id the gateway echoes, else by the gateway's transaction
 * id (refund notifications of some gateways name only the payment's transaction).
 */
export function attachOrderListeners(
  hub: PaymentHub,
  orders: OrdersTable,
  log: (line: string) => void,
): void {
  const find = (event: PaymentEvent): Order | undefined =>
    (event.orderId ? orders.get(event.orderId) : undefined) ??
    orders.all().find((o) => o.transactionId === event.transactionId);
  const describe = (event: PaymentEvent, order: Order | undefined): string =>
    `[${event.provider}] ${event.type} order ${order?.id ?? event.orderId ?? '?'} ${event.amount}${event.currency ? ` ${event.currency}` : ''} (txn ${event.transactionId}, ${event.verification})`;

  hub.on('payment.completed', async (event) => {
    const order = find(event);
    log(describe(event, order));
    if (!order) return log(`  ! no such order: acknowledged, kept for review`);
    if (compareDecimal(event.amount, order.amount) !== 0)
      log(`  ! paid ${event.amount} for an order of ${order.amount}: flagged for review`);
    order.status = 'paid';
    order.paid = event.amount;
    order.transactionId = event.transactionId;
    order.history.push(event.type);
  });
  hub.on('payment.failed', async (event) => {
    const order = find(event);
    log(`${describe(event, order)} ${event.failure?.code ?? ''}`.trimEnd());
    if (!order) return;
    // A late failure notice never undoes a payment (the hub also drops stale ones).
    if (order.status === 'pending') order.status = 'failed';
    order.history.push(event.type);
  });
  hub.on('payment.refunded', async (event) => {
    const order = find(event);
    log(`${describe(event, order)} refund ${event.refund!.refundId} of ${event.refund!.amount}`);
    if (!order) return;
    order.refunded = addDecimal(order.refunded, event.refund!.amount);
    order.status =
      order.paid !== null && compareDecimal(order.refunded, order.paid) >= 0
        ? 'refunded'
        : 'partially refunded';
    order.history.push(event.type);
  });
  hub.on('duplicate', (event) =>
    log(
      `[${event.provider}] duplicate of ${event.type} ${event.orderId ?? event.transactionId}: acknowledged, not applied again`,
    ),
  );
  hub.on('superseded', (event, reason) =>
    log(`[${event.provider}] superseded ${event.type}: ${reason}`),
  );
  hub.on('unhandled', (u) =>
    log(`[${u.provider}] not a payment event (${u.reason}): acknowledged`),
  );
  hub.on('error', (error, context) =>
    log(`[${context.provider ?? '?'}] refused: ${error.code} ${error.message}`),
  );
  hub.on('source.up', (s) => log(`[${s.provider}] socket up${s.detail ? `: ${s.detail}` : ''}`));
  hub.on('source.down', (s) =>
    log(`[${s.provider}] socket down${s.detail ? `: ${s.detail}` : ''}`),
  );
}
