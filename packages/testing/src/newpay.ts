import type { KeyObject } from 'node:crypto';
import {
  jsonNumber,
  normalizeDecimal,
  type JsonNumber,
  type JsonValue,
  type KeyInput,
} from '@payhook/core/plugin';
import { derivedDigits, successAckOf, type GatewayDelivery } from './delivery';
import { resolveTestKeyPair, SOURCE, type TestKeyPair } from './keys';
import { GATEWAY_PLUGINS, requirePlugin, type AnsweringProvider, type SignedBody } from './plugins';
import { about, nonEmpty } from './cli/args';
import { defineSendGateway, outcomeEvents, type SendNote } from './cli/declare';
import { checkAmount, KEY_OPTION, readKey } from './cli/inputs';

/**
 * NewPay deliveries built with the plugin's own signer (signV1Callback / signV2Callback): field
 * lists and number forms of NewPay's doc samples (v1: https://pre-lnp-openapi.newpay.la/
 * 5-result-callback.html and 8-refund-callback.html; v2: the GitBook "5.6 Callback",
 * https://newpay-api-document.gitbook.io/newpay-api-document/5.-apis-v2/5.6-callback).
 */

export type NewpayVersion = 1 | 2;

/**
 * Callback parameters, as the plugin's SignParams: written here so that these types never make a
 * consumer's compiler look for @payhook/newpay-callback.
 */
export type NewpayParams = { readonly [key: string]: JsonValue };

/** What the builders use of @payhook/newpay-callback (see plugins.ts). */
export interface NewpayPlugin {
  createNewpayProvider: (options: {
    platformPublicKey: string;
    appId: string;
  }) => AnsweringProvider;
  signV1Callback: (params: NewpayParams, platformPrivateKey: KeyObject) => SignedBody;
  signV2Callback: (
    data: NewpayParams,
    platformPrivateKey: KeyObject,
    envelope: { timestamp: JsonNumber },
  ) => SignedBody;
}

export interface NewpayFixtureOptions {
  /** NewPay's platform key pair (it signs callbacks); generated when absent. */
  keys?: TestKeyPair | KeyInput;
  /** The merchant's appId (default 6, the doc sample's). */
  appId?: string | number;
  /** Callback generation when a builder is not told (default 1). */
  version?: NewpayVersion;
  /** Default LAK. */
  currency?: string;
}

export interface NewpayPaymentFields {
  /** Your order number (`orderNo` in v1, `mchOrderNo` in v2). */
  orderNo: string;
  /** Decimal in major units (default "15000.00"); written with 2 decimals as NewPay does. */
  amount?: string;
  /** v1 has success and failed; v2 also expired and processing. Default success. */
  status?: 'success' | 'failed' | 'expired' | 'processing';
  /** NewPay's order number; derived from orderNo when absent, so a rebuild is a redelivery. */
  newpayOrderNo?: string;
  currency?: string;
  /** When NewPay processed it (default now). */
  at?: Date;
  version?: NewpayVersion;
  /** Extra or overriding parameters (they are signed too). */
  extra?: NewpayParams;
}

export interface NewpayRefundFields {
  orderNo: string;
  /** The refunded amount, decimal in major units. */
  amount: string;
  status?: 'success' | 'failed';
  newpayOrderNo?: string;
  /** NewPay's refund number; derived from orderNo and amount when absent. */
  refundNo?: string;
  /** Your refund number (default R-<orderNo>). */
  merchantRefundNo?: string;
  /** The original order amount (v2 `orderAmt`), when known. */
  orderAmount?: string;
  currency?: string;
  at?: Date;
  version?: NewpayVersion;
  extra?: NewpayParams;
}

export interface NewpayFixtures {
  readonly gateway: 'newpay';
  readonly keys: TestKeyPair;
  readonly appId: string;
  /** Options for createNewpayProvider / createNewpayMiddleware that trust these keys. */
  readonly providerOptions: { platformPublicKey: string; appId: string };
  paymentCallback(fields: NewpayPaymentFields): GatewayDelivery;
  refundCallback(fields: NewpayRefundFields): GatewayDelivery;
}

/** JSON number when it is digits (the doc sample writes `"appId":6`), text otherwise. */
const numeric = (value: string): NewpayParams[string] =>
  /^\d+$/.test(value) ? jsonNumber(value) : value;

