import type {
  AnyPaymentListener,
  ListenerContext,
  PaymentEventType,
  PaymentHub,
} from '@payhook/core';
import { QUEUE_STATE, type InternalQueue } from './queue';
import type { PaymentQueue, Queryable } from './types';

/** The claim's transaction, when the hub's store is the PostgreSQL one (its listeners get `{ tx }`). */
function claimTransaction(context: ListenerContext): Queryable | undefined {
  const tx = (context as ListenerContext & { tx?: Queryable }).tx;
  return tx && typeof tx.query === 'function' ? tx : undefined;
}

/**
 * Async dispatch: the hub's only payment listener records each event as pending and queues its
 * job, inside the claim's transaction when there is one, so the hub's commit makes claim, pending
 * row and job durable together before the gateway hears its success body. The merchant's listeners
 * go on the queue (`queue.on(...)`) and run in a worker. Returns a function that detaches it.
 */
export function attachQueue(
  hub: PaymentHub,
  queue: PaymentQueue,
  options: AttachQueueOptions = {},
): () => void {
  const internal = queue as InternalQueue;
  if (!internal[QUEUE_STATE])
    throw new TypeError('attachQueue needs a queue made by createPaymentQueue');
  const listener: AnyPaymentListener = async (event, context) => {
    await queue.enqueue(event, claimTransaction(context));
  };
  const types = options.types;
  if (!types) {
    hub.onAny(listener);
    return () => void hub.offAny(listener);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const type of types) hub.on(type, listener as any);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return () => types.forEach((type) => hub.off(type, listener as any));
}

export interface AttachQueueOptions {
  /**
   * Only these types go to the queue (default: every payment type). The others keep the hub's sync
   * behaviour: their hub listeners run at once, and with none they are unhandled or ignored.
   */
  types?: readonly PaymentEventType[];
}
