import { PAYMENT_EVENT_TYPES } from './events';
import { ConfigError, type PaymentErrorLike } from './errors';
import type { AnyPaymentProvider, Delivery, HttpReply } from './provider';
import { ANY, ListenerRegistry } from './pipeline/listeners';
import { notify, reject } from './pipeline/notify';
import { receive, reconcile } from './pipeline/receive';
import { commitPolicyOf } from './pipeline/commit-policy';
import { DeadlineQueue } from './pipeline/deadlines';
import { newInboxRef, recordDelivery } from './pipeline/record-delivery';
import { HeaderRedaction } from './inbox/redact';
import { replay } from './pipeline/replay';
import { resolveHubOptions } from './pipeline/settings';
import {
  checkListeners,
  createListenerCheckState,
  scheduleListenerCheck,
} from './pipeline/boot-check';
import { createAwaitedState } from './awaited/state';
import { expectPayment, registerProvider } from './awaited/expect';
import { stopSweeper, sweep } from './awaited/sweep';
import {
  HUB_INTERNALS,
  type HubEventName,
  type HubInternals,
  type HubState,
  type NoticeChannels,
  type PaymentHub,
  type PaymentHubFor,
  type PaymentHubOptions,
} from './pipeline/types';
import type { IdempotencyStore } from './store';

export { errorReply } from './pipeline/notify';
export { HUB_INTERNALS, RECEIVE_OUTCOMES } from './pipeline/types';
export type {
  AnyPaymentListener,
  ErrorContext,
  HubChannels,
  HubEventName,
  HubInternals,
  HubListener,
  HubSettings,
  ListenerContext,
  MaxAgeOverride,
  ReconcileOptions,
  PaymentHub,
  PaymentHubFor,
  PaymentHubOptions,
  ReceiveOutcome,
  ReceiveResult,
  SourceStatus,
  UnhandledDelivery,
  UnlistenedTypes,
} from './pipeline/types';

/**
 * The hub: typed listeners (a ListenerRegistry), and the pipeline (pipeline/receive.ts) run on one
 * explicit state. Every option is checked here, at construction.
 */
export function createPaymentHub<S extends IdempotencyStore<unknown> = IdempotencyStore>(
  options: PaymentHubOptions<S> = {},
): PaymentHubFor<S> {
  const { settings, store, logger, inbox, awaited } = resolveHubOptions(options);
  const listeners = new ListenerRegistry();
  const redaction = new HeaderRedaction(settings.redactHeaders);
  const policy = commitPolicyOf(store, settings, inbox);
  const state: HubState = {
    listeners,
    store,
    logger,
    settings,
    inbox,
    redaction,
    policy,
    deadlines: new DeadlineQueue(settings.handlerTimeoutMs),
    awaited: createAwaitedState(awaited.list, awaited.settings),
    listenerCheck: createListenerCheckState(),
    inFlight: 0,
  };
  const internals = createInternals(state);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Listener = (...args: any[]) => unknown;
  const hub: PaymentHubFor<S> = {
    on(name, listener) {
      listeners.on(checkEventName(name), listener as Listener);
      return hub;
    },
    once(name, listener) {
      listeners.once(checkEventName(name), listener as Listener);
      return hub;
    },
    off(name, listener) {
      listeners.off(checkEventName(name), listener as Listener);
      return hub;
    },
    onAny(listener) {
      listeners.on(ANY, listener);
      return hub;
    },
    offAny(listener) {
      listeners.off(ANY, listener);
      return hub;
    },
    receive: (provider, delivery) => receive(state, provider, delivery),
    reconcile: (provider, reference, opts) => reconcile(state, provider, reference, opts),
    replay: (provider, inboxId, opts) => replay(state, provider, inboxId, opts),
    expectPayment: (provider, expected) => expectPayment(state, provider, expected),
    sweep: (options) => sweep(state, options),
    awaited: state.awaited.list,
    close: () => stopSweeper(state),
    [HUB_INTERNALS]: internals,
    listenerCount: (name) => listeners.count(name),
    checkListeners: () => checkListeners(state),
    store,
    logger,
    inbox,
    options: settings,
  };
  return hub;
}

