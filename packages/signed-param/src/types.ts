import type { WebhookMiddlewareOptions } from '@payhook/core';
import type { KeyInput, MaxAgeOptions } from '@payhook/core/plugin';
import type { CountryCode } from './tables';

/**
 * The verified `param` of a notification, as parsed. JSON numbers are kept as their exact text
 * (`"amount": 50010` arrives here as `"50010"`), so no amount or id passes through a float.
 * Fields not listed are kept as sent.
 */
export interface SignedParamBase {
  eventName: string;
  /** Present in the doc examples inside `param`; never used (only the outer `sign` counts). */
  sign?: string;
  [field: string]: unknown;
}

/**
 * `order.payment.*`, `static.order.payment.*`, `qrcode.payment.*` (the Payment Notification pages,
 * e.g. https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html).
 */
export interface SignedParamPayment extends SignedParamBase {
  mchOrderId?: string;
  transactionId: string;
  /** Integer minor units as text: cents, or whole rupiah for Indonesia. */
  amount: string;
  transactionStatus: string;
  createTime?: string;
  returnTime?: string;
  channelCode?: string;
  remark?: string;
  currency?: string;
  countryCode?: string;
  failedCode?: string;
  failedMessage?: string;
}

/** `payment.refund.*` (refund param of docs.paycools.com.my/en/refund/RefundCallback.html). */
export interface SignedParamRefund extends SignedParamBase {
  mchRefundOrderId?: string;
  refundTransactionId: string;
  originalTransactionId: string;
  /** Integer minor units as text; a partial refund carries the refunded part only. */
  refundAmount: string;
  feeRefunded?: string;
  refundStatus?: string;
  refundCreateTime?: string;
  refundReturnTime?: string;
  refundReason?: string;
  currency?: string;
  countryCode?: string;
  failedCode?: string;
  failedMessage?: string;
}

/** Anything a verified notification can carry: payments, refunds, payouts, unknown events. */
export type SignedParamPayload = SignedParamBase | SignedParamPayment | SignedParamRefund;

/** `data` of `POST /open-api/payment/query` (docs.paycools.com/en/v2/Payment/CollectionStatus.html). */
export interface SignedParamQueryData {
  mchOrderId?: string;
  transactionId: string;
  countryCode?: string;
  channelCode?: string;
  amount: string;
  currency?: string;
  payData?: string;
  transactionStatus: string;
  createTime?: string;
  returnTime?: string;
  remark?: string;
  [field: string]: unknown;
}

/** What events carry in `raw`: the verified param, or the query answer for fetchStatus. */
export type SignedParamRaw = SignedParamPayload | SignedParamQueryData;

export interface SignedParamOptions extends MaxAgeOptions {
  /**
   * The platform's RSA public key ("Please ask the Platform administrator for the RSA public key of
   * Platform"): PEM, or bare Base64 DER (SubjectPublicKeyInfo) as the portal hands it out. During a
   * key rotation, a list (old and new): the keys are tried in order and `event.keyIndex` says which
   * one matched.
   */
  platformPublicKey: KeyInput | readonly KeyInput[];
  /** Provider id; prefixes every event id and store key. Default `signed-param`; e.g. `paycools`. */
  id?: string;
  /**
   * The merchant account's country (required). Refund notifications name no currency and no
   * country, so they are read in this one; so is any payment whose channel code has no country
   * prefix, and the clock of its `yyyy-MM-dd HH:mm:ss` times. fetchStatus sends it as countryCode.
   */
  country: CountryCode;
  /** IANA zones of the platform's `yyyy-MM-dd HH:mm:ss` times, per country (defaults: COUNTRIES). */
  timeZones?: Partial<Record<CountryCode, string>>;
  /**
   * Merchant binding: the prefix every `mchOrderId` of yours starts with. A payment notification
   * whose `mchOrderId` does not start with it is refused (401 ERR_SENDER_UNKNOWN): the param names
   * no merchant, and the platform signs every merchant's notifications with the same key.
   */
  orderIdPrefix?: string;
  /** For fetchStatus: the platform API origin, e.g. `https://openapi.paycools.com`. */
  baseUrl?: string;
  /** For fetchStatus: the merchant's appId. */
  appId?: string;
  /** For fetchStatus: the merchant's RSA private key (PEM or Base64 PKCS#8 DER) that signs `param`. */
  merchantPrivateKey?: KeyInput;
  /** For fetchStatus: request timeout in ms (default 10,000). */
  queryTimeoutMs?: number;
}

/** The provider's options plus the adapter's (`limit`, `onResult`). */
export interface SignedParamMiddlewareOptions
  extends SignedParamOptions, WebhookMiddlewareOptions {}
