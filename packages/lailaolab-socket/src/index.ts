export { createLailaolabProvider, createLailaolabMiddleware, LAILAOLAB_ACK } from './provider';
export { LailaolabMismatchError } from './verify';
export {
  DEFAULT_TIME_ZONE,
  DEFAULT_SOCKET_URL,
  DEFAULT_UNWATCHED_QUERIES_PER_MINUTE,
  lailaolabSocketUrl,
} from './options';
export { StatusBudgetError } from './confirm';
export type {
  LailaolabProviderOptions,
  LailaolabSourceOptions,
  LailaolabMiddlewareOptions,
  LailaolabStatusQueryOptions,
} from './options';
export { PROVIDER_ID as LAILAOLAB_PROVIDER_ID, TRANSACTION_ID_PATTERN } from './schema';
export type {
  LailaolabMessage,
  LailaolabPayload,
  LailaolabStatusData,
  LailaolabStatusResponse,
} from './schema';
export type { LailaolabConfirmation } from './normalize';
export { createLailaolabSource } from './source';
export type { LailaolabSource, LailaolabSourceState, LailaolabSourceStatus } from './source';
export type { SweepReport } from './recovery';
export type { LailaolabHealth } from './health';
export { createLailaolabStatusClient, DEFAULT_API_BASE, STATUS_PATH } from './status-query';
export type {
  LailaolabStatusClient,
  LailaolabStatusClientOptions,
  LailaolabStatusResult,
} from './status-query';
export { backoffDelay } from './backoff';
export type { ReconnectOptions } from './backoff';
