import type { MaxAgeOptions } from '@payhook/core/plugin';

/**
 * Payload types. The body is parsed with every JSON number kept as its source text, so a field the
 * docs type as a number (`amount`, `fee`, `merchantId`) is a string here whether Cashy wrote
 * `100.10` or `"100.10"`: nothing passes through a binary float.
 */

/**
 * Payin Order Status Enum (e.g. https://docs.cashypro.com/en_us/pak/appendix.html; PROCESSING,
 * WAITING and CANCEL from the older docs).
 */
export type CashyOrderStatus =
  'SUCCESS' | 'FAIL' | 'CANCEL' | 'PAYING' | 'PROCESSING' | 'WAITING' | (string & {});

/** API = /api/payIn, MCH = merchant back office, DESK = cashier, PATCH = replenishment (补单). */
export type CashyOrderType = 'API' | 'MCH' | 'DESK' | 'PATCH' | (string & {});

/**
 * The async webhook body ("Webhook RequestBody" of Cashy's payin page,
 * https://docs.cashypro.com/en_us/<country>/payin.html; showdoc IdCashyEnglish).
 */
export interface CashyPayinWebhook {
  orderStatus: CashyOrderStatus;
  /** Platform order number; the idempotency key. */
  orderNo: string;
  /** Merchant order number; for a PATCH order, the original one plus a 5-digit serial. */
  mchOrderNo: string;
  /** decimal(20,2), or an integer in MXN/TZS/CLP countries, as its source text. */
  amount: string;
  /** decimal(20,4); only when the order succeeded. */
  fee?: string | null;
  merchantId?: string;
  /** `yyyy-MM-dd HH:mm:ss` in the country's zone; only when the order succeeded. */
  completionTime?: string | null;
  orderType?: CashyOrderType | null;
  /** PATCH: the platform orderNo of the original order (equals orderNo for API orders). */
  patchOrderNo?: string | null;
  /** PATCH: the merchant order number of the original order (equals mchOrderNo for API orders). */
  patchMchOrderNo?: string | null;
  nonceStr?: string | null;
  payUrl?: string | null;
  payDeskUrl?: string | null;
  payType?: string | null;
  payCode?: string | null;
  [extra: string]: unknown;
}

/** `data` of a /api/payInQuery answer ("Query Payin Order", docs.cashypro.com, payin page). */
export interface CashyPayinOrder extends CashyPayinWebhook {
  channelOrderNo?: string | null;
}

/** `data` of a /api/payIn answer ("Create Payin Order", docs.cashypro.com, payin page). */
export interface CashyCreatedPayin {
  merchantId?: string;
  mchOrderNo: string;
  orderNo: string;
  amount?: string;
  orderFee?: string | null;
  payCode?: string | null;
  payUrl?: string | null;
  payDeskUrl?: string | null;
  [extra: string]: unknown;
}

/**
 * The envelope of every Cashy API answer: only code 200 is success
 * (e.g. https://docs.cashypro.com/en_us/pak/appendix.html).
 */
export interface CashyApiResponse<T> {
  code: string;
  msg: string;
  data: T | null;
}

export interface PayinProviderOptions extends MaxAgeOptions {
  /** Your Cashy merchant id (numeric); the `MerchantId` header must name it. */
  merchantId: string | number;
  /**
   * Your Cashy apiKey: it signs every request and webhook. During a rotation, a list (old and
   * new): webhooks are checked against each in order and `event.keyIndex` says which one matched;
   * API requests (fetchStatus) are signed with the first.
   */
  apiKey: string | readonly string[];
  /**
   * IANA zone of `completionTime`, which carries no offset. Default `Asia/Jakarta` (GMT+7, the
   * zone of the Indonesian webhook doc, https://www.showdoc.com.cn/IdCashyEnglish); other countries
   * differ (their docs give GMT+8 PHP, GMT+3 BRA/TZA, GMT-5 COL).
   */
  timeZone?: string;
  /** ISO 4217 code put on events; Cashy's webhook does not carry one. Default null. */
  currency?: string | null;
  /**
   * Decimal places of amounts: `100.1` becomes `100.10` at 2. More places with a non-zero digit
   * are refused, never rounded. Default 0 for MXN, TZS and CLP (integer countries), else 2.
   */
  amountScale?: number;
  /** API base URL (with any path prefix, e.g. `.../stage-api/`): enables `fetchStatus`. */
  baseUrl?: string;
  /** Timeout of API calls in ms (default 10,000). */
  timeoutMs?: number;
}