/** What the builders share: the plugin's signers, the keys and the defaults. */
interface NewpayFixtureState {
  readonly plugin: NewpayPlugin;
  readonly keys: TestKeyPair;
  readonly appId: string;
  readonly defaultVersion: NewpayVersion;
  readonly defaultCurrency: string;
  /** The provider's success body, which the delivery expects back. */
  readonly successAck: GatewayDelivery['successAck'];
}

const money = (amount: string): string =>
  normalizeDecimal(amount, { scale: 2, source: SOURCE, field: 'amount' });

function deliver(
  state: NewpayFixtureState,
  signed: SignedBody,
  description: string,
): GatewayDelivery {
  return {
    gateway: 'newpay',
    description,
    body: signed.body,
    headers: signed.headers,
    successAck: state.successAck,
  };
}

/** Signs v2 `data` with the callback's own time as the envelope's timestamp. */
function deliverV2(
  state: NewpayFixtureState,
  data: NewpayParams,
  at: string,
  description: string,
): GatewayDelivery {
  const signed = state.plugin.signV2Callback(data, state.keys.privateKey, {
    timestamp: jsonNumber(at),
  });
  return deliver(state, signed, description);
}

/** The fields both callback kinds share, with their defaults. */
function commonFields(
  state: NewpayFixtureState,
  fields: NewpayPaymentFields | NewpayRefundFields,
  amount: string,
) {
  return {
    version: fields.version ?? state.defaultVersion,
    amount: money(amount),
    currency: fields.currency ?? state.defaultCurrency,
    newpayOrderNo: fields.newpayOrderNo ?? derivedDigits(`newpay:${fields.orderNo}`, 18),
    at: String((fields.at ?? new Date()).getTime()),
  };
}

function paymentCallback(state: NewpayFixtureState, fields: NewpayPaymentFields): GatewayDelivery {
  const { version, amount, currency, newpayOrderNo, at } = commonFields(
    state,
    fields,
    fields.amount ?? '15000.00',
  );
  const status = fields.status ?? 'success';
  const description = `NewPay v${version} payment callback: order ${fields.orderNo}, ${amount} ${currency}, ${status}`;
  if (version === 1) {
    if (status !== 'success' && status !== 'failed')
      throw new TypeError(`${SOURCE}: NewPay v1 payment callbacks are success or failed`);
    // Field order and number forms of the v1 doc sample (5-result-callback.html).
    const params: NewpayParams = {
      orderNo: fields.orderNo,
      subject: 'payhook test order',
      transInfo: status === 'success' ? 'Transaction Success' : 'Transaction Failed',
      orderAmt: amount,
      newpayOrderNo,
      settlementStatus: jsonNumber('1'),
      payMethod: jsonNumber('1'),
      extra: '',
      appId: numeric(state.appId),
      currency,
      transStatus: jsonNumber(status === 'success' ? '0' : '1'),
      timestamp: jsonNumber(at),
      ...fields.extra,
    };
    return deliver(state, state.plugin.signV1Callback(params, state.keys.privateKey), description);
  }
  const payStatus = {
    success: 'SUCCESS',
    failed: 'FAIL',
    expired: 'EXPIRED',
    processing: 'PROCESSING',
  }[status];
  // v2 payment data, fields of the GitBook "5.6 Callback".
  const data: NewpayParams = {
    appId: state.appId,
    payStatus,
    payMethod: jsonNumber('11'),
    orderType: 'ONLINE',
    orderAmt: { value: amount, currency },
    mchOrderNo: fields.orderNo,
    newpayOrderNo,
    subject: 'payhook test order',
    settlementStatus: jsonNumber('0'),
    paytime: jsonNumber(at),
    attach: '',
    ...fields.extra,
  };
  return deliverV2(state, data, at, description);
}

