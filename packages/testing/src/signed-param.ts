import type { KeyObject } from 'node:crypto';
import { decimalToMinorUnits, type KeyInput } from '@payhook/core/plugin';
import { derivedDigits, gatewayWallTime, successAckOf, type GatewayDelivery } from './delivery';
import { resolveTestKeyPair, type TestKeyPair } from './keys';
import { GATEWAY_PLUGINS, requirePlugin, type AnsweringProvider, type SignedBody } from './plugins';
import { defineSendGateway, outcomeEvents } from './cli/declare';
import { UsageError } from './cli/errors';
import { checkAmount, KEY_OPTION, readKey } from './cli/inputs';

/**
 * `{param, sign}` notifications (PayCools "Platform" API and its white labels) built with the
 * plugin's own signer (buildNotification: SHA256withRSA over the param text). Param fields of
 * the Payment Notification examples (docs.paycools.com/en/v2), the refund callback
 * (docs.paycools.com.my RefundCallback) and the disbursement notification
 * (https://docs.paycools.com/en/v2/Disbursement/Notification.html).
 */

/**
 * The plugin's CountryCode, written here so that these types never make a consumer's compiler look
 * for @payhook/signed-param (the builders pass it to the plugin, which checks it agrees).
 */
export type SignedParamCountry = 'PH' | 'ID' | 'MY' | 'TH' | 'RU';
type CountryCode = SignedParamCountry;

/** What the builders (and the CLI) use of @payhook/signed-param (see plugins.ts). */
export interface SignedParamPlugin {
  COUNTRIES: Readonly<
    Record<CountryCode, { currency: string; exponent: number; timeZone: string }>
  >;
  isCountryCode: (value: unknown) => value is CountryCode;
  buildNotification: (param: Record<string, unknown>, platformPrivateKey: KeyObject) => SignedBody;
  createSignedParamProvider: (options: {
    platformPublicKey: string;
    country: CountryCode;
  }) => AnsweringProvider;
}

export interface SignedParamFixtureOptions {
  /** The platform's key pair (it signs notifications); generated when absent. */
  keys?: TestKeyPair | KeyInput;
  /** The merchant account's country (default PH): currency, minor unit and clock. */
  country?: CountryCode;
}

/** Channel codes: ID_BCA_VA (Payment Notification pages), PH_QRPH_DYNAMIC (CollectionStatus). */
const CHANNELS: Partial<Record<CountryCode, string>> = {
  PH: 'PH_QRPH_DYNAMIC',
  ID: 'ID_BCA_VA',
};

export interface SignedParamPaymentFields {
  /** Your order number (`mchOrderId`). */
  orderId: string;
  /**
   * Decimal in major units, sent as integer minor units like the platform. Default "500.10", or
   * "50000" where the currency has no minor unit (IDR): a default the country always accepts.
   */
  amount?: string;
  /** success → COMPLETED, failed → FAILED, pending → PENDING. Default success. */
  status?: 'success' | 'failed' | 'pending';
  /** The platform's transaction id; derived from orderId when absent. */
  transactionId?: string;
  /** `order` (dynamic, default), `static.order` or `qrcode`: the event name's product. */
  product?: 'order' | 'static.order' | 'qrcode';
  country?: CountryCode;
  at?: Date;
  extra?: Record<string, unknown>;
}

export interface SignedParamRefundFields {
  /** The refunded payment's transaction id. */
  transactionId: string;
  /** The refunded amount, decimal in major units. */
  amount: string;
  /** The platform's refund transaction id; derived when absent. */
  refundTransactionId?: string;
  /** Your refund number (`mchRefundOrderId`). */
  refundOrderId?: string;
  country?: CountryCode;
  at?: Date;
  extra?: Record<string, unknown>;
}

export interface SignedParamPayoutFields {
  orderId: string;
  amount?: string;
  country?: CountryCode;
  at?: Date;
}

export interface SignedParamFixtures {
  readonly gateway: 'signed-param';
  readonly keys: TestKeyPair;
  readonly country: CountryCode;
  /** Options for createSignedParamProvider / createSignedParamMiddleware that trust these keys. */
  readonly providerOptions: { platformPublicKey: string; country: CountryCode };
  /** The transaction id `payment({ orderId })` uses when none is given. */
  transactionIdOf(orderId: string): string;
  payment(fields: SignedParamPaymentFields): GatewayDelivery;
  refund(fields: SignedParamRefundFields): GatewayDelivery;
  /** A disbursement notification: genuine, but not a payment (acknowledged, `unhandled`). */
  payout(fields: SignedParamPayoutFields): GatewayDelivery;
}

