import { ConfigError } from '../errors';
import {
  DEFAULT_SWEEP_SCHEDULE,
  statusLookupsOf,
  type AnyPaymentProvider,
  type StatusLookup,
  type SweepSchedule,
} from '../provider';
import { nextCheckDelay } from './schedule';
import { startSweeper } from './sweep';
import type { HubState } from '../pipeline/types';
import type { AwaitedState } from './state';
import { awaitedKey, awaitedProvider, type AwaitedPayment } from './types';

/** What the merchant says about a payment it expects (`hub.expectPayment`). */
export interface ExpectedPayment {
  /** The merchant's own order number (as sent to the gateway). Give it, `reference`, or both. */
  orderId?: string;
  /** The gateway's reference, when the order's creation returned one. */
  reference?: string;
  /**
   * When the merchant stops waiting (a Date or ms since the epoch): with no final answer by then,
   * the hub sends the `awaited.overdue` notice (cancel the order) instead of a payment event.
   */
  until: Date | number;
  /**
   * Accept a status answer older than the provider's maxAgeMs for this payment (the merchant's
   * own decision, as for hub.reconcile). Default false: such an answer makes the payment overdue.
   */
  allowOlderThanMaxAge?: boolean;
}

const ID = /^[\x21-\x7e]{1,128}$/;

function checkId(value: unknown, name: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !ID.test(value))
    throw new TypeError(`expectPayment: ${name} must be 1-128 printable ASCII characters`);
  return value;
}

/** The lookup a provider is asked with: its reference when known and accepted, else the order number. */
export function lookupFor(
  provider: AnyPaymentProvider,
  entry: Pick<AwaitedPayment, 'orderId' | 'reference'>,
): { by: StatusLookup; value: string } | undefined {
  const lookups = statusLookupsOf(provider);
  if (entry.reference !== null && lookups.includes('reference'))
    return { by: 'reference', value: entry.reference };
  if (entry.orderId !== null && lookups.includes('orderId'))
    return { by: 'orderId', value: entry.orderId };
  return undefined;
}

/** The provider's schedule with the merchant's overrides for it. */
export function scheduleOf(state: AwaitedState, provider: AnyPaymentProvider): SweepSchedule {
  return {
    ...DEFAULT_SWEEP_SCHEDULE,
    ...provider.sweep,
    ...definedOnly(state.settings.schedule[provider.id]),
  };
}

const definedOnly = (o: Partial<SweepSchedule> | undefined): Partial<SweepSchedule> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));

/** `hub.expectPayment`: checks the payment can be asked about, then adds it to the list. */
export async function expectPayment(
  hub: HubState,
  provider: AnyPaymentProvider,
  expected: ExpectedPayment,
): Promise<AwaitedPayment> {
  if (!expected || typeof expected !== 'object')
    throw new TypeError('expectPayment: give { orderId and/or reference, until }');
  const state = hub.awaited;
  const orderId = checkId(expected.orderId, 'orderId');
  const reference = checkId(expected.reference, 'reference');
  if (orderId === null && reference === null)
    throw new TypeError('expectPayment: give the orderId, the reference, or both');
  if (
    !lookupFor(provider, { orderId, reference }) ||
    provider.asksAbout?.({ orderId, reference }) === false
  )
    throw new ConfigError(
      'provider',
      `${provider.id} cannot be asked about this payment: its status query ${
        provider.fetchStatus
          ? `accepts ${statusLookupsOf(provider).join(', ')}`
          : 'is not configured'
      }`,
      { source: provider.source },
    );
  const now = Date.now();
  const until = checkUntil(state, expected.until, now);
  registerProvider(hub, provider);
  const first = nextCheckDelay(scheduleOf(state, provider), 0, state.random());
  const filed = awaitedProvider(provider);
  const entry = await state.list.add({
    key: awaitedKey(filed, { orderId, reference }),
    provider: filed,
    orderId,
    reference,
    until,
    createdAt: now,
    nextCheckAt: Math.min(until, now + first),
    allowOlderThanMaxAge: expected.allowOlderThanMaxAge === true,
  });
  state.active = true;
  startSweeper(hub);
  return entry;
}

function checkUntil(state: AwaitedState, until: unknown, now: number): number {
  const at = until instanceof Date ? until.getTime() : until;
  if (typeof at !== 'number' || !Number.isFinite(at) || at <= now)
    throw new TypeError('expectPayment: until must be a Date or ms since the epoch, in the future');
  if (at - now > state.settings.maxAwaitMs)
    throw new TypeError(
      `expectPayment: until is more than awaited.maxAwaitMs (${state.settings.maxAwaitMs} ms) ahead`,
    );
  return Math.ceil(at);
}

/** A provider mounted on the hub (or awaited through it): the sweeper can ask about its payments. */
export function registerProvider(hub: HubState, provider: AnyPaymentProvider): void {
  const state = hub.awaited;
  const filed = awaitedProvider(provider);
  const mounts = state.providers.get(filed) ?? [];
  if (!mounts.includes(provider)) state.providers.set(filed, [...mounts, provider]);
  if (state.settings.shared && provider.fetchStatus) startSweeper(hub);
}

/** The mount the sweeper asks a payment through: the first that can, and says it may. */
export function askerFor(
  state: AwaitedState,
  entry: AwaitedPayment,
): { provider: AnyPaymentProvider; lookup: { by: StatusLookup; value: string } } | undefined {
  for (const provider of state.providers.get(entry.provider) ?? []) {
    const lookup = lookupFor(provider, entry);
    if (lookup && (provider.asksAbout?.(entry) ?? true)) return { provider, lookup };
  }
  return undefined;
}
