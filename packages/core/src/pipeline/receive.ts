import { ConfigError } from '../errors';
import type { AnyPaymentProvider, Delivery } from '../provider';
import { staleStatusAnswer } from './max-age';
import { notify } from './notify';
import { settle } from './settle';
import { confirmStep, normalizeStep, refused, stepFailed, validateStep, verifyStep } from './steps';
import type { HubState, MaxAgeOverride, ReceiveResult } from './types';

/**
 * The transport-free pipeline, top to bottom: verify → validate → confirm → normalize → (per
 * event) claim → dispatch → commit or release → the answer for the gateway.
 */
export async function receive(
  state: HubState,
  provider: AnyPaymentProvider,
  delivery: Delivery,
): Promise<ReceiveResult> {
  const verified = await verifyStep(state, provider, delivery);
  if (!verified.ok) return verified.result;
  const { raw, keyIndex } = verified.value;
  const valid = validateStep(state, provider, raw, delivery);
  if (!valid.ok) return valid.result;
  // Only confirming providers pay for the async step (most sign their notifications).
  let confirmation: unknown;
  if (provider.confirm) {
    const confirmed = await confirmStep(state, provider, raw, delivery);
    if (!confirmed.ok) return confirmed.result;
    confirmation = confirmed.value;
  }
  const normalized = normalizeStep(state, provider, raw, confirmation, delivery);
  if (!normalized.ok) return normalized.result;
  return settle(state, provider, normalized.value, raw, delivery, keyIndex);
}

/**
 * A status query through the same claim/dispatch path as a notification: a payment seen both
 * ways is processed once. `unhandled` when the gateway knows no such payment. The reference may
 * come from a customer ("refresh my payment"): a paid time older than the provider's maxAgeMs is
 * refused before any claim, as the same payment's webhook would be, unless the merchant's own code
 * says `allowOlderThanMaxAge`.
 */
export async function reconcile(
  state: HubState,
  provider: AnyPaymentProvider,
  reference: string,
  options: MaxAgeOverride = {},
): Promise<ReceiveResult> {
  if (typeof provider.fetchStatus !== 'function')
    throw new ConfigError('provider', `${provider.id} has no status query (fetchStatus)`, {
      source: provider.source,
    });
  const delivery: Delivery = {
    body: Buffer.alloc(0),
    headers: {},
    transport: 'status-query',
    receivedAt: new Date(),
  };
  let found: Awaited<ReturnType<NonNullable<AnyPaymentProvider['fetchStatus']>>>;
  try {
    found = await provider.fetchStatus(reference);
  } catch (cause) {
    return stepFailed(state, provider, 'confirm', cause, delivery);
  }
  if (found === null) {
    const reason = `the gateway knows no payment ${reference}`;
    notify(state, 'unhandled', {
      provider: provider.id,
      reason,
      verified: true,
      raw: null,
      delivery,
    });
    return { outcome: 'unhandled', reply: provider.ack.ok, events: [] };
  }
  const stale = options.allowOlderThanMaxAge
    ? undefined
    : staleStatusAnswer(provider, found, delivery.receivedAt.getTime());
  if (stale) return refused(state, provider, stale, delivery);
  return settle(state, provider, found, null, delivery);
}
