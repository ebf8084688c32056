import { checkWholeNumber, optionFailer, type OptionFailer } from './options';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import {
  PAYMENT_EVENT_TYPES,
  isPaymentEventType,
  type PaymentEvent,
  type PaymentEventType,
  type PaymentMode,
  type PaymentRefund,
  type VerificationMethod,
} from './events';
import { checkModes } from './modes';
import { FieldProblem, ProviderConfigError } from './errors';
import { DEFAULT_CLOCK_SKEW_MS } from './signed-time';
import { checkHeaderNames } from './inbox/redact';

/** What a transport hands to the hub: the bytes exactly as received, and their headers. */
export interface Delivery {
  /** Raw body bytes. Empty for transports that deliver decoded messages (see `message`). */
  body: Buffer;
  /** Header names lower-cased, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** A message already decoded by its transport (a Socket.IO event), when there are no raw bytes. */
  message?: unknown;
  transport: 'http' | 'socket' | 'replay' | (string & {});
  receivedAt: Date;
  method?: string;
  url?: string;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How a provider declares a reply: an object body is sent as JSON, a string as text/plain. */
export interface ReplyInit {
  status?: number;
  body: string | Record<string, unknown>;
  contentType?: string;
}

/** Returned by `normalize` for a verified delivery that must not produce a payment event. */
export interface NotPaymentEvent {
  readonly kind: 'not-a-payment-event' | 'pending';
  readonly reason: string;
  /**
   * False when nothing established that the notice came from the gateway (an unsigned webhook's
   * notice that was not worth a status query): `unhandled` listeners must not act on it.
   */
  readonly verified?: boolean;
}

/**
 * A delivery that is not about a payment (a payout, a dispute, an unknown event name). Pass
 * `{ verified: false }` when its authenticity was not established.
 */
export function notAPaymentEvent(
  reason: string,
  options: { verified?: boolean } = {},
): NotPaymentEvent {
  return options.verified === false
    ? { kind: 'not-a-payment-event', reason, verified: false }
    : { kind: 'not-a-payment-event', reason };
}

/** A payment that is not final yet (PENDING, PROCESSING): acknowledge it, emit nothing. */
export function pendingPayment(reason: string): NotPaymentEvent {
  return { kind: 'pending', reason };
}

/**
 * What `normalize` fills in; the hub adds provider, receivedAt and mode (from the key that
 * verified the delivery), and prefixes the id. `raw` and `verification` default to the verified
 * payload and the provider's method; a draft that sets them keeps its own (a status answer's
 * record, `status-query`). `refund.kind` defaults to `refund`: a void or a chargeback says so.
 */
export type PaymentEventDraft<Raw = unknown> = Omit<
  PaymentEvent<Raw>,
  'provider' | 'receivedAt' | 'raw' | 'verification' | 'mode' | 'refund'
> & {
  verification?: VerificationMethod;
  raw?: Raw;
  refund?: Omit<PaymentRefund, 'kind'> & { kind?: PaymentRefund['kind'] };
};

export type NormalizeResult<Raw = unknown> =
  ReadonlyArray<PaymentEventDraft<Raw>> | NotPaymentEvent;

export interface NormalizeContext<Confirmation = unknown> {
  delivery: Delivery;
  /** What `confirm` returned (the gateway's own record of the payment), for confirming providers. */
  confirmation?: Confirmation;
}

export interface ConfirmContext {
  delivery: Delivery;
  /**
   * Which of the provider's keys verified the delivery, when verify returned
   * `verified(payload, { keyIndex })`: during a rotation, the status query can use the API key of
   * the same pair (test or live, old or new). Absent when verify returned the bare payload.
   */
  keyIndex?: number;
}

const VERIFIED = Symbol('payhook.verified');

/**
 * What `verify` may return to tell the hub which of several keys matched (a key rotation, a test
 * and a live key), and, for a gateway whose signature itself says so, the delivery's mode.
 */
export interface VerifiedPayload<Raw> {
  readonly [VERIFIED]: true;
  readonly payload: Raw;
  readonly keyIndex?: number;
  readonly mode?: PaymentMode;
}

/**
 * `return verified(payload, { keyIndex })` from verify: the event then says which key matched,
 * and has that key's mode (ProviderDefinition.keyModes). Give `mode` when the signature itself
 * tells test from live (PayMongo's `te=` and `li=`): it wins over the key's.
 */
export function verified<Raw>(
  payload: Raw,
  info: { keyIndex?: number; mode?: PaymentMode },
): VerifiedPayload<Raw> {
  const v: { [VERIFIED]: true; payload: Raw; keyIndex?: number; mode?: PaymentMode } = {
    [VERIFIED]: true,
    payload,
  };
  if (info.keyIndex !== undefined) v.keyIndex = info.keyIndex;
  if (info.mode !== undefined) v.mode = info.mode;
  return v;
}

/** Splits what verify returned into the payload and what it said of the key and mode, if anything. */
export function unwrapVerified(value: unknown): {
  payload: unknown;
  keyIndex?: number;
  mode?: PaymentMode;
} {
  if (value !== null && typeof value === 'object' && VERIFIED in value) {
    const { payload, keyIndex, mode } = value as VerifiedPayload<unknown>;
    return { payload, keyIndex, mode };
  }
  return { payload: value };
}

/**
 * The keys a gateway's status API can be asked by: its own reference for the payment, or the
 * merchant's order number. One list, from which the type and the runtime checks derive.
 */
export const STATUS_LOOKUPS = ['reference', 'orderId'] as const;
export type StatusLookup = (typeof STATUS_LOOKUPS)[number];

/** What `fetchStatus` is told about the key it is given. */
export interface StatusLookupContext {
  by: StatusLookup;
}

/**
 * When the awaited-payment sweeper asks the gateway again (milliseconds): first `firstCheckMs`
 * after the payment was awaited, then twice as long each time up to `maxIntervalMs`, each delay
 * jittered down by up to half; at most `queriesPerMinute` status queries per gateway and process.
 */
export interface SweepSchedule {
  firstCheckMs: number;
  maxIntervalMs: number;
  queriesPerMinute: number;
}

/** The status answer `fetchStatus` resolves with: the payment's events, why there is none, or null (unknown). */
export type StatusAnswer<Raw = unknown> =
  ReadonlyArray<PaymentEventDraft<Raw>> | NotPaymentEvent | null;

export interface ProviderDefinition<Raw, Confirmation = undefined> {
  /** Short, stable, kebab-case: it prefixes every event id and store key (`newpay`, `cashy`). */
  id: string;
  /** The package name, for error messages (`@payhook/newpay-callback`). */
  source?: string;
  /** JSON schema of what `verify` returns; compiled once, here. */
  schema: Record<string, unknown>;
  /** Media types the HTTP adapter accepts (default application/json). */
  contentTypes?: readonly string[];
  /** How authenticity is established, unless a draft says otherwise (default 'signature'). */
  verification?: VerificationMethod;
  /**
   * Request headers that carry a secret of the merchant's (a shared token the gateway sends, an
   * API key): the hub's inbox stores them as `[redacted]`, on top of core's REDACTED_HEADERS.
   * A header `verify` compares as-is is a secret too: declare it, and its replay from the inbox
   * then fails closed (401). Never list a signature computed over the body: a replay re-verifies it.
   */
  secretHeaders?: readonly string[];
  /**
   * Checks authenticity on the raw bytes and returns the payload (or `verified(payload, { keyIndex })`);
   * throws SignatureError/PayloadError.
   */
  verify(delivery: Delivery): Raw | VerifiedPayload<Raw> | Promise<Raw | VerifiedPayload<Raw>>;
  /**
   * For gateways whose notification is not (fully) signed: asks the gateway's own status API about
   * the payment, after validation and before normalize, which sees the answer as
   * `context.confirmation`. A PaymentError below 500 refuses the delivery. Anything else gets the
   * gateway's retry body (a payment is never acknowledged unconfirmed), reported on the hub's
   * `error` channel: a `GatewayApiError` with `retryable: false` (the status API refused our
   * query: credentials, a wrong base URL) is reported with `retryable: false` in the error's
   * context and inbox entry, since no redelivery succeeds until the configuration is fixed.
   */
  confirm?(raw: Raw, context: ConfirmContext): Confirmation | Promise<Confirmation>;
  /** Maps a verified, schema-valid payload to 0..n events, or says why there is none. */
  normalize(raw: Raw, context: NormalizeContext<Confirmation>): NormalizeResult<Raw>;
  /**
   * The oldest signed or confirmed time this provider accepts, in ms. The hub checks at mount that
   * its retention is longer, so that no accepted delivery can outlive the store's memory.
   */
  maxAgeMs?: number;
  /**
   * How far ahead of this server's clock a signed time may be (default 5 minutes when maxAgeMs is
   * set): a delivery stays acceptable for up to maxAgeMs + clockSkewMs after it was signed.
   */
  clockSkewMs?: number;
  /** The gateway's own bodies: `ok` stops its retries, `retry` asks it to deliver again. */
  ack: { ok: ReplyInit; retry: ReplyInit };
  /**
   * Optional reconciliation: ask the gateway about a payment by its reference, or by the
   * merchant's order number when `statusLookups` says the status API accepts one
   * (`lookup.by === 'orderId'`; no `lookup` means by reference). Resolves with null when the
   * gateway knows no such payment.
   */
  fetchStatus?(reference: string, lookup?: StatusLookupContext): Promise<StatusAnswer<Raw>>;
  /** Which keys `fetchStatus` accepts (default `['reference']`). */
  statusLookups?: readonly StatusLookup[];
  /** This gateway's defaults for the awaited-payment sweeper (core's defaults otherwise). */
  sweep?: Partial<SweepSchedule>;
  /**
   * Optional: whether this mount's status query may ask about a payment (default: any). Mounts of
   * one hub that share an id each answer for their own payments (signed-param's `orderIdPrefix`):
   * the sweeper asks through the first mount that says yes.
   */
  asksAbout?(payment: AwaitedPaymentIds): boolean;
  /**
   * The payment types this gateway can emit (default all of PAYMENT_EVENT_TYPES). At boot, the hub
   * warns about each of them that has no listener (nor `onAny`) and is not in its `ignore` option:
   * a type nobody listens to gets the retry body. Declare fewer only for a gateway that never
   * sends the others (no refund notifications, say).
   */
  eventTypes?: readonly PaymentEventType[];
  /**
   * True when the gateway disables the merchant's webhook after repeated failed deliveries
   * (PayMongo does once three events have exhausted their retries). Then, with
   * `NODE_ENV=production`, a type of `eventTypes` with no listener and not ignored is a ConfigError
   * at boot rather than a warning: every retry body it earns counts toward the gateway turning the
   * webhook off for every payment. Default false.
   */
  disablesWebhookAfterFailures?: boolean;
  /**
   * What this mount receives: `live` money (the default) or the gateway's `test` environment. A
   * plugin passes its merchant's `mode` option through. Every event says its mode; a delivery of
   * the other mode is refused (ERR_MODE_MISMATCH, 403), except test deliveries on a live mount
   * with `allowTestMode`.
   */
  mode?: PaymentMode;
  /** A live mount that also accepts test deliveries (as `mode: 'test'` events). Default false. */
  allowTestMode?: boolean;
  /**
   * The mode of each of verify's keys, by the index it reports (`splitKeyModes` builds it from a
   * merchant's key list); absent: every key is the mount's mode. A test key on a live mount
   * without `allowTestMode`, or a live key on a test mount, is a ProviderConfigError here.
   */
  keyModes?: readonly PaymentMode[];
}

/** What identifies an awaited payment to a provider: the merchant's order number, the gateway's reference. */
export interface AwaitedPaymentIds {
  orderId: string | null;
  reference: string | null;
}

export interface PaymentProvider<Raw = unknown, Confirmation = unknown> {
  readonly id: string;
  readonly source: string;
  readonly contentTypes: readonly string[];
  readonly verification: VerificationMethod;
  /** Headers the inbox stores redacted (lower-case); see ProviderDefinition.secretHeaders. */
  readonly secretHeaders?: readonly string[];
  readonly schema: Record<string, unknown>;
  /** The compiled schema; returns problems as FieldProblems, or null when valid. */
  validate(raw: unknown): FieldProblem[] | null;
  verify(delivery: Delivery): Raw | VerifiedPayload<Raw> | Promise<Raw | VerifiedPayload<Raw>>;
  confirm?(raw: Raw, context: ConfirmContext): Confirmation | Promise<Confirmation>;
  normalize(raw: Raw, context: NormalizeContext<Confirmation>): NormalizeResult<Raw>;
  readonly maxAgeMs?: number;
  readonly clockSkewMs?: number;
  readonly ack: { readonly ok: HttpReply; readonly retry: HttpReply };
  fetchStatus?(reference: string, lookup?: StatusLookupContext): Promise<StatusAnswer<Raw>>;
  /**
   * Which keys `fetchStatus` accepts (defineProvider sets it; absent means `['reference']` when
   * there is a fetchStatus). Read it with `statusLookupsOf`.
   */
  readonly statusLookups?: readonly StatusLookup[];
  /** The sweeper's schedule for this gateway: the definition's `sweep` over core's defaults. */
  readonly sweep?: Readonly<SweepSchedule>;
  /** See ProviderDefinition.asksAbout. */
  asksAbout?(payment: AwaitedPaymentIds): boolean;
  /**
   * The payment types this gateway can emit (defineProvider sets it; absent means all of
   * PAYMENT_EVENT_TYPES). Read it with `eventTypesOf`.
   */
  readonly eventTypes?: readonly PaymentEventType[];
  /** See ProviderDefinition.disablesWebhookAfterFailures (absent means false). */
  readonly disablesWebhookAfterFailures?: boolean;
  /** This mount's mode (absent means live): see ProviderDefinition.mode. */
  readonly mode?: PaymentMode;
  /** See ProviderDefinition.allowTestMode (absent means false). */
  readonly allowTestMode?: boolean;
  /** See ProviderDefinition.keyModes. */
  readonly keyModes?: readonly PaymentMode[];
}

let sharedAjv: Ajv | undefined;
/** One Ajv instance for every provider: compiling is the expensive part, done once per provider. */
export function getAjv(): Ajv {
  sharedAjv ??= new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  return sharedAjv;
}

export function toFieldProblems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).slice(0, 20).map((e) => {
    const missing =
      e.keyword === 'required'
        ? `/${(e.params as { missingProperty: string }).missingProperty}`
        : '';
    return { path: `${e.instancePath}${missing}`, message: e.message ?? e.keyword };
  });
}

