export { createNewpayProvider, createNewpayMiddleware } from './provider';
export { NEWPAY_PROVIDER_ID, newpayCallbackSchema } from './schema';
export type {
  NewpayCallback,
  NewpayV1PaymentCallback,
  NewpayV1RefundCallback,
  NewpayV2Callback,
  NewpayV2PaymentData,
  NewpayV2RefundData,
  NewpayMoney,
} from './schema';
export { DEFAULT_TIME_ZONE, DEFAULT_QUERY_BASE_URL } from './options';
export type {
  NewpayProviderOptions,
  NewpayMiddlewareOptions,
  NewpayQueryOptions,
  NewpayStatusQueryOptions,
} from './options';
export { parseNewpayJson } from './verify';
export type { ParsedJson } from './verify';
// The signers (for tests, simulators and the merchant's own requests) are on the ./signing subpath.
