import {
  PayloadError,
  ProviderConfigError,
  SignatureError,
  type PaymentHub,
  type PaymentProvider,
} from '@payhook/core';
import {
  assertTimeZone,
  checkHttpUrl,
  checkPositiveMs,
  checkSignedTime,
  createGatewayMiddleware,
  decimalFromMinorUnits,
  defineProvider,
  instantToIso,
  loadPrivateKey,
  loadPublicKeys,
  notAPaymentEvent,
  parseGatewayTime,
  parseJson,
  pendingPayment,
  resolveMaxAge,
  verified,
  verifyRsaSha256WithAny,
  type MaxAge,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type GatewayMiddleware,
} from '@payhook/core/plugin';
import type { KeyObject } from 'node:crypto';
import { createPaymentQuery, type PaymentQueryConfig } from './query';
import { SOURCE } from './source';
import {
  COUNTRIES,
  EVENT_RULES,
  REFUND_STATUS,
  TRANSACTION_STATUS,
  countryOfChannel,
  countryOfCurrency,
  eventRule,
  isCountryCode,
  type CountryCode,
} from './tables';
import type {
  SignedParamMiddlewareOptions,
  SignedParamOptions,
  SignedParamPayload,
  SignedParamPayment,
  SignedParamQueryData,
  SignedParamRaw,
  SignedParamRefund,
} from './types';

export const DEFAULT_PROVIDER_ID = 'signed-param';

/**
 * The platform's fixed success answer (its Payment Notification pages: "code ... fixed value 10000",
 * e.g. https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html).
 */
export const ACK_OK = Object.freeze({ code: 10000, message: 'Success' });
/** Anything else makes the platform deliver again; this body says why. */
export const ACK_RETRY = Object.freeze({ code: 50300, message: 'Retry later' });

type Draft = PaymentEventDraft<SignedParamRaw>;
type Outcome = ReadonlyArray<Draft> | NotPaymentEvent;

const OPT_TEXT = { type: ['string', 'null'] };
const INTEGER_TEXT = { type: 'string', pattern: '^[0-9]+$' };
const OPT_INTEGER_TEXT = { type: ['string', 'null'], pattern: '^-?[0-9]+$' };
const CURRENCY = { type: ['string', 'null'], pattern: '^([A-Z]{3})?$' };
const ID_TEXT = { type: 'string', minLength: 1, maxLength: 64 };

/** Fields of a payment param, shared by the notification and the query answer. */
const PAYMENT_FIELDS = {
  required: ['transactionId', 'amount', 'transactionStatus'],
  properties: {
    transactionId: ID_TEXT,
    amount: INTEGER_TEXT,
    transactionStatus: { type: 'string', minLength: 1 },
    mchOrderId: OPT_TEXT,
    createTime: OPT_TEXT,
    returnTime: OPT_TEXT,
    channelCode: OPT_TEXT,
    countryCode: OPT_TEXT,
    currency: CURRENCY,
    remark: OPT_TEXT,
    failedCode: OPT_TEXT,
    failedMessage: OPT_TEXT,
  },
};

const REFUND_FIELDS = {
  required: ['refundTransactionId', 'originalTransactionId', 'refundAmount'],
  properties: {
    refundTransactionId: ID_TEXT,
    originalTransactionId: ID_TEXT,
    refundAmount: INTEGER_TEXT,
    feeRefunded: OPT_INTEGER_TEXT,
    refundStatus: OPT_TEXT,
    mchRefundOrderId: OPT_TEXT,
    refundCreateTime: OPT_TEXT,
    refundReturnTime: OPT_TEXT,
    refundReason: OPT_TEXT,
    countryCode: OPT_TEXT,
    currency: CURRENCY,
  },
};

const namesOf = (family: string): string[] =>
  Object.keys(EVENT_RULES).filter((name) => EVENT_RULES[name]!.family === family);

/**
 * Built from EVENT_RULES: payment and refund names require their fields; payouts and unknown
 * names only need an eventName (they are acknowledged, never turned into payment events).
 */