/** What the builders share: the plugin's signer and country facts, the keys and the default country. */
interface SignedParamFixtureState {
  readonly plugin: SignedParamPlugin;
  readonly keys: TestKeyPair;
  readonly defaultCountry: CountryCode;
  /** The provider's success body, which the delivery expects back. */
  readonly successAck: GatewayDelivery['successAck'];
}

/** The transaction id a payment gets when none is given. */
const transactionIdOf = (orderId: string): string => `C${derivedDigits(`platform:${orderId}`, 19)}`;

/** Where the notification says which country it is about, as the platform writes it. */
function countryFields(
  state: SignedParamFixtureState,
  country: CountryCode,
): Record<string, unknown> {
  return CHANNELS[country]
    ? { channelCode: CHANNELS[country] }
    : { countryCode: country, currency: state.plugin.COUNTRIES[country].currency };
}

function deliver(
  state: SignedParamFixtureState,
  param: Record<string, unknown>,
  description: string,
): GatewayDelivery {
  const signed = state.plugin.buildNotification(param, state.keys.privateKey);
  return {
    gateway: 'signed-param',
    description,
    body: signed.body,
    headers: signed.headers,
    successAck: state.successAck,
  };
}

/** The country a builder is told (or the default), its facts and the notification's time. */
function placeAndTime(
  state: SignedParamFixtureState,
  fields: { country?: CountryCode; at?: Date },
) {
  const country = fields.country ?? state.defaultCountry;
  return { country, facts: state.plugin.COUNTRIES[country], at: fields.at ?? new Date() };
}

function payment(
  state: SignedParamFixtureState,
  fields: SignedParamPaymentFields,
): GatewayDelivery {
  const { country, facts, at } = placeAndTime(state, fields);
  const status = fields.status ?? 'success';
  // A default the currency can carry: IDR has no minor unit, so "500.10" would not convert.
  const amount = fields.amount ?? (facts.exponent === 0 ? '50000' : '500.10');
  const product = fields.product ?? 'order';
  const transactionId = fields.transactionId ?? transactionIdOf(fields.orderId);
  const param: Record<string, unknown> = {
    eventName: `${product}.payment.${status === 'failed' ? 'failed' : 'success'}`,
    amount: decimalToMinorUnits(amount, facts.exponent),
    ...countryFields(state, country),
    mchOrderId: fields.orderId,
    createTime: gatewayWallTime(new Date(at.getTime() - 120_000), facts.timeZone),
    remark: 'payhook test payment',
    returnTime: gatewayWallTime(at, facts.timeZone),
    transactionId,
    transactionStatus: { success: 'COMPLETED', failed: 'FAILED', pending: 'PENDING' }[status],
    ...(status === 'failed'
      ? { failedCode: '40001', failedMessage: 'Payment declined by the channel' }
      : {}),
    ...fields.extra,
  };
  return deliver(
    state,
    param,
    `signed-param ${param.eventName}: order ${fields.orderId}, ${amount} ${facts.currency}, ${param.transactionStatus}`,
  );
}

function refund(state: SignedParamFixtureState, fields: SignedParamRefundFields): GatewayDelivery {
  const { facts, at } = placeAndTime(state, fields);
  const refundTransactionId =
    fields.refundTransactionId ??
    `R${derivedDigits(`platform-refund:${fields.transactionId}:${fields.amount}`, 19)}`;
  // Refund notifications name no currency (RefundCallback): the plugin's `country` decides.
  const param: Record<string, unknown> = {
    eventName: 'payment.refund.success',
    mchRefundOrderId: fields.refundOrderId ?? `RF-${refundTransactionId.slice(-8)}`,
    refundTransactionId,
    originalTransactionId: fields.transactionId,
    refundAmount: decimalToMinorUnits(fields.amount, facts.exponent),
    feeRefunded: 0,
    refundStatus: 'COMPLETE',
    refundCreateTime: gatewayWallTime(new Date(at.getTime() - 300_000), facts.timeZone),
    refundReturnTime: gatewayWallTime(at, facts.timeZone),
    refundReason: 'customer request',
    ...fields.extra,
  };
  return deliver(
    state,
    param,
    `signed-param payment.refund.success: ${fields.amount} ${facts.currency} of ${fields.transactionId}`,
  );
}

