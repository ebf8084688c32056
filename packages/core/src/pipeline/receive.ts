import { ConfigError } from '../errors';
import { statusLookupsOf, type AnyPaymentProvider, type Delivery } from '../provider';
import { staleStatusAnswer } from './max-age';
import { notify } from './notify';
import { newInboxRef, recordDelivery, type InboxRef } from './record-delivery';
import { settle } from './settle';
import { confirmStep, normalizeStep, refused, stepFailed, validateStep, verifyStep } from './steps';
import { markSettled } from '../awaited/mark';
import type { DeliveryRun, HubState, ReceiveResult, ReconcileOptions } from './types';

/**
 * The transport-free pipeline, top to bottom: verify → validate → confirm → normalize → (per
 * event) claim → dispatch → finish → record the delivery in the inbox → the answer for the gateway.
 * `ref` is where the delivery is recorded (a replay passes one naming the entry it replays).
 */
export async function receive(
  state: HubState,
  provider: AnyPaymentProvider,
  delivery: Delivery,
  ref: InboxRef | undefined = newInboxRef(state),
): Promise<ReceiveResult> {
  const run: DeliveryRun = { provider, delivery, ref };
  const record = (result: ReceiveResult): Promise<ReceiveResult> =>
    recordDelivery(state, run, result);
  const verified = await verifyStep(state, provider, delivery);
  if (!verified.ok) return record(verified.result);
  const { raw, ...verifiedAs } = verified.value;
  const { keyIndex } = verifiedAs;
  const valid = validateStep(state, provider, raw, delivery);
  if (!valid.ok) return record(valid.result);
  // Only confirming providers pay for the async step (most sign their notifications).
  let confirmation: unknown;
  if (provider.confirm) {
    const confirmed = await confirmStep(state, provider, raw, delivery, keyIndex);
    if (!confirmed.ok) return record(confirmed.result);
    confirmation = confirmed.value;
  }
  const normalized = normalizeStep(state, provider, raw, confirmation, delivery);
  if (!normalized.ok) return record(normalized.result);
  const settled = await settle(state, run, normalized.value, raw, verifiedAs);
  // An awaited payment with its final answer: the sweeper stops asking about it. (Tested here, not
  // inside: a hub that awaits nothing pays no await per delivery.)
  if (state.awaited.active) await markSettled(state, delivery, settled);
  return record(settled);
}

/**
 * A status query through the same claim/dispatch path as a notification: a payment seen both
 * ways is processed once. `unhandled` when the gateway knows no such payment. The reference may
 * come from a customer ("refresh my payment"): a paid time older than the provider's maxAgeMs is
 * refused before any claim, as the same payment's webhook would be, unless the merchant's own code
 * says `allowOlderThanMaxAge`. Recorded in the inbox like a delivery (transport `status-query`,
 * the reference asked about as its message).
 */
export async function reconcile(
  state: HubState,
  provider: AnyPaymentProvider,
  reference: string,
  options: ReconcileOptions = {},
): Promise<ReceiveResult> {
  const fetchStatus = provider.fetchStatus?.bind(provider);
  if (typeof fetchStatus !== 'function')
    throw new ConfigError('provider', `${provider.id} has no status query (fetchStatus)`, {
      source: provider.source,
    });
  const by = options.by ?? 'reference';
  const lookups = statusLookupsOf(provider);
  if (!lookups.includes(by))
    throw new ConfigError(
      'by',
      `${provider.id}'s status query accepts ${lookups.join(', ')}, not ${String(by)}`,
      { source: provider.source },
    );
  const delivery: Delivery = {
    body: Buffer.alloc(0),
    headers: {},
    transport: 'status-query',
    receivedAt: new Date(),
    message: by === 'reference' ? { reference } : { [by]: reference },
  };
  const run: DeliveryRun = { provider, delivery, ref: newInboxRef(state) };
  const record = (result: ReceiveResult): Promise<ReceiveResult> =>
    recordDelivery(state, run, result);
  let found: Awaited<ReturnType<typeof fetchStatus>>;
  try {
    found = await fetchStatus(reference, { by });
  } catch (cause) {
    return record(stepFailed(state, provider, 'confirm', cause, delivery));
  }
  if (found === null) return record(unknownPayment(state, provider, reference, delivery));
  // Measured as of the answer, not of the question: a payment made while the query ran is dated
  // after receivedAt, and with no clock skew allowed it read as a time in the future.
  const stale = options.allowOlderThanMaxAge
    ? undefined
    : staleStatusAnswer(provider, found, Date.now());
  if (stale) return record(refused(state, provider, stale, delivery));
  // The mount's own mode: its status API is asked with the mount's credentials.
  const settled = await settle(state, run, found, null, { mode: provider.mode ?? 'live' });
  if (state.awaited.active) await markSettled(state, delivery, settled);
  return record(settled);
}

function unknownPayment(
  state: HubState,
  provider: AnyPaymentProvider,
  reference: string,
  delivery: Delivery,
): ReceiveResult {
  const reason = `the gateway knows no payment ${reference}`;
  notify(state, 'unhandled', {
    provider: provider.id,
    reason,
    verified: true,
    raw: null,
    delivery,
  });
  return {
    outcome: 'unhandled',
    reply: provider.ack.ok,
    events: [],
    reason: 'unknown to the gateway',
  };
}