export const PARAM_SCHEMA = {
  type: 'object',
  required: ['eventName'],
  properties: { eventName: { type: 'string', minLength: 1 } },
  allOf: [
    {
      if: { required: ['eventName'], properties: { eventName: { enum: namesOf('payment') } } },
      then: PAYMENT_FIELDS,
    },
    {
      if: { required: ['eventName'], properties: { eventName: { enum: namesOf('refund') } } },
      then: REFUND_FIELDS,
    },
  ],
};

interface Settings {
  country: CountryCode;
  timeZones: Record<CountryCode, string>;
  /** How old a signed time may be: checked on notifications, never on fetchStatus answers. */
  limits: MaxAge;
  /** Merchant binding: every payment's mchOrderId must start with it, when set. */
  orderIdPrefix: string | undefined;
}

/** For a notification (not a status query): when it arrived, against which the signed time is checked. */
interface Received {
  receivedAt: Date;
  checkAge: boolean;
}

export function createSignedParamProvider(
  options: SignedParamOptions,
): PaymentProvider<SignedParamRaw> {
  if (!options || typeof options !== 'object')
    throw new ProviderConfigError(
      'options',
      'must be an object with platformPublicKey and country',
      {
        source: SOURCE,
      },
    );
  const publicKeys = loadPublicKeys(options.platformPublicKey, 'platformPublicKey', SOURCE);
  const settings = readSettings(options);
  const query = readQueryConfig(options, settings);
  const fetchStatus = query
    ? createPaymentQuery(query, (data, receivedAt) =>
        normalizeQueryData(data, settings, receivedAt),
      )
    : undefined;

  return defineProvider<SignedParamRaw>({
    id: options.id ?? DEFAULT_PROVIDER_ID,
    source: SOURCE,
    schema: PARAM_SCHEMA,
    contentTypes: ['application/json'],
    verification: 'signature',
    verify: (delivery) => {
      const { payload, keyIndex } = verifySignedParam(delivery.body, publicKeys);
      return verified(payload, { keyIndex });
    },
    normalize: (raw, { delivery }) =>
      normalizeParam(raw as SignedParamPayload, settings, {
        receivedAt: delivery.receivedAt,
        checkAge: true,
      }),
    // The hub checks at mount that it remembers processed events for longer than this.
    maxAgeMs: settings.limits.maxAgeMs,
    clockSkewMs: settings.limits.clockSkewMs,
    ack: { ok: { body: { ...ACK_OK } }, retry: { status: 503, body: { ...ACK_RETRY } } },
    fetchStatus,
  });
}

/** The Express middleware for the notification URL, with the provider it runs on. */
export function createSignedParamMiddleware(
  hub: PaymentHub,
  options: SignedParamMiddlewareOptions,
): GatewayMiddleware<SignedParamRaw> {
  return createGatewayMiddleware(hub, options, createSignedParamProvider);
}

/**
 * Checks the outer `sign` against the `param` text exactly as sent (JSON unescaping of the outer
 * body is the only transformation: that string IS what the platform signed), then parses param.
 * Numbers stay text so amounts and ids never pass through a float. Several keys (a rotation) are
 * tried in order.
 */
export function verifyNotification(
  body: Buffer | string,
  publicKey: KeyObject | readonly KeyObject[],
): SignedParamPayload {
  return verifySignedParam(body, Array.isArray(publicKey) ? publicKey : [publicKey as KeyObject])
    .payload;
}