/** What adapters and sources reach through HUB_INTERNALS, on the hub's state. */
function createInternals(state: HubState): HubInternals {
  // Plugins' per-hub state (e.g. the mounts that share a key) lives with the hub it belongs to.
  const plugins = new Map<string, unknown>();
  return {
    reject: (provider, error, delivery) => {
      const reply = reject(state, provider, error, delivery);
      if (delivery) {
        const refused = { outcome: 'rejected' as const, reply, events: [], error };
        void recordDelivery(state, { provider, delivery, ref: newInboxRef(state) }, refused);
      }
      return reply;
    },
    notify: (name, ...args) => notify(state, name, ...args),
    mount: (provider) => {
      registerProvider(state, provider);
      scheduleListenerCheck(state, provider);
    },
    pluginState<T>(key: string, create: () => T): T {
      if (!plugins.has(key)) plugins.set(key, create());
      return plugins.get(key) as T;
    },
  };
}

/** For adapters: reports a delivery refused before it reached `receive`; returns the reply. */
export function rejectDelivery(
  hub: PaymentHub,
  provider: AnyPaymentProvider,
  error: PaymentErrorLike,
  delivery?: Delivery,
): HttpReply {
  return hub[HUB_INTERNALS].reject(provider, error, delivery);
}

/** For sources: reports on a notice channel (`source.up`, `source.down`, `source.error`...). */
export function notifyHub<K extends keyof NoticeChannels>(
  hub: PaymentHub,
  name: K,
  ...args: NoticeChannels[K]
): void {
  hub[HUB_INTERNALS].notify(name, ...args);
}

/**
 * For plugins: their state on this hub (made by `create` on first use), e.g. what earlier mounts
 * registered, for checks across mounts at boot. `key` names the plugin (its package name).
 */
export function pluginState<T>(hub: PaymentHub, key: string, create: () => T): T {
  return hub[HUB_INTERNALS].pluginState(key, create);
}

function checkEventName(name: string): HubEventName {
  if (!HUB_EVENT_SET.has(name as HubEventName))
    throw new ConfigError(
      'event name',
      `"${String(name)}" is not an event of the hub; use one of ${HUB_EVENT_NAMES.join(', ')}`,
    );
  return name as HubEventName;
}

/**
 * Called wherever a provider is mounted on a hub (the webhook middleware, a socket source): checks
 * the hub's retention covers the provider's maxAgeMs, tells the hub's sweeper the provider, so
 * the payments awaited through it (by this instance or another) can be asked about, and schedules
 * the check that its payment types have listeners (pipeline/boot-check.ts: just after the boot
 * code that mounts it, since listeners are usually registered after the mount).
 */
export function mountProvider(hub: PaymentHub, provider: AnyPaymentProvider): void {
  assertRetentionCovers(hub, provider);
  hub[HUB_INTERNALS].mount(provider);
}

/**
 * Called wherever a provider is mounted on a hub (the webhook middleware, a socket source): a
 * provider that accepts deliveries up to `maxAgeMs` old needs a hub that remembers processed events
 * for longer, or a genuine old delivery replayed after the store forgot it would be processed again.
 */
export function assertRetentionCovers(hub: PaymentHub, provider: AnyPaymentProvider): void {
  const maxAgeMs = provider.maxAgeMs;
  if (maxAgeMs === undefined) return;
  // A time signed up to clockSkewMs ahead of our clock stays acceptable for maxAgeMs after it.
  const windowMs = maxAgeMs + (provider.clockSkewMs ?? 0);
  const retentionMs = hub.options.retentionMs;
  if (retentionMs <= windowMs)
    throw new ConfigError(
      'retentionMs',
      `(${retentionMs} ms) must be longer than the ${provider.id} provider's maxAgeMs + clockSkewMs (${windowMs} ms): ` +
        'a delivery still young enough to be accepted must never be one the store has forgotten',
      { source: provider.source },
    );
}

/** The names a hub accepts, for runtime checks. */
export const HUB_EVENT_NAMES: readonly HubEventName[] = Object.freeze([
  ...PAYMENT_EVENT_TYPES,
  'unhandled',
  'duplicate',
  'superseded',
  'error',
  'source.up',
  'source.down',
  'source.error',
  'awaited.settled',
  'awaited.overdue',
]);
const HUB_EVENT_SET: ReadonlySet<HubEventName> = new Set([...HUB_EVENT_NAMES, ANY as HubEventName]);
