export { createPayinProvider, createPayinMiddleware, PAYIN_PROVIDER_ID } from './provider';
export { resolvePatchOrigin } from './normalize';
export type { PatchOrigin } from './normalize';
export { cashyWebhookSchema } from './schema';
export { DEFAULT_TIME_ZONE } from './options';
export type {
  PayinProviderOptions,
  PayinMiddlewareOptions,
  PayinStatusQueryOptions,
} from './options';
export { createPayinClient } from './client';
export type {
  PayinClient,
  PayinClientOptions,
  CreatePayinRequest,
  QueryPayinRequest,
} from './client';
export type {
  CashyPayinWebhook,
  CashyPayinOrder,
  CashyCreatedPayin,
  CashyApiResponse,
  CashyOrderStatus,
  CashyOrderType,
} from './schema';
// The signers (for tests, simulators and the merchant's own requests) are on the ./signing subpath.
