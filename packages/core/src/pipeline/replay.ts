import { ConfigError, PaymentError } from '../errors';
import type { AnyPaymentProvider, Delivery } from '../provider';
import { receive } from './receive';
import { inboxMeta, recordDelivery } from './record-delivery';
import type { HubState, ReceiveResult } from './types';

/**
 * A stored delivery through the pipeline again, as transport `replay`: its exact bytes and its
 * (redacted) headers are verified again, so a forgery stays refused and a delivery refused under a
 * wrong key is processed once the key is fixed; the store decides duplicate or new.
 */
export async function replay(
  state: HubState,
  provider: AnyPaymentProvider,
  inboxId: string,
): Promise<ReceiveResult> {
  if (!state.inbox) throw new ConfigError('inbox', 'is off (inbox: false): nothing to replay');
  const entry = await state.inbox.get(inboxId);
  if (!entry || entry.provider !== provider.id)
    throw new PaymentError(`no ${provider.id} delivery ${inboxId} in the inbox`, {
      code: 'ERR_INBOX_ENTRY_NOT_FOUND',
    });
  if (entry.transport === 'status-query')
    throw new ConfigError('inboxId', `${inboxId} is a status query: reconcile it instead`);
  const delivery: Delivery = {
    body: entry.body,
    headers: { ...entry.headers } as Delivery['headers'],
    transport: 'replay',
    receivedAt: new Date(),
  };
  if (entry.message !== undefined) delivery.message = entry.message;
  if (entry.method !== undefined) delivery.method = entry.method;
  if (entry.url !== undefined) delivery.url = entry.url;
  inboxMeta(delivery, entry.id);
  const result = await receive(state, provider, delivery);
  return recordDelivery(state, provider.id, delivery, result);
}
