export { createNusaProvider } from './provider';
export { NUSA_SOURCE } from './schema';
export type { NusaNotice, NusaRecord, NusaConfirmation, NusaStatus } from './schema';
export { NUSA_API, NUSA_SANDBOX_API } from './options';
export type { NusaOptions, NusaStatusQueryOptions } from './options';
export { STATUS as NUSA_STATUS } from './normalize';
