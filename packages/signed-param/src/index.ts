export {
  createSignedParamProvider,
  createSignedParamMiddleware,
  verifyNotification,
  DEFAULT_PROVIDER_ID,
  ACK_OK,
  ACK_RETRY,
  PARAM_SCHEMA,
} from './provider';
export { signParam, serializeParam, buildNotification, buildSignedRequest } from './sign';
export type { SignedParamNotification, BuildNotificationOptions, SignedRequest } from './sign';
export {
  EVENT_RULES,
  TRANSACTION_STATUS,
  REFUND_STATUS,
  COUNTRIES,
  eventRule,
  countryOfChannel,
  countryOfCurrency,
  isCountryCode,
} from './tables';
export type { EventRule, EventFamily, CountryCode, CountryFacts } from './tables';
export type {
  SignedParamBase,
  SignedParamPayment,
  SignedParamRefund,
  SignedParamPayload,
  SignedParamQueryData,
  SignedParamRaw,
  SignedParamOptions,
  SignedParamMiddlewareOptions,
} from './types';
