export { createLailaolabProvider, LAILAOLAB_ACK, LailaolabMismatchError } from './provider';
export type { LailaolabProviderOptions } from './provider';
export { createLailaolabSource, lailaolabSocketUrl, DEFAULT_SOCKET_URL } from './source';
export type {
  LailaolabSource,
  LailaolabSourceOptions,
  LailaolabSourceState,
  LailaolabSourceStatus,
  SweepReport,
} from './source';
export { createMemoryWatchList } from './watch-list';
export type {
  MemoryWatchListOptions,
  WatchList,
  WatchListAddResult,
  WatchListEntries,
  WatchListRemoveResult,
} from './watch-list';
export { createLailaolabMiddleware } from './middleware';
export type { LailaolabMiddlewareOptions, LailaolabHealth } from './middleware';
export { createLailaolabStatusClient, DEFAULT_API_BASE, STATUS_PATH } from './status-client';
export type {
  LailaolabStatusClient,
  LailaolabStatusClientOptions,
  LailaolabStatusResult,
} from './status-client';
export { backoffDelay } from './backoff';
export type { ReconnectOptions } from './backoff';
export {
  PROVIDER_ID as LAILAOLAB_PROVIDER_ID,
  DEFAULT_TIME_ZONE,
  TRANSACTION_ID_PATTERN,
} from './normalize';
export type { LailaolabConfirmation } from './normalize';
export type {
  LailaolabMessage,
  LailaolabPayload,
  LailaolabStatusData,
  LailaolabStatusResponse,
} from './types';
