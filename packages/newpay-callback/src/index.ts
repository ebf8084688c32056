export {
  createNewpayProvider,
  createNewpayMiddleware,
  NEWPAY_PROVIDER_ID,
  DEFAULT_TIME_ZONE,
} from './provider';
export { DEFAULT_QUERY_BASE_URL } from './query';
export {
  buildSignString,
  signStringCandidates,
  toCompactJson,
  serializeBody,
  signNewpayParams,
  withSign,
  signV1Callback,
  signV2Callback,
  signUniQueryPayRequest,
} from './sign';
export type {
  SignValue,
  SignParams,
  SignStringOptions,
  SignStringReadings,
  EmptyValueReading,
  NestedKeyOrder,
  SignedDelivery,
  CallbackSignOptions,
  V2Envelope,
  UniQueryPayRequest,
} from './sign';
export { parseNewpayJson } from './verify';
export type { ParsedJson } from './verify';
export { newpayCallbackSchema } from './schema';
export type {
  NewpayCallback,
  NewpayV1PaymentCallback,
  NewpayV1RefundCallback,
  NewpayV2Callback,
  NewpayV2PaymentData,
  NewpayV2RefundData,
  NewpayMoney,
  NewpayProviderOptions,
  NewpayMiddlewareOptions,
  NewpayQueryOptions,
} from './types';
