import {
  PayloadError,
  SignatureError,
  type Delivery,
  type PaymentHub,
  type PaymentProvider,
  type WebhookMiddlewareOptions,
} from '@payhook/core';
import {
  checkSignedTime,
  createGatewayMiddleware,
  defineProvider,
  instantToIso,
  assertTimeZone,
  normalizeDecimal,
  notAPaymentEvent,
  parseGatewayTime,
  parseJson,
  pendingPayment,
  resolveMaxAge,
  verified,
  type NotPaymentEvent,
  type PaymentEventDraft,
  type GatewayMiddleware,
} from '@payhook/core/plugin';
import { createPayinClient, type PayinClient } from './client';
import { SOURCE, checkApiKeys, checkMerchantId, checkTimeout, configFail } from './options';
import { verifyCashySign } from './sign';
import type { CashyPayinWebhook, PayinProviderOptions } from './types';

export const PAYIN_PROVIDER_ID = 'cashy';

/**
 * The default zone of `completionTime`: GMT+7, from the Indonesian webhook doc
 * (https://www.showdoc.com.cn/IdCashyEnglish).
 */
export const DEFAULT_TIME_ZONE = 'Asia/Jakarta';

/** Countries whose amounts are whole units (Cashy's country docs type them as integers). */
const INTEGER_CURRENCIES = new Set(['MXN', 'TZS', 'CLP']);

const COMPLETED = new Set(['SUCCESS']);
// A Map, not an object literal: an orderStatus of "toString" must not find a prototype member.
const FAILED = new Map([
  ['FAIL', 'Payment failed'],
  ['CANCEL', 'Rejected by Cashy'],
]);
const NOT_FINAL = new Set(['PAYING', 'PROCESSING', 'WAITING']);

const nullableString = { type: ['string', 'null'] } as const;

/**
 * Numbers arrive as their source text (parseJson `numbers: 'text'`), so `amount` is a string here
 * whether Cashy wrote a JSON number or a string. Unknown members are allowed: the examples are
 * sloppy (payType, payCode, payUrl come and go).
 */
