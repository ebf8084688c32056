/**
 * `@payhook/core/plugin`: the toolkit of a gateway plugin's author. A merchant's app needs only
 * `@payhook/core`; a plugin imports its contract and helpers from here, so the two audiences read
 * two short lists instead of one long one. docs/plugin-toolkit.md documents every export and type
 * here, one line and an example each (test/docs/plugin-toolkit.test.ts keeps it complete). Every
 * duration and epoch time below is in milliseconds, except parseGatewayTime's `unit: 'seconds'`.
 */
export { paymentEventSchema, DECIMAL_PATTERN, ISO_DATETIME_PATTERN } from '../events';
export { validatePaymentEvent } from '../validate-event';
export { parseJson, assertSafeJson, JsonNumber, jsonNumber, stringifyJson } from '../json';
export type { ParseJsonOptions, JsonValue } from '../json';
export {
  decimalFromMinorUnits,
  decimalToMinorUnits,
  addDecimal,
  normalizeDecimal,
  compareDecimal,
  decimalEquals,
  isDecimalString,
} from '../money';
export type { MoneyOptions } from '../money';
/**
 * Times: epoch ms unless parseGatewayTime is given `unit: 'seconds'`; each returns ISO 8601 with
 * an offset.
 */
export {
  parseGatewayTime,
  wallTimeToIso,
  instantToIso,
  zoneOffsetMinutes,
  assertTimeZone,
} from '../time';
export type { EpochUnit, GatewayTimeOptions, WallTime } from '../time';
export {
  loadPublicKey,
  loadPublicKeys,
  loadPrivateKey,
  verifyRsaSha256,
  verifyRsaSha256WithAny,
  signRsaSha256,
  md5Hex,
  hmacSha256Hex,
  timingSafeEqualText,
  timingSafeEqualHex,
} from '../crypto';
export type { KeyInput } from '../crypto';
export {
  defineProvider,
  verified,
  notAPaymentEvent,
  pendingPayment,
  getAjv,
  toFieldProblems,
} from '../provider';
export type {
  Delivery,
  HttpReply,
  ReplyInit,
  NotPaymentEvent,
  PaymentEventDraft,
  NormalizeResult,
  NormalizeContext,
  ConfirmContext,
  VerifiedPayload,
  ProviderDefinition,
  PaymentProvider,
  AnyPaymentProvider,
} from '../provider';
export {
  errorReply,
  assertRetentionCovers,
  mountProvider,
  rejectDelivery,
  notifyHub,
  pluginState,
} from '../hub';
export { createGatewayMiddleware, readRawBody } from '../express';
export type { GatewayMiddleware } from '../express';
export { requestGateway, isRetryableStatus } from '../http-client';
export type { GatewayRequestOptions, GatewayResponse } from '../http-client';
/**
 * Option checks, each throwing a ProviderConfigError naming the option. checkHttpUrl returns a
 * parsed `URL` object, not a string: use its `.href` for text.
 */
export {
  checkHttpUrl,
  checkPositiveMs,
  checkRequiredText,
  checkWholeNumber,
  moveDeprecatedOptions,
  optionFailer,
  warnDeprecatedOption,
} from '../options';
export type { OptionFailer, OptionFailerRule, WholeNumberRule } from '../options';
export { formatFieldProblems } from '../errors';
/** Gateway statuses onto one closed set, in one table at the top of normalize.ts. */
export { STATUS_OUTCOMES, OUTCOME_EVENTS, statusTable, statusOutcome } from '../status-table';
export type { StatusOutcome, StatusTable } from '../status-table';
/** Test and live mode: each key's mode, and the mount's (see ProviderDefinition.mode). */
export { splitKeyModes } from '../modes';
export type { ModeKey, MountModeOptions } from '../modes';
/**
 * Signed times: `at` is ISO 8601 or epoch ms (epoch seconds are refused, with a hint); limits in
 * ms.
 */
export {
  checkSignedTime,
  resolveMaxAge,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_CLOCK_SKEW_MS,
} from '../signed-time';
export type { MaxAge, MaxAgeOptions } from '../signed-time';
export { ListenerRegistry, ANY, notifyListeners } from '../pipeline/listeners';
export type { Listener } from '../pipeline/listeners';
export { runListeners } from '../pipeline/dispatch';
export { DeadlineQueue, type Deadline } from '../pipeline/deadlines';
export type { Dispatched, RunContext } from '../pipeline/dispatch';
export { emptySweepReport } from '../awaited/sweep-report';
export { createQueryBudget } from '../awaited/budget';
export type { QueryBudget } from '../awaited/budget';
/**
 * Re-exported from `@payhook/core`: the errors, types and helpers the plugins use, so a plugin
 * imports everything from `@payhook/core/plugin` (issue 26).
 */
export {
  PaymentError,
  SignatureError,
  PayloadError,
  StaleDeliveryError,
  ConfigError,
  ProviderConfigError,
  GatewayApiError,
  StatusMismatchError,
  ModeMismatchError,
  isPaymentError,
} from '../errors';
export { awaitedKey, awaitedProvider } from '../awaited';
export type { AwaitedPayment, SweepReport } from '../awaited';
export type { StatusLookup } from '../provider';
export type {
  VerificationMethod,
  PaymentMode,
  RefundKind,
  PaymentEvent,
  PaymentEventType,
} from '../events';
export { PAYMENT_EVENT_TYPES, PAYMENT_MODES, REFUND_KINDS, isPaymentMode } from '../events';
export type { Logger } from '../logger';
export type { PaymentHub, ReceiveResult } from '../hub';
export type { WebhookMiddleware, WebhookMiddlewareOptions } from '../express';
