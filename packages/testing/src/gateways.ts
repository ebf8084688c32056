import {
  cashySend,
  createCashyFixtures,
  type CashyFixtureOptions,
  type CashyFixtures,
} from './cashy';
import type { SendGateway } from './cli/declare';
import {
  createLailaolabFixtures,
  lailaolabSend,
  type LailaolabFixtureOptions,
  type LailaolabFixtures,
} from './lailaolab';
import {
  createNewpayFixtures,
  newpaySend,
  type NewpayFixtureOptions,
  type NewpayFixtures,
} from './newpay';
import {
  createSignedParamFixtures,
  signedParamSend,
  type SignedParamFixtureOptions,
  type SignedParamFixtures,
} from './signed-param';

export interface GatewayFixturesOptions {
  newpay?: NewpayFixtureOptions;
  cashy?: CashyFixtureOptions;
  signedParam?: SignedParamFixtureOptions;
  lailaolab?: LailaolabFixtureOptions;
}

/** Every gateway's fixture builder, each with its own test keys. */
export interface GatewayFixtures {
  newpay: NewpayFixtures;
  cashy: CashyFixtures;
  signedParam: SignedParamFixtures;
  lailaolab: LailaolabFixtures;
}

/**
 * The four gateways at once. The RSA gateways (NewPay, signed-param) get a generated pair each, so
 * a delivery of one is never accepted by the other.
 */
export function createGatewayFixtures(options: GatewayFixturesOptions = {}): GatewayFixtures {
  return {
    newpay: createNewpayFixtures(options.newpay),
    cashy: createCashyFixtures(options.cashy),
    signedParam: createSignedParamFixtures(options.signedParam),
    lailaolab: createLailaolabFixtures(options.lailaolab),
  };
}

/**
 * What `payhook send` can send, in help order: each gateway's own declaration (its events, options
 * and builders). The CLI derives its table, parsing, dispatch and help from this list alone.
 */
export const SEND_GATEWAYS: readonly SendGateway<unknown>[] = [
  newpaySend,
  cashySend,
  signedParamSend,
  lailaolabSend,
];