export const cashyWebhookSchema = {
  type: 'object',
  required: ['orderStatus', 'orderNo', 'mchOrderNo', 'amount'],
  properties: {
    orderStatus: { type: 'string', minLength: 1 },
    orderNo: { type: 'string', minLength: 1, maxLength: 64 },
    mchOrderNo: { type: 'string', minLength: 1, maxLength: 64 },
    amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
    fee: { anyOf: [{ type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' }, { type: 'null' }] },
    merchantId: { type: 'string' },
    completionTime: nullableString,
    orderType: nullableString,
    patchOrderNo: nullableString,
    patchMchOrderNo: nullableString,
    nonceStr: nullableString,
  },
} as const;

export interface PatchOrigin {
  /** The merchant order number the replenishment belongs to. */
  originalMchOrderNo: string;
  /** The serial Cashy appended to mchOrderNo (`00001`), when one could be told apart. */
  serial: string | null;
}

/**
 * Where a PATCH order came from. Cashy names the original in `patchMchOrderNo`; without it,
 * `mchOrderNo` is the original plus a 5-digit serial (Cashy's payin page, the PATCH note:
 * MCH20230088 → MCH2023008800001).
 */
export function resolvePatchOrigin(
  mchOrderNo: string,
  patchMchOrderNo?: string | null,
): PatchOrigin {
  if (patchMchOrderNo) {
    const rest = mchOrderNo.startsWith(patchMchOrderNo)
      ? mchOrderNo.slice(patchMchOrderNo.length)
      : '';
    return { originalMchOrderNo: patchMchOrderNo, serial: /^\d+$/.test(rest) ? rest : null };
  }
  const m = /^(.+)(\d{5})$/.exec(mchOrderNo);
  return m
    ? { originalMchOrderNo: m[1]!, serial: m[2]! }
    : { originalMchOrderNo: mchOrderNo, serial: null };
}

function header(delivery: Delivery, name: string): string | undefined {
  const value = delivery.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.trim().length > 0 ? text.trim() : undefined;
}

/**
 * The Cashy payin provider: webhooks signed `MD5(raw body + apiKey)` in the `Sign` header, the
 * merchant in `MerchantId`, acknowledged with the plain text `SUCCESS`.
 */
export function createPayinProvider(
  options: PayinProviderOptions,
): PaymentProvider<CashyPayinWebhook> {
  if (!options || typeof options !== 'object')
    return configFail('merchantId', 'is required (options object missing)');
  const merchantId = checkMerchantId(options.merchantId);
  const apiKeys = checkApiKeys(options.apiKey);
  const limits = resolveMaxAge(options, SOURCE);
  const timeZone = assertTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE, 'timeZone', SOURCE);
  const currency = options.currency ?? null;
  if (currency !== null && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)))
    configFail('currency', 'must be an ISO 4217 code such as "IDR", or null');
  const scale = options.amountScale ?? (currency && INTEGER_CURRENCIES.has(currency) ? 0 : 2);
  if (!Number.isInteger(scale) || scale < 0 || scale > 4)
    configFail('amountScale', 'must be a whole number from 0 to 4');
  let client: PayinClient | undefined;
  if (options.baseUrl !== undefined) {
    client = createPayinClient({
      baseUrl: options.baseUrl,
      merchantId,
      // The key in force signs requests: the first of a rotation's list.
      apiKey: apiKeys[0]!,
      timeoutMs: checkTimeout(options.timeoutMs),
    });
  }

  /**
   * `verification` is set for a status-query answer (our own question, fresh by construction);
   * a webhook (none) has its signed completionTime checked against the maximum age.
   */
  const normalizeOrder = (
    raw: CashyPayinWebhook,
    receivedAt: Date,
    verification?: 'status-query',
  ): ReadonlyArray<PaymentEventDraft<CashyPayinWebhook>> | NotPaymentEvent => {
    const status = raw.orderStatus;
    if (NOT_FINAL.has(status)) return pendingPayment(`orderStatus ${status}`);
    const failed = FAILED.get(status);
    if (!COMPLETED.has(status) && failed === undefined)
      return notAPaymentEvent(`unknown orderStatus ${JSON.stringify(status).slice(0, 40)}`);
    const isPatch = raw.orderType === 'PATCH';
    const origin = isPatch ? resolvePatchOrigin(raw.mchOrderNo, raw.patchMchOrderNo) : undefined;
    const fee =
      raw.fee === undefined || raw.fee === null
        ? null
        : normalizeDecimal(raw.fee, { source: SOURCE, field: 'fee' });
    const occurredAt = raw.completionTime
      ? parseGatewayTime(raw.completionTime, { timeZone, source: SOURCE, field: 'completionTime' })
      : // fee and completionTime only exist for paid orders: a failure is dated by its arrival.
        instantToIso(receivedAt.getTime(), timeZone);
    if (raw.completionTime && verification === undefined) {
      // The only time in the signed body, PATCH orders included (a PATCH is its own order, with
      // its own completion). Older than maxAgeMs, or ahead by more than clockSkewMs: a 401, so a
      // genuine webhook replayed after the store forgot it is never credited again. Without it
      // (failures) the store's retention is the only bound.
      checkSignedTime(occurredAt, limits, {
        now: receivedAt.getTime(),
        what: `completionTime ${JSON.stringify(raw.completionTime).slice(0, 40)} (read as ${timeZone} time: see the timeZone option)`,
        source: SOURCE,
      });
    }
    const draft: PaymentEventDraft<CashyPayinWebhook> = {
      // One key per platform order and outcome: each PATCH order has its own orderNo, and a
      // failure notice cannot shadow a later success of the same order.
      id: `${raw.orderNo}:${failed === undefined ? 'completed' : 'failed'}`,
      type: failed === undefined ? 'payment.completed' : 'payment.failed',
      orderId: origin ? origin.originalMchOrderNo : raw.mchOrderNo,
      transactionId: raw.orderNo,
      amount: normalizeDecimal(raw.amount, { source: SOURCE, field: 'amount', scale }),
      currency,
      occurredAt,
      details: {
        orderType: raw.orderType ?? null,
        fee,
        mchOrderNo: raw.mchOrderNo,
        isPatch,
        patchOrderNo: isPatch ? (raw.patchOrderNo ?? null) : null,
        serial: origin ? origin.serial : null,
      },
    };
    if (failed !== undefined) draft.failure = { code: status, message: failed };
    if (verification) {
      draft.verification = verification;
      draft.raw = raw;
    }
    return [draft];
  };

  const provider: PaymentProvider<CashyPayinWebhook> = defineProvider<CashyPayinWebhook>({
    id: PAYIN_PROVIDER_ID,
    source: SOURCE,
    schema: cashyWebhookSchema,
    verify(delivery) {
      const sign = header(delivery, 'sign');
      const sender = header(delivery, 'merchantid');
      if (!sign || !sender) {
        const missing = [!sender && 'MerchantId', !sign && 'Sign'].filter(Boolean).join(' and ');
        throw new SignatureError(`the ${missing} header is missing`, {
          code: 'ERR_SIGNATURE_MISSING',
          source: SOURCE,
        });
      }
      if (sender !== merchantId)
        throw new SignatureError('the MerchantId header does not name the configured merchant', {
          code: 'ERR_SENDER_UNKNOWN',
          source: SOURCE,
        });
      const keyIndex = apiKeys.findIndex((apiKey) => verifyCashySign(delivery.body, sign, apiKey));
      if (keyIndex < 0)
        throw new SignatureError('the Sign header does not match MD5(raw body + apiKey)', {
          source: SOURCE,
        });
      const raw = parseJson(delivery.body, {
        numbers: 'text',
        source: SOURCE,
      }) as CashyPayinWebhook;
      const bodyMerchant = (raw as { merchantId?: unknown } | null)?.merchantId;
      if (typeof bodyMerchant === 'string' && bodyMerchant.trim() !== merchantId)
        throw new SignatureError('the body merchantId does not name the configured merchant', {
          code: 'ERR_SENDER_UNKNOWN',
          source: SOURCE,
        });
      return verified(raw, { keyIndex });
    },
    normalize(raw, context) {
      return normalizeOrder(raw, context.delivery.receivedAt);
    },
    // The hub checks at mount that it remembers processed events for longer than this.
    maxAgeMs: limits.maxAgeMs,
    clockSkewMs: limits.clockSkewMs,
    ack: {
      ok: { status: 200, body: 'SUCCESS' },
      retry: { status: 500, body: 'FAIL' },
    },
    fetchStatus: client
      ? async (orderNo: string) => {
          const order = await client.queryPayin({ orderNo });
          const problems = provider.validate(order);
          if (problems) {
            throw new PayloadError(
              `/api/payInQuery answered an order that does not match the schema: ${problems
                .map((p) => `${p.path || '/'} ${p.message}`)
                .join('; ')}`,
              { source: SOURCE, fields: problems },
            );
          }
          return normalizeOrder(order, new Date(), 'status-query');
        }
      : undefined,
  });
  return provider;
}

export interface PayinMiddlewareOptions extends PayinProviderOptions, WebhookMiddlewareOptions {}

/** The Express middleware for Cashy's async payin webhook: `app.use('/webhooks/cashy', ...)`. */
export function createPayinMiddleware(
  hub: PaymentHub,
  options: PayinMiddlewareOptions,
): GatewayMiddleware<CashyPayinWebhook> {
  return createGatewayMiddleware(hub, options, createPayinProvider);
}
