export {
  PAYMENT_EVENT_TYPES,
  VERIFICATION_METHODS,
  paymentEventSchema,
  isPaymentEventType,
  DECIMAL_PATTERN,
  ISO_DATETIME_PATTERN,
} from './events';
export type {
  PaymentEvent,
  PaymentEventType,
  VerificationMethod,
  PaymentFailure,
  PaymentRefund,
} from './events';
export { validatePaymentEvent } from './validate-event';
export {
  ERROR_CATALOGUE,
  PaymentError,
  SignatureError,
  PayloadError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  MethodNotAllowedError,
  BodyConsumedError,
  ConfigError,
  ProviderConfigError,
  ListenerError,
  ListenerTimeoutError,
  StoreError,
  GatewayApiError,
  StatusMismatchError,
  StaleDeliveryError,
  isPaymentError,
} from './errors';
export type { PaymentErrorCode, PaymentErrorLike, FieldProblem } from './errors';
export { silentLogger } from './logger';
export type { Logger } from './logger';
export { parseJson, assertSafeJson, JsonNumber, jsonNumber, stringifyJson } from './json';
export type { ParseJsonOptions, JsonValue } from './json';
export {
  decimalFromMinorUnits,
  decimalToMinorUnits,
  addDecimal,
  normalizeDecimal,
  compareDecimal,
  decimalEquals,
  isDecimalString,
} from './money';
export type { MoneyOptions } from './money';
export {
  parseGatewayTime,
  wallTimeToIso,
  instantToIso,
  zoneOffsetMinutes,
  assertTimeZone,
} from './time';
export type { GatewayTimeOptions, WallTime } from './time';
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
} from './crypto';
export type { KeyInput } from './crypto';
export { createMemoryStore } from './store';
export type { Claim, IdempotencyStore, MemoryStoreOptions } from './store';
export {
  defineProvider,
  verified,
  notAPaymentEvent,
  pendingPayment,
  getAjv,
  toFieldProblems,
} from './provider';
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
} from './provider';
export {
  createPaymentHub,
  errorReply,
  assertRetentionCovers,
  rejectDelivery,
  notifyHub,
  HUB_EVENT_NAMES,
} from './hub';
export type {
  PaymentHub,
  PaymentHubOptions,
  HubChannels,
  HubEventName,
  HubListener,
  AnyPaymentListener,
  ListenerContext,
  UnhandledDelivery,
  ErrorContext,
  SourceStatus,
  ReceiveOutcome,
  ReceiveResult,
} from './hub';
export {
  createWebhookMiddleware,
  createGatewayMiddleware,
  keepRawBody,
  readRawBody,
} from './express';
export type {
  GatewayMiddleware,
  WebhookMiddleware,
  WebhookMiddlewareOptions,
  WebhookRequest,
} from './express';
export { requestGateway } from './http-client';
export type { GatewayRequestOptions, GatewayResponse } from './http-client';
export { checkHttpUrl, checkPositiveMs, checkRequiredText } from './options';
export {
  checkSignedTime,
  resolveMaxAge,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_CLOCK_SKEW_MS,
} from './signed-time';
export type { MaxAge, MaxAgeOptions } from './signed-time';