const ID = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Builds a provider from its definition, checking it once at construction: a bad definition throws
 * a ProviderConfigError naming what is wrong, at boot rather than at the first payment.
 */
export function defineProvider<Raw, Confirmation = undefined>(
  definition: ProviderDefinition<Raw, Confirmation>,
): PaymentProvider<Raw, Confirmation> {
  const source = definition.source ?? '@payhook/core';
  const fail: OptionFailer = optionFailer(source);
  if (typeof definition.id !== 'string' || !ID.test(definition.id))
    fail('id', 'must be lower-case kebab-case, 1-40 characters');
  if (typeof definition.verify !== 'function') fail('verify', 'must be a function');
  if (typeof definition.normalize !== 'function') fail('normalize', 'must be a function');
  if (definition.confirm !== undefined && typeof definition.confirm !== 'function')
    fail('confirm', 'must be a function when given');
  const { maxAgeMs, clockSkewMs } = definition;
  if (maxAgeMs !== undefined)
    checkWholeNumber(maxAgeMs, 0, 'maxAgeMs', { unit: 'milliseconds', source, provider: true });
  if (clockSkewMs !== undefined)
    checkWholeNumber(clockSkewMs, 0, 'clockSkewMs', {
      min: 0,
      unit: 'milliseconds',
      source,
      provider: true,
    });
  if (!definition.schema || typeof definition.schema !== 'object')
    fail('schema', 'must be a JSON schema object');
  let compiled: ValidateFunction;
  try {
    compiled = getAjv().compile(definition.schema);
  } catch (cause) {
    return fail('schema', `does not compile: ${(cause as Error).message}`, cause);
  }
  const ack = {
    ok: buildReply(definition.ack?.ok, 200, 'ack.ok', fail),
    retry: buildReply(definition.ack?.retry, 500, 'ack.retry', fail),
  };
  if (ack.ok.status >= 300) fail('ack.ok', 'must have a 2xx status');
  if (ack.retry.status < 300)
    fail('ack.retry', 'must not have a 2xx status: the gateway would stop retrying');
  const contentTypes = (definition.contentTypes ?? ['application/json']).map((t) =>
    t.toLowerCase(),
  );
  const modes = checkModes(definition, fail);
  const secretHeaders = checkHeaderNames(
    definition.secretHeaders,
    'secretHeaders',
    (option, problem) => new ProviderConfigError(option, problem, { source }),
  );
  return Object.freeze({
    id: definition.id,
    source,
    contentTypes,
    verification: definition.verification ?? 'signature',
    secretHeaders,
    schema: definition.schema,
    validate(raw: unknown) {
      return compiled(raw) ? null : toFieldProblems(compiled.errors);
    },
    verify: definition.verify,
    confirm: definition.confirm,
    normalize: definition.normalize,
    maxAgeMs,
    clockSkewMs: maxAgeMs === undefined ? undefined : (clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS),
    ack,
    fetchStatus: definition.fetchStatus,
    statusLookups: checkStatusLookups(definition.fetchStatus, definition.statusLookups, fail),
    asksAbout: definition.asksAbout,
    sweep: checkSweepSchedule(definition.sweep, source),
    eventTypes: checkEventTypes(definition.eventTypes, fail),
    disablesWebhookAfterFailures: checkFlag(
      definition.disablesWebhookAfterFailures,
      'disablesWebhookAfterFailures',
      fail,
    ),
    ...modes,
  });
}

