import {
  formatFieldProblems,
  GatewayApiError,
  PayloadError,
  PaymentError,
  SignatureError,
  isPaymentError,
  type PaymentErrorLike,
} from '../errors';
import {
  unwrapVerified,
  type AnyPaymentProvider,
  type Delivery,
  type NotPaymentEvent,
  type PaymentEventDraft,
} from '../provider';
import type { PaymentMode } from '../events';
import { deliveryMode } from '../modes';
import { isThenable } from './listeners';
import { reject, reportError } from './notify';
import type { HubState, ReceiveResult } from './types';

/** A step's value, or the answer that ends the delivery there. */
export type Step<T> = { ok: true; value: T } | { ok: false; result: ReceiveResult };

const ok = <T>(value: T): Step<T> => ({ ok: true, value });
const stop = (result: ReceiveResult): Step<never> => ({ ok: false, result });

/** What verify established: the payload, the key that matched (if it said) and the mode. */
export interface VerifiedAs {
  keyIndex?: number;
  mode: PaymentMode;
}

/**
 * 1 verify: fail closed. An unexpected throw from a plugin's verify is a 401, never a pass. A
 * delivery of the other mode than the mount's (a test key on a live mount) is refused here, 403,
 * before anything reads its payload.
 */
export async function verifyStep(
  state: HubState,
  provider: AnyPaymentProvider,
  delivery: Delivery,
): Promise<Step<VerifiedAs & { raw: unknown }>> {
  try {
    // Most verify() are synchronous: awaiting only a promise saves a microtask turn per delivery.
    const returned = provider.verify(delivery);
    const said = unwrapVerified(isThenable(returned) ? await returned : returned);
    const mode = deliveryMode(provider, said);
    return ok(
      said.keyIndex === undefined
        ? { raw: said.payload, mode }
        : { raw: said.payload, keyIndex: said.keyIndex, mode },
    );
  } catch (cause) {
    const error = isPaymentError(cause)
      ? cause
      : new SignatureError('verification failed unexpectedly', { source: provider.source, cause });
    return stop(refused(state, provider, error, delivery));
  }
}

/** 2 validate: the provider's schema, compiled once at construction. */
export function validateStep(
  state: HubState,
  provider: AnyPaymentProvider,
  raw: unknown,
  delivery: Delivery,
): Step<unknown> {
  const problems = provider.validate(raw);
  if (!problems) return ok(raw);
  const error = new PayloadError(
    `payload does not match the ${provider.id} schema: ${formatFieldProblems(problems)}`,
    { source: provider.source, fields: problems },
  );
  return stop(refused(state, provider, error, delivery));
}

/** 3 confirm: the gateway's own record, for providers whose notification is not (fully) signed. */
export async function confirmStep(
  state: HubState,
  provider: AnyPaymentProvider,
  raw: unknown,
  delivery: Delivery,
  keyIndex?: number,
): Promise<Step<unknown>> {
  if (!provider.confirm) return ok(undefined);
  // keyIndex only when verify named one: a plugin tests `context.keyIndex === undefined`.
  const context = keyIndex === undefined ? { delivery } : { delivery, keyIndex };
  try {
    return ok(await provider.confirm(raw, context));
  } catch (cause) {
    return stop(stepFailed(state, provider, 'confirm', cause, delivery));
  }
}

/** 4 normalize: 0..n event drafts, or why there is none, from the payload and its confirmation. */
export function normalizeStep(
  state: HubState,
  provider: AnyPaymentProvider,
  raw: unknown,
  confirmation: unknown,
  delivery: Delivery,
): Step<ReadonlyArray<PaymentEventDraft> | NotPaymentEvent> {
  try {
    return ok(provider.normalize(raw, { delivery, confirmation }));
  } catch (cause) {
    return stop(stepFailed(state, provider, 'normalize', cause, delivery));
  }
}

export function refused(
  state: HubState,
  provider: AnyPaymentProvider,
  error: PaymentErrorLike,
  delivery: Delivery,
): ReceiveResult {
  return {
    outcome: 'rejected',
    reply: reject(state, provider, error, delivery),
    events: [],
    error,
  };
}

/**
 * A PaymentError below 500 from confirm or normalize is a verdict on the delivery; a 5xx one (a
 * status API that is down) or anything else (a bug) gets the gateway's retry body, so the payment
 * is redelivered once the cause is gone, instead of being dropped.
 *
 * A GatewayApiError's `retryable` changes the report, not the reply. Retryable (or not a
 * GatewayApiError: unknown) is the ordinary case: the gateway delivers again later. With
 * `retryable: false` our own status query is broken (credentials, base URL): acknowledging would
 * make the gateway stop delivering a payment nobody confirmed, and the merchant would lose it for
 * good; its redeliveries are what recovers it once the configuration is fixed. So it gets the
 * retry body too, and the `error` context and the inbox entry say `retryable: false`, for an
 * alert that a retry will not clear.
 */
export function stepFailed(
  state: HubState,
  provider: AnyPaymentProvider,
  step: 'confirm' | 'normalize',
  cause: unknown,
  delivery: Delivery,
): ReceiveResult {
  if (isPaymentError(cause) && cause.statusCode < 500)
    return refused(state, provider, cause, delivery);
  const error = isPaymentError(cause)
    ? cause
    : new PaymentError(`${step} failed: ${(cause as Error)?.message ?? String(cause)}`, {
        code: 'ERR_NORMALIZE_FAILED',
        source: provider.source,
        cause,
      });
  const retryable = error instanceof GatewayApiError ? error.retryable : undefined;
  reportError(
    state,
    error,
    retryable === undefined
      ? { provider: provider.id, delivery }
      : { provider: provider.id, delivery, retryable },
  );
  return { outcome: 'failed', reply: provider.ack.retry, events: [], error };
}
