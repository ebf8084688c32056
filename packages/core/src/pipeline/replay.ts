import { ConfigError, PaymentError } from '../errors';
import type { InboxEntry } from '../inbox/types';
import type { AnyPaymentProvider, Delivery } from '../provider';
import { staleInboxEntry } from './max-age';
import { receive } from './receive';
import { newInboxRef, recordDelivery } from './record-delivery';
import { refused } from './steps';
import type { HubState, MaxAgeOverride, ReceiveResult } from './types';

/**
 * A stored delivery through the pipeline again, as transport `replay`: its exact bytes and its
 * (redacted) headers are verified again, so a forgery stays refused and a delivery refused under a
 * wrong key is processed once the key is fixed; the store decides duplicate or new. An entry older
 * than the provider's maxAgeMs may be one the store has forgotten: refused unless the caller says
 * `allowOlderThanMaxAge` (the refusal is recorded as the replay's entry, for the audit trail).
 */
export async function replay(
  state: HubState,
  provider: AnyPaymentProvider,
  inboxId: string,
  options: MaxAgeOverride = {},
): Promise<ReceiveResult> {
  if (!state.inbox) throw new ConfigError('inbox', 'is off (inbox: false): nothing to replay');
  const entry = await state.inbox.get(inboxId);
  if (!entry || entry.provider !== provider.id)
    throw new PaymentError(`no ${provider.id} delivery ${inboxId} in the inbox`, {
      code: 'ERR_INBOX_ENTRY_NOT_FOUND',
    });
  if (entry.transport === 'status-query')
    throw new ConfigError('inboxId', `${inboxId} is a status query: reconcile it instead`);
  const delivery = replayDelivery(entry);
  const ref = newInboxRef(state, entry.id);
  // A replay's own entry is dated when it was replayed: the delivery is as old as the first
  // receipt along its replayOf chain (else replaying a replay's entry would reset its age).
  const firstReceived = await firstReceipt(state.inbox, entry);
  const stale = options.allowOlderThanMaxAge
    ? undefined
    : staleInboxEntry(provider, entry, firstReceived, delivery.receivedAt.getTime());
  if (stale)
    return recordDelivery(
      state,
      { provider, delivery, ref },
      refused(state, provider, stale, delivery),
    );
  if (!options.allowOlderThanMaxAge) return receive(state, provider, delivery, ref);
  // Allowed on purpose: the provider's own signed-time check then measures the delivery as of
  // when it arrived (one that was fresh then is processed; one stale on arrival stays refused),
  // and the replay's entry is still dated now.
  const replayedAt = delivery.receivedAt;
  delivery.receivedAt = firstReceived ?? entry.receivedAt;
  return receive(state, provider, delivery, ref && { ...ref, receivedAt: replayedAt });
}

/** Replays of replays are followed this far back; a longer chain counts as of unknown age. */
const MAX_REPLAY_CHAIN = 16;

/**
 * When the delivery behind `entry` first arrived: the receipt of the oldest entry along its
 * `replayOf` chain. Undefined when an entry of the chain is no longer kept (pruned, evicted) or the
 * chain is longer than MAX_REPLAY_CHAIN: its age cannot be vouched for.
 */
async function firstReceipt(
  inbox: NonNullable<HubState['inbox']>,
  entry: InboxEntry,
): Promise<Date | undefined> {
  let current = entry;
  for (let hops = 0; current.replayOf !== undefined; hops++) {
    if (hops === MAX_REPLAY_CHAIN) return undefined;
    const previous = await inbox.get(current.replayOf);
    if (!previous) return undefined;
    current = previous;
  }
  return current.receivedAt;
}

function replayDelivery(entry: InboxEntry): Delivery {
  const delivery: Delivery = {
    body: entry.body,
    headers: { ...entry.headers } as Delivery['headers'],
    transport: 'replay',
    receivedAt: new Date(),
  };
  if (entry.message !== undefined) delivery.message = entry.message;
  if (entry.method !== undefined) delivery.method = entry.method;
  if (entry.url !== undefined) delivery.url = entry.url;
  return delivery;
}
