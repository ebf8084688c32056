/**
 * `@payhook/core`: what a merchant's app uses: the hub, its events and errors, the stores and the
 * Express adapter. The plugin author's toolkit (JSON, money, time, keys, the provider contract's
 * helpers) is `@payhook/core/plugin`; test helpers are `@payhook/core/testing`.
 */
export {
  PAYMENT_EVENT_TYPES,
  VERIFICATION_METHODS,
  PAYMENT_MODES,
  REFUND_KINDS,
  isPaymentEventType,
  isPaymentMode,
} from './events';
export type {
  PaymentEvent,
  PaymentEventType,
  VerificationMethod,
  PaymentFailure,
  PaymentRefund,
  PaymentMode,
  RefundKind,
} from './events';
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
  ListenerAbandonedError,
  StoreTimeoutError,
  StoreError,
  AwaitedListFullError,
  GatewayApiError,
  StatusMismatchError,
  StaleDeliveryError,
  ModeMismatchError,
  isPaymentError,
} from './errors';
export type { PaymentErrorCode, PaymentErrorLike, FieldProblem } from './errors';
export { silentLogger } from './logger';
export type { Logger } from './logger';
export { createMemoryStore } from './store';
export type {
  Claim,
  ClaimOptions,
  IdempotencyStore,
  MemoryStoreOptions,
  StoreContext,
} from './store';
export {
  createMemoryInbox,
  inboxRecordSize,
  isVerifiedRecord,
  REDACTED_HEADERS,
  resolveInboxBudget,
} from './inbox';
export type {
  Inbox,
  InboxBudget,
  InboxBudgetOptions,
  InboxEntry,
  InboxEvent,
  InboxFilter,
  InboxList,
  InboxPage,
  InboxRecord,
  InboxRecordOptions,
  InboxUpdate,
  MemoryInbox,
  MemoryInboxCounts,
  MemoryInboxOptions,
} from './inbox';
export type {
  Delivery,
  HttpReply,
  PaymentProvider,
  AnyPaymentProvider,
  StatusLookup,
  StatusAnswer,
  SweepSchedule,
  AwaitedPaymentIds,
} from './provider';
export { STATUS_LOOKUPS, DEFAULT_SWEEP_SCHEDULE, statusLookupsOf, eventTypesOf } from './provider';
export * from './awaited';
export { createPaymentHub, HUB_EVENT_NAMES, RECEIVE_OUTCOMES } from './hub';
export type {
  PaymentHub,
  PaymentHubFor,
  PaymentHubOptions,
  HubChannels,
  HubEventName,
  HubListener,
  AnyPaymentListener,
  ListenerContext,
  MaxAgeOverride,
  UnhandledDelivery,
  UnlistenedTypes,
  ErrorContext,
  SourceStatus,
  ReceiveOutcome,
  ReceiveResult,
} from './hub';
export { createWebhookMiddleware, keepRawBody } from './express';
export type {
  GatewayMiddleware,
  WebhookMiddleware,
  WebhookMiddlewareOptions,
  WebhookRequest,
} from './express';