/** The payment types a provider can emit: its declared `eventTypes`, or all three. */
export function eventTypesOf(provider: {
  eventTypes?: readonly PaymentEventType[];
}): readonly PaymentEventType[] {
  return provider.eventTypes ?? PAYMENT_EVENT_TYPES;
}

function checkEventTypes(
  given: readonly PaymentEventType[] | undefined,
  fail: (o: string, p: string) => never,
): readonly PaymentEventType[] {
  if (given === undefined) return PAYMENT_EVENT_TYPES;
  if (!Array.isArray(given) || given.length === 0 || !given.every((t) => isPaymentEventType(t)))
    fail('eventTypes', `must be a non-empty list of ${PAYMENT_EVENT_TYPES.join(', ')}`);
  return Object.freeze(PAYMENT_EVENT_TYPES.filter((t) => given.includes(t)));
}

function checkFlag(value: unknown, option: string, fail: (o: string, p: string) => never): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    fail(option, 'must be a boolean when given');
  return value === true;
}

/** The keys a provider's status query accepts: none without a fetchStatus. */
export function statusLookupsOf(provider: {
  fetchStatus?: unknown;
  statusLookups?: readonly StatusLookup[];
}): readonly StatusLookup[] {
  if (typeof provider.fetchStatus !== 'function') return [];
  return provider.statusLookups?.length ? provider.statusLookups : ['reference'];
}