function payout(state: SignedParamFixtureState, fields: SignedParamPayoutFields): GatewayDelivery {
  const { country, facts, at } = placeAndTime(state, fields);
  const amount = fields.amount ?? '20000.00';
  const param = {
    eventName: 'disbursement.success',
    mchOrderId: fields.orderId,
    transactionId: `D${derivedDigits(`platform-payout:${fields.orderId}`, 19)}`,
    countryCode: country,
    currency: facts.currency,
    amount: decimalToMinorUnits(amount, facts.exponent),
    transactionStatus: 'COMPLETED',
    createTime: gatewayWallTime(new Date(at.getTime() - 60_000), facts.timeZone),
    returnTime: gatewayWallTime(at, facts.timeZone),
  };
  return deliver(
    state,
    param,
    `signed-param disbursement.success: payout ${fields.orderId}, ${amount} ${facts.currency}`,
  );
}

export function createSignedParamFixtures(
  options: SignedParamFixtureOptions = {},
): SignedParamFixtures {
  const plugin = requirePlugin<SignedParamPlugin>(
    GATEWAY_PLUGINS['signed-param'],
    'createSignedParamFixtures',
  );
  const keys = resolveTestKeyPair(options.keys);
  const defaultCountry = options.country ?? 'PH';
  const providerOptions = { platformPublicKey: keys.publicKeyBase64, country: defaultCountry };
  const state: SignedParamFixtureState = {
    plugin,
    keys,
    defaultCountry,
    successAck: successAckOf(plugin.createSignedParamProvider(providerOptions).ack.ok),
  };
  return {
    gateway: 'signed-param',
    keys,
    country: defaultCountry,
    providerOptions,
    transactionIdOf,
    payment: (fields) => payment(state, fields),
    refund: (fields) => refund(state, fields),
    payout: (fields) => payout(state, fields),
  };
}

interface SignedParamSendContext {
  fixtures: SignedParamFixtures;
  amount: string | undefined;
}

/** `payhook send signed-param <event>`. */
export const signedParamSend = defineSendGateway<SignedParamSendContext>({
  gateway: 'signed-param',
  plugin: GATEWAY_PLUGINS['signed-param'],
  summary: "{param, sign} notifications signed with the platform's RSA key",
  amountHelp:
    'no more decimals than the currency has (ID whole rupiah, else 2); default 500.10 (ID 50000), refund 100, payout 20000',
  transactionHelp: "the platform's transaction id; for a refund, the refunded payment's",
  options: {
    key: KEY_OPTION,
    country: { type: 'string', value: '<cc>', help: 'PH, ID, MY, TH or RU (default PH)' },
  },
  setup(input) {
    const { COUNTRIES, isCountryCode } = requirePlugin<SignedParamPlugin>(
      GATEWAY_PLUGINS['signed-param'],
      'payhook send signed-param',
    );
    const country = input.text('country') ?? 'PH';
    if (!isCountryCode(country))
      throw new UsageError(`--country must be one of ${Object.keys(COUNTRIES).join(', ')}`);
    const fixtures = createSignedParamFixtures({ keys: readKey(input, 'signed-param'), country });
    // The platform sends integer minor units: IDR has none, the other currencies cents.
    const { currency, exponent } = COUNTRIES[country];
    return { fixtures, amount: checkAmount(input.amount, { code: currency, places: exponent }) };
  },
  events: {
    ...outcomeEvents<SignedParamSendContext>('a payment notification', (c, input, status) => ({
      delivery: c.fixtures.payment({
        orderId: input.order,
        amount: c.amount,
        status,
        transactionId: input.transaction,
      }),
    })),
    refund: {
      summary: 'a refund notification of --amount',
      build: (c, input) => ({
        delivery: c.fixtures.refund({
          transactionId: input.transaction ?? c.fixtures.transactionIdOf(input.order),
          amount: c.amount ?? '100.00',
        }),
      }),
    },
    payout: {
      summary: 'a disbursement notification (genuine, not a payment: acknowledged, unhandled)',
      build: (c, input) => ({
        delivery: c.fixtures.payout({ orderId: input.order, amount: c.amount }),
      }),
    },
  },
});