/** verifyNotification, also saying which key matched. */
function verifySignedParam(
  body: Buffer | string,
  publicKeys: readonly KeyObject[],
): { payload: SignedParamPayload; keyIndex: number } {
  const outer = parseJson(body, { source: SOURCE, what: 'body' });
  if (outer === null || typeof outer !== 'object' || Array.isArray(outer)) {
    throw new PayloadError('body must be a JSON object {"param": "...", "sign": "..."}', {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  }
  const { param, sign } = outer as { param?: unknown; sign?: unknown };
  if (sign === undefined || sign === null || sign === '') {
    throw new SignatureError('sign is missing from the body', {
      code: 'ERR_SIGNATURE_MISSING',
      source: SOURCE,
    });
  }
  if (typeof param !== 'string') {
    throw new PayloadError(
      param === undefined
        ? 'param is missing from the body'
        : 'param must be the JSON text the platform signed, not a parsed value',
      {
        code: 'ERR_PAYLOAD_MALFORMED',
        source: SOURCE,
        fields: [{ path: '/param', message: 'must be a string' }],
      },
    );
  }
  const keyIndex = typeof sign === 'string' ? verifyRsaSha256WithAny(param, sign, publicKeys) : -1;
  if (keyIndex < 0) {
    throw new SignatureError('sign does not verify over param with the platform public key', {
      source: SOURCE,
    });
  }
  const payload = parseJson(param, { source: SOURCE, what: 'param', numbers: 'text' });
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PayloadError('param must hold a JSON object', {
      code: 'ERR_PAYLOAD_MALFORMED',
      source: SOURCE,
    });
  }
  return { payload: payload as SignedParamPayload, keyIndex };
}

function normalizeParam(raw: SignedParamPayload, settings: Settings, received: Received): Outcome {
  const rule = eventRule(raw.eventName);
  if (!rule) return notAPaymentEvent(`unknown eventName ${quote(raw.eventName)}`);
  if (rule.family === 'not-a-payment') return notAPaymentEvent(`${raw.eventName}: ${rule.reason}`);
  if (rule.family === 'refund')
    return normalizeRefund(raw as SignedParamRefund, settings, received);

  const payment = raw as SignedParamPayment;
  checkMerchantBinding(payment, settings);
  const status = statusOf(payment.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (status === 'pending')
    return pendingPayment(
      `${raw.eventName} ${payment.transactionId} is ${payment.transactionStatus}`,
    );
  if (status !== rule.outcome) {
    throw new PayloadError(
      `eventName ${raw.eventName} contradicts transactionStatus ${quote(payment.transactionStatus)}`,
      {
        source: SOURCE,
        fields: [{ path: '/transactionStatus', message: `does not agree with ${raw.eventName}` }],
      },
    );
  }
  return [paymentDraft(payment, raw.eventName, rule.product, status, settings, received)];
}

/**
 * The param names no merchant and one platform key signs every merchant's notifications: the only
 * binding it allows is the merchant's own order number, when the merchant gives its prefix.
 */
function checkMerchantBinding(
  payment: { readonly mchOrderId?: unknown },
  settings: Settings,
  required = true,
): void {
  const prefix = settings.orderIdPrefix;
  if (prefix === undefined) return;
  const orderId = text(payment.mchOrderId);
  if (orderId === undefined && !required) return;
  if (orderId === undefined || !orderId.startsWith(prefix)) {
    throw new SignatureError(
      `mchOrderId ${orderId === undefined ? '(none)' : quote(orderId)} does not start with the configured orderIdPrefix: not an order of this merchant`,
      { code: 'ERR_SENDER_UNKNOWN', source: SOURCE },
    );
  }
}

function normalizeQueryData(
  data: SignedParamQueryData,
  settings: Settings,
  receivedAt: Date,
): Outcome {
  const status = statusOf(data.transactionStatus, TRANSACTION_STATUS, 'transactionStatus');
  if (status === 'pending')
    return pendingPayment(`${data.transactionId} is ${data.transactionStatus}`);
  // The query covers dynamic orders, so its ids are those of `order.payment.*` notifications:
  // a payment seen both ways is processed once.
  const eventName = status === 'completed' ? 'order.payment.success' : 'order.payment.failed';
  // The answer to our own query: fresh by construction, so its times are not age-checked.
  const draft = paymentDraft(data, eventName, 'dynamic order', status, settings, {
    receivedAt,
    checkAge: false,
  });
  return [{ ...draft, verification: 'status-query', raw: data }];
}

function paymentDraft(
  p: SignedParamPayment | SignedParamQueryData,
  eventName: string,
  product: string,
  outcome: 'completed' | 'failed',
  settings: Settings,
  received: Received,
): Draft {
  const money = moneyOf(p, settings);
  const draft: Draft = {
    id: `${eventName}:${p.transactionId}`,
    type: outcome === 'completed' ? 'payment.completed' : 'payment.failed',
    orderId: text(p.mchOrderId) ?? null,
    transactionId: p.transactionId,
    amount: decimalFromMinorUnits(p.amount, money.exponent, { source: SOURCE, field: 'amount' }),
    currency: money.currency,
    occurredAt: timeOf(p.returnTime, p.createTime, money.timeZone, received, eventName, settings),
    details: compact({
      eventName,
      product,
      transactionStatus: p.transactionStatus,
      channelCode: text(p.channelCode),
      country: money.country,
      amountMinorUnits: p.amount,
      remark: text(p.remark),
    }),
  };
  if (outcome === 'failed') {
    draft.failure = compact({ code: text(p.failedCode), message: text(p.failedMessage) });
  }
  return draft;
}

function normalizeRefund(r: SignedParamRefund, settings: Settings, received: Received): Outcome {
  // Refunds may name no mchOrderId; when one names it, it is bound like a payment.
  checkMerchantBinding({ mchOrderId: r.mchOrderId }, settings, false);
  const status =
    text(r.refundStatus) === undefined
      ? 'refunded'
      : statusOf(r.refundStatus, REFUND_STATUS, 'refundStatus');
  if (status === 'pending')
    return pendingPayment(`refund ${r.refundTransactionId} is ${r.refundStatus}`);
  if (status === 'not-refunded') {
    return notAPaymentEvent(
      `${r.eventName} with refundStatus ${r.refundStatus}: the refund did not happen`,
    );
  }
  const money = moneyOf(r, settings);
  const amount = decimalFromMinorUnits(r.refundAmount, money.exponent, {
    source: SOURCE,
    field: 'refundAmount',
  });
  const fee = text(r.feeRefunded);
  return [
    {
      // A payment can be refunded in several parts: each refund is its own fact.
      id: `${r.eventName}:${r.refundTransactionId}`,
      type: 'payment.refunded',
      orderId: text(r.mchOrderId) ?? null,
      transactionId: r.originalTransactionId,
      amount,
      currency: money.currency,
      occurredAt: timeOf(
        r.refundReturnTime,
        r.refundCreateTime,
        money.timeZone,
        received,
        r.eventName,
        settings,
        ['refundReturnTime', 'refundCreateTime'],
      ),
      refund: { refundId: r.refundTransactionId, amount },
      details: compact({
        eventName: r.eventName,
        mchRefundOrderId: text(r.mchRefundOrderId),
        refundStatus: text(r.refundStatus),
        refundReason: text(r.refundReason),
        feeRefunded:
          fee === undefined
            ? undefined
            : decimalFromMinorUnits(fee, money.exponent, { source: SOURCE, field: 'feeRefunded' }),
        country: money.country,
        amountMinorUnits: r.refundAmount,
      }),
    },
  ];
}

interface Money {
  currency: string;
  exponent: number;
  country: CountryCode;
  timeZone: string;
}

/**
 * Currency and scale: `currency` if sent, else the country of `countryCode`, of the channel code
 * prefix, or of the `country` option. IDR is whole rupiah; every other currency is cents.
 */
function moneyOf(
  p: { currency?: unknown; countryCode?: unknown; channelCode?: unknown },
  settings: Settings,
): Money {
  const sentCurrency = text(p.currency);
  const country =
    (isCountryCode(p.countryCode) ? p.countryCode : undefined) ??
    countryOfChannel(p.channelCode) ??
    (sentCurrency ? countryOfCurrency(sentCurrency) : undefined) ??
    settings.country;
  // `country` is required at construction, so a notification that names none (every refund) is
  // read in the account's country rather than answered 500 at runtime.
  const currency = sentCurrency ?? COUNTRIES[country].currency;
  const currencyCountry = countryOfCurrency(currency);
  const exponent = currencyCountry ? COUNTRIES[currencyCountry].exponent : 2;
  return { currency, exponent, country, timeZone: settings.timeZones[country] };
}

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The platform's finish time, else its create time, else the moment of receipt. For a notification,
 * the time read from the signed param is also its age: older than maxAgeMs (or further ahead than
 * clockSkewMs) is a 401 ERR_DELIVERY_STALE, so a genuine delivery replayed after the store forgot it
 * is never processed again. Without either time there is nothing signed to check: the store's
 * retention is then the only bound.
 */
function timeOf(
  primary: unknown,
  fallback: unknown,
  timeZone: string,
  received: Received,
  eventName: string,
  settings: Settings,
  fields: [string, string] = ['returnTime', 'createTime'],
): string {
  const value = text(primary) ?? text(fallback);
  if (value === undefined) return instantToIso(received.receivedAt.getTime(), timeZone);
  const field = text(primary) !== undefined ? fields[0] : fields[1];
  const iso = parseGatewayTime(value, { timeZone, source: SOURCE, field });
  if (received.checkAge) {
    const zone = HAS_OFFSET.test(value.trim())
      ? ''
      : ` (read as ${timeZone} time: see the timeZones option)`;
    checkSignedTime(iso, settings.limits, {
      now: received.receivedAt.getTime(),
      what: `${eventName} ${field} ${quote(value)}${zone}`,
      source: SOURCE,
    });
  }
  return iso;
}

function statusOf<T extends string>(
  value: unknown,
  table: Readonly<Record<string, T>>,
  field: string,
): T {
  const key = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (Object.prototype.hasOwnProperty.call(table, key)) return table[key]!;
  throw new PayloadError(
    `${field} ${quote(value)} is not one of ${Object.keys(table).join(', ')}`,
    { source: SOURCE, fields: [{ path: `/${field}`, message: 'unknown status' }] },
  );
}

function readSettings(options: SignedParamOptions): Settings {
  const fail = (option: string, problem: string, cause?: unknown): never => {
    throw new ProviderConfigError(option, problem, { source: SOURCE, cause });
  };
  if (options.country === undefined)
    fail(
      'country',
      `is required: your platform account's country (${Object.keys(COUNTRIES).join(', ')}); refund notifications name no currency and are read in it`,
    );
  if (!isCountryCode(options.country))
    fail('country', `must be one of ${Object.keys(COUNTRIES).join(', ')}`);
  const prefix = options.orderIdPrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix.trim() === ''))
    fail('orderIdPrefix', 'must be a non-empty string: the start of every mchOrderId of yours');
  const timeZones = Object.fromEntries(
    (Object.keys(COUNTRIES) as CountryCode[]).map((c) => [c, COUNTRIES[c].timeZone]),
  ) as Record<CountryCode, string>;
  if (options.timeZones !== undefined) {
    if (options.timeZones === null || typeof options.timeZones !== 'object')
      fail('timeZones', 'must map country codes to IANA zones, e.g. { ID: "Asia/Makassar" }');
    for (const [country, zone] of Object.entries(options.timeZones)) {
      if (!isCountryCode(country))
        fail(`timeZones.${country}`, `is not a country of ${Object.keys(COUNTRIES).join(', ')}`);
      timeZones[country as CountryCode] = assertTimeZone(zone, `timeZones.${country}`, SOURCE);
    }
  }
  return {
    country: options.country,
    timeZones,
    limits: resolveMaxAge(options, SOURCE),
    orderIdPrefix: prefix,
  };
}

