export {
  createPayinProvider,
  createPayinMiddleware,
  resolvePatchOrigin,
  cashyWebhookSchema,
  PAYIN_PROVIDER_ID,
  DEFAULT_TIME_ZONE,
} from './provider';
export type { PayinMiddlewareOptions, PatchOrigin } from './provider';
export { createPayinClient } from './client';
export type {
  PayinClient,
  PayinClientOptions,
  CreatePayinRequest,
  QueryPayinRequest,
} from './client';
export { cashySign, verifyCashySign, signCashyBody, buildCashyMessage } from './sign';
export type { SignCase, CashySignOptions, SignedCashyMessage } from './sign';
export type {
  CashyPayinWebhook,
  CashyPayinOrder,
  CashyCreatedPayin,
  CashyApiResponse,
  CashyOrderStatus,
  CashyOrderType,
  PayinProviderOptions,
} from './types';
