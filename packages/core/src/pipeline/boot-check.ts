import type { PaymentEventType } from '../events';
import { ConfigError } from '../errors';
import { eventTypesOf, type AnyPaymentProvider } from '../provider';
import { ANY } from './listeners';
import { notify } from './notify';
import type { HubState, UnlistenedTypes } from './types';

/**
 * The boot-time listener check: a payment type a mounted provider can emit, with no listener (nor
 * `onAny`) and not in the hub's `ignore` option, gets the gateway's retry body at every delivery and
 * is never marked done. Left alone, the merchant learns it at the first refund; a gateway that
 * disables the webhook after repeated failures (PayMongo) then stops sending every payment.
 *
 * When it runs: once per mounted provider, on `setImmediate` after the mount, rather than in the
 * mount call or at the first delivery. Listeners are usually registered next to `app.use(...)`,
 * often after it, in the same synchronous boot code: the mount itself would see none of them, and
 * the first delivery is too late (that delivery already gets the retry body, and for a gateway
 * that counts failures it already counts). `setImmediate` runs after that synchronous code and
 * before any request can be handled, so the warning comes at boot. Listeners registered after an
 * `await` in boot are missed by it: `hub.checkListeners()`, called once they are registered,
 * is the explicit check, and the one that throws.
 */
export interface ListenerCheckState {
  /** Providers mounted on this hub, in mount order (one entry per provider object). */
  readonly mounted: AnyPaymentProvider[];
  /** Providers whose automatic check is scheduled or done, or that checkListeners() covered. */
  readonly checked: Set<AnyPaymentProvider>;
}

export function createListenerCheckState(): ListenerCheckState {
  return { mounted: [], checked: new Set() };
}

/** Called at each mount: the first mount of a provider schedules its check. */
export function scheduleListenerCheck(state: HubState, provider: AnyPaymentProvider): void {
  const check = state.listenerCheck;
  if (check.checked.has(provider)) return;
  check.mounted.push(provider);
  check.checked.add(provider);
  setImmediate(() => {
    const gap = unlistenedTypes(state, provider);
    if (!gap) return;
    const fatal = fatalError(gap, provider);
    if (!fatal) return warn(state, gap, provider);
    // Thrown here, it would be an uncaught exception from a timer: the process dies, also when
    // the listener is only registered after an await. Logged at error level and reported on
    // `error` instead; hub.checkListeners() is where it is thrown.
    state.logger.error({ provider: provider.id, types: gap.types }, fatal.message);
    notify(state, 'error', fatal, { provider: provider.id });
  });
}

/**
 * hub.checkListeners(): every provider mounted so far, checked now. Returns the gaps (logging
 * nothing: the automatic check logs); throws a ConfigError for a provider whose gateway disables
 * the webhook after failures, under NODE_ENV=production.
 */
export function checkListeners(state: HubState): UnlistenedTypes[] {
  const gaps: UnlistenedTypes[] = [];
  const errors: ConfigError[] = [];
  for (const provider of state.listenerCheck.mounted) {
    const gap = unlistenedTypes(state, provider);
    if (!gap) continue;
    gaps.push(gap);
    const fatal = fatalError(gap, provider);
    if (fatal) errors.push(fatal);
  }
  if (errors.length > 0) throw errors[0]!;
  return gaps;
}

/** The types `provider` emits that nobody handles, or undefined when there are none. */
function unlistenedTypes(
  state: HubState,
  provider: AnyPaymentProvider,
): UnlistenedTypes | undefined {
  if (state.listeners.count(ANY) > 0) return undefined;
  const types: PaymentEventType[] = eventTypesOf(provider).filter(
    (type) => state.listeners.count(type) === 0 && !state.settings.ignore.includes(type),
  );
  if (types.length === 0) return undefined;
  return { provider: provider.id, types, disablesWebhookAfterFailures: disables(provider) };
}

const disables = (provider: AnyPaymentProvider): boolean =>
  provider.disablesWebhookAfterFailures === true;

function fatalError(gap: UnlistenedTypes, provider: AnyPaymentProvider): ConfigError | undefined {
  if (!gap.disablesWebhookAfterFailures || process.env.NODE_ENV !== 'production') return undefined;
  return new ConfigError(
    'ignore',
    `must name ${gap.types.join(', ')}, or a listener must be registered for ${gap.types.length > 1 ? 'them' : 'it'}: ` +
      `the ${provider.id} provider emits ${gap.types.length > 1 ? 'these types' : 'this type'}, whose deliveries would get the retry body, ` +
      'and its gateway disables the webhook after repeated failures',
    { source: provider.source },
  );
}

function warn(state: HubState, gap: UnlistenedTypes, provider: AnyPaymentProvider): void {
  state.logger.warn(
    { provider: gap.provider, types: gap.types },
    `@payhook/core: the ${provider.id} provider emits ${gap.types.join(', ')} with no listener ` +
      "and not in the hub's ignore option: such a delivery gets the retry body until a listener " +
      `is added (hub.on('${gap.types[0]}', ...), or list it in ignore)`,
  );
}