/** Core's sweeper schedule, for a gateway that declares none: a minute, doubling to 30 minutes. */
export const DEFAULT_SWEEP_SCHEDULE: Readonly<SweepSchedule> = Object.freeze({
  firstCheckMs: 60_000,
  maxIntervalMs: 30 * 60_000,
  queriesPerMinute: 60,
});

function checkStatusLookups(
  fetchStatus: unknown,
  statusLookups: readonly StatusLookup[] | undefined,
  fail: (o: string, p: string) => never,
): readonly StatusLookup[] {
  if (fetchStatus !== undefined && typeof fetchStatus !== 'function')
    fail('fetchStatus', 'must be a function when given');
  if (fetchStatus === undefined) {
    if (statusLookups !== undefined && statusLookups.length > 0)
      fail('statusLookups', 'needs a fetchStatus to ask the gateway with');
    return Object.freeze([]);
  }
  const lookups = statusLookups ?? ['reference'];
  if (
    !Array.isArray(lookups) ||
    lookups.length === 0 ||
    !lookups.every((l) => (STATUS_LOOKUPS as readonly string[]).includes(l))
  )
    fail('statusLookups', `must be a non-empty list of ${STATUS_LOOKUPS.join(', ')}`);
  return Object.freeze([...new Set(lookups)]);
}

