/** `@payhook/inspector`: a page to see and replay deliveries, and Prometheus metrics. */
export { createInspector } from './inspector';
export type { Inspector } from './inspector';
export type { InspectorOptions, ProviderLike } from './options';
export type { InspectorAuth, InspectorGuard, InspectorUser, BasicAuthUser } from './auth';
export type { DeadLetter, DeadLetterSource } from './dead-letters';
export { createPayhookMetrics, METRIC_NAMES } from './metrics';
export type { PayhookMetrics, PayhookMetricsOptions, QueueSource } from './metrics';
