export { createPayhookMetrics } from './create-metrics';
export type { PayhookMetrics, PayhookMetricsOptions, QueueSource } from './create-metrics';
export { METRIC_NAMES } from './definitions';
export type { QueueStats } from './definitions';
