export { startMerchantApp, ROUTES } from './app';
export type { MerchantApp, MerchantConfig } from './app';
export { configFromEnv, hasRealKeys, ENV_VARS } from './config';
export { runScenario } from './scenario';
export type { ScenarioResult, StepResult } from './scenario';
export { createOrdersTable, attachOrderListeners } from './orders';
export type { Order, OrdersTable, OrderStatus } from './orders';