function checkSweepSchedule(
  given: Partial<SweepSchedule> | undefined,
  source: string,
): Readonly<SweepSchedule> {
  const d = DEFAULT_SWEEP_SCHEDULE;
  if (given === undefined) return d;
  const ms = { unit: 'milliseconds', source, provider: true } as const;
  const firstCheckMs = checkWholeNumber(
    given.firstCheckMs,
    d.firstCheckMs,
    'sweep.firstCheckMs',
    ms,
  );
  const maxIntervalMs = checkWholeNumber(
    given.maxIntervalMs,
    Math.max(d.maxIntervalMs, firstCheckMs),
    'sweep.maxIntervalMs',
    ms,
  );
  if (maxIntervalMs < firstCheckMs)
    throw new ProviderConfigError('sweep.maxIntervalMs', 'must be at least sweep.firstCheckMs', {
      source,
    });
  const queriesPerMinute = checkWholeNumber(
    given.queriesPerMinute,
    d.queriesPerMinute,
    'sweep.queriesPerMinute',
    { source, provider: true },
  );
  return Object.freeze({ firstCheckMs, maxIntervalMs, queriesPerMinute });
}

function buildReply(
  init: ReplyInit | undefined,
  defaultStatus: number,
  option: string,
  fail: (o: string, p: string) => never,
): HttpReply {
  if (
    !init ||
    (typeof init.body !== 'string' && (typeof init.body !== 'object' || init.body === null))
  ) {
    return fail(option, 'must give the body the gateway expects');
  }
  const status = init.status ?? defaultStatus;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    fail(option, 'has an invalid HTTP status');
  const json = typeof init.body !== 'string';
  return Object.freeze({
    status,
    headers: Object.freeze({
      'content-type':
        init.contentType ??
        (json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'),
    }),
    body: json ? JSON.stringify(init.body) : (init.body as string),
  });
}

/**
 * A provider of any payload type. Raw is contravariant in normalize(), so only `any` lets one hub and
 * one adapter accept every provider.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPaymentProvider = PaymentProvider<any, any>;
