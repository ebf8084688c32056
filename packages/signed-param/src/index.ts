export {
  createSignedParamProvider,
  createSignedParamMiddleware,
  DEFAULT_PROVIDER_ID,
  ACK_OK,
  ACK_RETRY,
} from './provider';
export { verifyNotification } from './verify';
export { PARAM_SCHEMA } from './schema';
export { TRANSACTION_STATUS, REFUND_STATUS } from './normalize';
export {
  EVENT_RULES,
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
} from './schema';
export type {
  SignedParamOptions,
  SignedParamMiddlewareOptions,
  SignedParamStatusQueryOptions,
} from './options';
// The signers (for tests, simulators and the merchant's own requests) are on the ./signing subpath.
