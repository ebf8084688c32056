import { jsonNumber, normalizeDecimal, type JsonValue } from '@payhook/core/plugin';
import { derivedDigits, gatewayWallTime, successAckOf, type GatewayDelivery } from './delivery';
import { SOURCE } from './keys';
import { GATEWAY_PLUGINS, requirePlugin, type AnsweringProvider, type SignedBody } from './plugins';
import { about, given, nonEmpty } from './cli/args';
import { defineSendGateway, outcomeEvents } from './cli/declare';
import { UsageError } from './cli/errors';
import { checkAmount } from './cli/inputs';

/**
 * Cashy payin webhooks built with the plugin's own signer (buildCashyMessage: MD5(body + apiKey)
 * in the Sign header). Field order of Cashy's payin page, "Webhook RequestBody"
 * (https://docs.cashypro.com/en_us/<country>/payin.html).
 */

/** A test apiKey: Cashy keys are shared secrets, so a constant is as good as a generated one. */
export const CASHY_TEST_API_KEY = 'payhook-test-cashy-api-key';
export const CASHY_TEST_MERCHANT_ID = '100001';

export interface CashyFixtureOptions {
  /** Default 100001 (the merchant of the payin page's example). */
  merchantId?: string | number;
  /** Default CASHY_TEST_API_KEY. */
  apiKey?: string;
  /** Zone of `completionTime` (default Asia/Jakarta, the plugin's default). */
  timeZone?: string;
  /** Put on events by the plugin (the webhook carries none); default IDR. */
  currency?: string;
  /** Hex case of the Sign header (default upper, as Cashy's examples); the plugin's SignCase. */
  signCase?: 'upper' | 'lower';
}

export interface CashyPayinFields {
  /** Your order number (`mchOrderNo`). */
  mchOrderNo: string;
  /** Decimal in major units (default "100.10"), written as a bare JSON number. */
  amount?: string;
  /** success → SUCCESS, failed → FAIL, cancelled → CANCEL, paying → PAYING. Default success. */
  status?: 'success' | 'failed' | 'cancelled' | 'paying';
  /** Cashy's order number; derived from mchOrderNo when absent, so a rebuild is a redelivery. */
  orderNo?: string;
  /** decimal(20,4), default 0 on success. */
  fee?: string;
  at?: Date;
  /** A replenishment (PATCH) order on `mchOrderNo`: serial 1 → mchOrderNo + "00001". */
  patchSerial?: number;
  /** Extra or overriding body fields (signed too). */
  extra?: Record<string, JsonValue>;
}

export interface CashyFixtures {
  readonly gateway: 'cashy';
  readonly merchantId: string;
  readonly apiKey: string;
  /** Options for createPayinProvider / createPayinMiddleware that trust these deliveries. */
  readonly providerOptions: {
    merchantId: string;
    apiKey: string;
    timeZone: string;
    currency: string;
  };
  payin(fields: CashyPayinFields): GatewayDelivery;
}

/** What the builders use of @payhook/payin (see plugins.ts). */
export interface CashyPlugin {
  createPayinProvider: (options: CashyFixtures['providerOptions']) => AnsweringProvider;
  buildCashyMessage: (
    payload: { readonly [key: string]: JsonValue },
    options: { merchantId: string; apiKey: string; signCase?: CashyFixtureOptions['signCase'] },
  ) => SignedBody;
}

const STATUS = { success: 'SUCCESS', failed: 'FAIL', cancelled: 'CANCEL', paying: 'PAYING' };

