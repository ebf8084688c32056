export {
  generateTestKeyPair,
  testKeyPairFrom,
  resolveTestKeyPair,
  writeTestKeyPair,
  readTestKeyPair,
  KEY_FILES,
  KeyFileRefusedError,
} from './keys';
export type { TestKeyPair, WrittenKeyPair } from './keys';
export {
  postFixture,
  sendFixture,
  isAcknowledged,
  forgeDelivery,
  gatewayWallTime,
} from './delivery';
export type { GatewayDelivery, GatewayName, DeliveryView, RequestLike } from './delivery';
export { createGatewayFixtures } from './gateways';
export { startStatusApis } from './status-apis';
export type {
  MadePayment,
  StatusApiGateway,
  StatusApiSimulator,
  StatusQueryLog,
} from './status-apis';
export type { GatewayFixtures, GatewayFixturesOptions } from './gateways';
export { createNewpayFixtures } from './newpay';
export type {
  NewpayFixtures,
  NewpayFixtureOptions,
  NewpayPaymentFields,
  NewpayRefundFields,
  NewpayVersion,
  NewpayParams,
} from './newpay';
export { createCashyFixtures, CASHY_TEST_API_KEY, CASHY_TEST_MERCHANT_ID } from './cashy';
export type { CashyFixtures, CashyFixtureOptions, CashyPayinFields } from './cashy';
export { createSignedParamFixtures } from './signed-param';
export type {
  SignedParamFixtures,
  SignedParamFixtureOptions,
  SignedParamPaymentFields,
  SignedParamRefundFields,
  SignedParamPayoutFields,
  SignedParamCountry,
} from './signed-param';
export { createLailaolabFixtures, LAILAOLAB_TEST_SECRET } from './lailaolab';
export type {
  LailaolabFixtures,
  LailaolabFixtureOptions,
  LailaolabMessageFields,
} from './lailaolab';
export { startSimulatorControl } from './control';
export type { SimulatorControl } from './control';
// The Lailaolab simulator (a Socket.IO server) lives here, so the production plugin needs none.
export {
  startLailaolabSimulator,
  buildLailaolabMessage,
  formatLailaolabTime,
} from './lailaolab-simulator';
export type {
  LailaolabSimulator,
  LailaolabSimulatorOptions,
  SimulatedPaymentOptions,
  LailaolabMessage,
  LailaolabStatusData,
} from './lailaolab-simulator';
export { MissingPluginError, GATEWAY_PLUGINS } from './plugins';
export type { GatewayPlugin } from './plugins';
export { main as runCli, EXIT } from './cli';
// A plugin's own gateway for `payhook send --fixtures <module>`: the declaration its module exports.
export { defineSendGateway, outcomeEvents } from './cli/declare';
export type { SendGateway, SendEvent, SendInput, SendOption, SendNote, Sent } from './cli/declare';