function refundCallback(state: NewpayFixtureState, fields: NewpayRefundFields): GatewayDelivery {
  const { version, amount, currency, newpayOrderNo, at } = commonFields(
    state,
    fields,
    fields.amount,
  );
  const status = fields.status ?? 'success';
  const refundNo =
    fields.refundNo ?? derivedDigits(`newpay-refund:${fields.orderNo}:${amount}`, 18);
  const merchantRefundNo = fields.merchantRefundNo ?? `R-${fields.orderNo}`;
  const description = `NewPay v${version} refund callback: order ${fields.orderNo}, ${amount} ${currency} refunded, ${status}`;
  if (version === 1) {
    // Field list of the v1 refund callback (8-refund-callback.html), which spells the status
    // `tranStatus` (1 success, 0 failure).
    const params: NewpayParams = {
      appId: numeric(state.appId),
      payMethod: jsonNumber('1'),
      refundOrderAmt: amount,
      currency,
      newpayOrderNo,
      newpayRefundOrderNo: refundNo,
      orderNo: fields.orderNo,
      refundOrderNo: merchantRefundNo,
      tranStatus: jsonNumber(status === 'success' ? '1' : '0'),
      transInfo: status === 'success' ? 'Refund Success' : 'Refund rejected',
      timestamp: jsonNumber(at),
      ...fields.extra,
    };
    return deliver(state, state.plugin.signV1Callback(params, state.keys.privateKey), description);
  }
  // NewPay does not publish the v2 refund callback: fields of its v2 refund query,
  // uniQueryRefund.
  const data: NewpayParams = {
    appId: state.appId,
    refundStatus: status === 'success' ? 'SUCCESS' : 'FAIL',
    newpayRefundNo: refundNo,
    mchRefundNo: merchantRefundNo,
    newpayOrderNo,
    mchOrderNo: fields.orderNo,
    refundAmt: { value: amount, currency },
    ...(fields.orderAmount ? { orderAmt: { value: money(fields.orderAmount), currency } } : {}),
    ...fields.extra,
  };
  return deliverV2(state, data, at, description);
}

export function createNewpayFixtures(options: NewpayFixtureOptions = {}): NewpayFixtures {
  const plugin = requirePlugin<NewpayPlugin>(GATEWAY_PLUGINS.newpay, 'createNewpayFixtures');
  const keys = resolveTestKeyPair(options.keys);
  const appId = String(options.appId ?? 6);
  const providerOptions = { platformPublicKey: keys.publicKeyPem, appId };
  const state: NewpayFixtureState = {
    plugin,
    keys,
    appId,
    defaultVersion: options.version ?? 1,
    defaultCurrency: options.currency ?? 'LAK',
    successAck: successAckOf(plugin.createNewpayProvider(providerOptions).ack.ok),
  };
  return {
    gateway: 'newpay',
    keys,
    appId,
    providerOptions,
    paymentCallback: (fields) => paymentCallback(state, fields),
    refundCallback: (fields) => refundCallback(state, fields),
  };
}

const NEWPAY_DEFAULT_APP_ID = '6';

interface NewpaySendContext {
  fixtures: NewpayFixtures;
  amount: string | undefined;
  notes: SendNote[];
}

/** `payhook send newpay <event>`. */
export const newpaySend = defineSendGateway<NewpaySendContext>({
  gateway: 'newpay',
  plugin: GATEWAY_PLUGINS.newpay,
  summary: "callbacks signed with NewPay's RSA key (v1; --v2 for v2)",
  amountHelp: 'at most 2 decimals; default 15000.00, refund 5000.00',
  transactionHelp: "NewPay's order number (newpayOrderNo)",
  options: {
    key: KEY_OPTION,
    'app-id': {
      type: 'string',
      value: '<id>',
      help: `your app's NewPay appId, which the app checks (default ${NEWPAY_DEFAULT_APP_ID}); the output says which appId it signed with`,
    },
    v2: { type: 'boolean', help: 'send the v2 callback instead of v1' },
  },
  setup(input) {
    const keys = readKey(input, 'NewPay');
    const appId = nonEmpty({ value: input.text('app-id'), name: '--app-id' });
    const fixtures = about('--app-id', () =>
      createNewpayFixtures({
        keys,
        appId: appId ?? NEWPAY_DEFAULT_APP_ID,
        version: input.flag('v2') ? 2 : 1,
      }),
    );
    const notes = [
      {
        text: `signed for appId ${fixtures.appId} (--app-id <id>): your app's NewPay appId must be the same`,
        json: { appId: fixtures.appId },
      },
    ];
    // NewPay writes amounts with 2 decimals (`orderAmt` "15000.00"), whatever the currency.
    return { fixtures, notes, amount: checkAmount(input.amount, { code: 'NewPay', places: 2 }) };
  },
  events: {
    ...outcomeEvents<NewpaySendContext>('a payment callback', (c, input, status) => ({
      notes: c.notes,
      delivery: c.fixtures.paymentCallback({
        orderNo: input.order,
        amount: c.amount,
        status,
        newpayOrderNo: input.transaction,
      }),
    })),
    refund: {
      summary: 'a refund callback of --amount',
      build: (c, input) => ({
        notes: c.notes,
        delivery: c.fixtures.refundCallback({
          orderNo: input.order,
          amount: c.amount ?? '5000.00',
          newpayOrderNo: input.transaction,
        }),
      }),
    },
  },
});