function readQueryConfig(
  options: SignedParamOptions,
  settings: Settings,
): PaymentQueryConfig | undefined {
  const { baseUrl, appId, merchantPrivateKey, queryTimeoutMs } = options;
  if (baseUrl === undefined && appId === undefined && merchantPrivateKey === undefined)
    return undefined;
  const fail = (option: string, problem: string): never => {
    throw new ProviderConfigError(option, problem, { source: SOURCE });
  };
  if (baseUrl === undefined)
    fail('baseUrl', 'must be the platform API URL (https://...) when fetchStatus is configured');
  const origin = checkHttpUrl(baseUrl, 'baseUrl', SOURCE).href.replace(/\/+$/, '');
  if (typeof appId !== 'string' || appId.length === 0)
    fail('appId', 'must be the merchant appId when fetchStatus is configured');
  const key = loadPrivateKey(
    merchantPrivateKey as NonNullable<typeof merchantPrivateKey>,
    'merchantPrivateKey',
    SOURCE,
  );
  const timeoutMs = checkPositiveMs(queryTimeoutMs, 10_000, 'queryTimeoutMs', SOURCE);
  return {
    url: `${origin}/open-api/payment/query`,
    appId: appId as string,
    merchantKey: key,
    country: settings.country,
    timeoutMs,
  };
}

/** A non-empty string, or undefined ("" and null mean absent in these payloads). */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function compact<T extends Record<string, unknown>>(record: T): T {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
}

function quote(value: unknown): string {
  return JSON.stringify(String(value)).slice(0, 60);
}