export function createCashyFixtures(options: CashyFixtureOptions = {}): CashyFixtures {
  const { buildCashyMessage, createPayinProvider } = requirePlugin<CashyPlugin>(
    GATEWAY_PLUGINS.cashy,
    'createCashyFixtures',
  );
  const merchantId = String(options.merchantId ?? CASHY_TEST_MERCHANT_ID);
  const apiKey = options.apiKey ?? CASHY_TEST_API_KEY;
  const timeZone = options.timeZone ?? 'Asia/Jakarta';
  const providerOptions = { merchantId, apiKey, timeZone, currency: options.currency ?? 'IDR' };
  const successAck = successAckOf(createPayinProvider(providerOptions).ack.ok);

  return {
    gateway: 'cashy',
    merchantId,
    apiKey,
    providerOptions,
    payin(fields) {
      const status = fields.status ?? 'success';
      const orderStatus = STATUS[status];
      const amount = normalizeDecimal(fields.amount ?? '100.10', {
        source: SOURCE,
        field: 'amount',
      });
      const isPatch = fields.patchSerial !== undefined;
      const mchOrderNo = isPatch
        ? `${fields.mchOrderNo}${String(fields.patchSerial).padStart(5, '0')}`
        : fields.mchOrderNo;
      const orderNo = fields.orderNo ?? `PAYIN${derivedDigits(`cashy:${mchOrderNo}`, 19)}`;
      const originalOrderNo = isPatch
        ? `PAYIN${derivedDigits(`cashy:${fields.mchOrderNo}`, 19)}`
        : orderNo;
      const done = orderStatus === 'SUCCESS';
      const body: Record<string, JsonValue> = {
        orderStatus,
        amount: jsonNumber(amount),
        fee: done ? jsonNumber(fields.fee ?? '0') : null,
        mchOrderNo,
        merchantId,
        payDeskUrl: null,
        orderNo,
        payUrl: null,
        patchOrderNo: originalOrderNo,
        patchMchOrderNo: fields.mchOrderNo,
        orderType: isPatch ? 'PATCH' : 'API',
        completionTime: done ? gatewayWallTime(fields.at ?? new Date(), timeZone) : null,
        // Same order and status, same nonce: Cashy's retries repeat the body byte for byte.
        nonceStr: derivedDigits(`nonce:${orderNo}:${orderStatus}`, 10),
        ...fields.extra,
      };
      const signed = buildCashyMessage(body, { merchantId, apiKey, signCase: options.signCase });
      return {
        gateway: 'cashy',
        description: `Cashy payin webhook: order ${mchOrderNo}, ${amount}, ${orderStatus}${isPatch ? ' (PATCH)' : ''}`,
        body: signed.body,
        headers: signed.headers,
        successAck,
      };
    },
  };
}

interface CashySendContext {
  fixtures: CashyFixtures;
  amount: string | undefined;
}

/** `payhook send cashy <event>`. */
export const cashySend = defineSendGateway<CashySendContext>({
  gateway: 'cashy',
  plugin: GATEWAY_PLUGINS.cashy,
  summary: 'payin webhooks signed with the apiKey (MD5 in the Sign header)',
  amountHelp: 'any scale; default 100.10',
  transactionHelp: "Cashy's order number (orderNo)",
  options: {
    'merchant-id': {
      type: 'string',
      value: '<id>',
      help: `merchant id (env CASHY_MERCHANT_ID, default ${CASHY_TEST_MERCHANT_ID})`,
    },
    'api-key': {
      type: 'string',
      value: '<key>',
      help: `apiKey (env CASHY_API_KEY, default ${CASHY_TEST_API_KEY}, CASHY_TEST_API_KEY of @payhook/testing)`,
    },
  },
  setup(input) {
    const merchant = given(
      '--merchant-id',
      input.text('merchant-id'),
      'CASHY_MERCHANT_ID',
      input.io,
    );
    const merchantId = merchant.value ?? CASHY_TEST_MERCHANT_ID;
    if (!/^\d+$/.test(merchantId)) throw new UsageError(`${merchant.name} must be digits`);
    const apiKey = given('--api-key', input.text('api-key'), 'CASHY_API_KEY', input.io);
    const fixtures = about(apiKey.name, () =>
      createCashyFixtures({ merchantId, apiKey: nonEmpty(apiKey) ?? CASHY_TEST_API_KEY }),
    );
    // Cashy writes the amount as a bare JSON decimal: any scale is one it can carry.
    return { fixtures, amount: checkAmount(input.amount, { code: 'Cashy' }) };
  },
  events: outcomeEvents<CashySendContext>('a payin webhook', (c, input, status) => ({
    delivery: c.fixtures.payin({
      mchOrderNo: input.order,
      amount: c.amount,
      status,
      orderNo: input.transaction,
    }),
  })),
});
