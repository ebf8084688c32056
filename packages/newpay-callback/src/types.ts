import type { WebhookMiddlewareOptions } from '@payhook/core';
import type { KeyInput } from '@payhook/core/plugin';
import type { EmptyValueReading, NestedKeyOrder } from './sign';

/*
 * Raw payload types. The body is parsed losslessly, so every JSON number arrives here as its exact
 * source text: `"appId":6` and `"appId":"6"` both give `appId: "6"`, `"orderAmt":1.50` gives "1.50".
 * Field lists: NewPay v1 "4.4. Callback" (https://pre-lnp-openapi.newpay.la/5-result-callback.html,
 * https://pre-lnp-openapi.newpay.la/8-refund-callback.html) and v2 "5.6 Callback"
 * (https://newpay-api-document.gitbook.io/newpay-api-document/5.-apis-v2/5.6-callback).
 */

/** v1 payment callback (transStatus: 0 success, 1 failure). */
export interface NewpayV1PaymentCallback {
  appId: string;
  /** 1 NewPay, 4 MasterCard. */
  payMethod?: string | null;
  orderAmt: string;
  currency?: string | null;
  newpayOrderNo: string;
  orderNo?: string | null;
  subject?: string | null;
  /** "0" success, "1" failure: the inverse of the refund callback. */
  transStatus: string;
  transInfo?: string | null;
  /** 1 not settled, 2 settled. */
  settlementStatus?: string | null;
  /** Epoch milliseconds. */
  timestamp: string;
  extra?: string | null;
  sign: string;
}

/** v1 refund callback (transStatus or tranStatus: 1 success, 0 failure). */
export interface NewpayV1RefundCallback {
  appId: string;
  payMethod?: string | null;
  refundOrderAmt: string;
  currency?: string | null;
  newpayOrderNo: string;
  newpayRefundOrderNo?: string;
  orderNo?: string | null;
  refundOrderNo?: string;
  /** "1" success, "0" failure. GitBook v1 "4.4. Callback" spells it tranStatus, pre-lnp transStatus. */
  transStatus?: string;
  tranStatus?: string;
  transInfo?: string | null;
  timestamp: string;
  sign: string;
}

export interface NewpayMoney {
  value: string;
  currency: string;
}

/** v2 payment callback data (also the `data` of a uniQueryPay answer). */
export interface NewpayV2PaymentData {
  appId: string;
  payStatus: 'SUCCESS' | 'FAIL' | 'EXPIRED' | 'PROCESSING' | (string & {});
  payMethod?: string | null;
  orderType?: string | null;
  orderAmt: NewpayMoney;
  mchOrderNo?: string | null;
  newpayOrderNo: string;
  subject?: string | null;
  settlementStatus?: string | null;
  /** Epoch milliseconds. */
  paytime?: string | null;
  attach?: string | null;
  sign: string;
}

/**
 * v2 refund callback data. NewPay does not publish this table; the fields follow its uniQueryRefund
 * answer (our inference).
 */
export interface NewpayV2RefundData {
  appId: string;
  refundStatus: 'SUCCESS' | 'FAIL' | 'PROCESSING' | (string & {});
  newpayRefundNo?: string;
  mchRefundNo?: string;
  newpayOrderNo: string;
  mchOrderNo?: string | null;
  refundAmt: NewpayMoney | string;
  orderAmt?: NewpayMoney;
  sign: string;
}

/** The v2 envelope; only `data` is signed. */
export interface NewpayV2Callback<D = NewpayV2PaymentData | NewpayV2RefundData> {
  success?: boolean;
  message?: string | null;
  code?: string | null;
  /** Epoch milliseconds. */
  timestamp: string;
  data: D;
}

export type NewpayCallback =
  | NewpayV1PaymentCallback
  | NewpayV1RefundCallback
  | NewpayV2Callback<NewpayV2PaymentData>
  | NewpayV2Callback<NewpayV2RefundData>;

export interface NewpayQueryOptions {
  /** Your merchant id (`mchId`), sent with every query. */
  mchId: string;
  /** Your merchant private key (PEM or Base64 DER): signs the query. */
  merchantPrivateKey: KeyInput;
  /** Default https://prod-openapi-v2.newpay.la/beta/pay (the query goes to `${baseUrl}/uniQueryPay`). */
  baseUrl?: string;
  /** Default 10,000 ms. */
  timeoutMs?: number;
}

export interface NewpayProviderOptions {
  /**
   * NewPay's platform public key (PEM or bare Base64 DER): verifies callbacks and query answers.
   * During a key rotation, give the old and the new key as an array: they are tried in order and
   * each event then carries `keyIndex`, the index of the key that verified it.
   */
  platformPublicKey: KeyInput | readonly KeyInput[];
  /**
   * Your appId. Required: NewPay signs every merchant's callbacks with the same platform key, so a
   * genuine callback for another app would otherwise verify here.
   */
  appId: string | number;
  /** Zone used to write `occurredAt` (default Asia/Vientiane, UTC+7). */
  timeZone?: string;
  /**
   * Oldest signed time accepted, in ms before the callback is received (default 24 h): v1
   * `timestamp`, v2 `data.paytime`. Older is refused with 401 ERR_DELIVERY_STALE. The hub's
   * `retentionMs` must be longer (checked at mount), so a replay is refused by its age once the
   * store has forgotten it.
   */
  maxAgeMs?: number;
  /** How far a signed time may be ahead of this server's clock, in ms (default 5 minutes). */
  clockSkewMs?: number;
  /** Which empty-value reading verifies (default `either`). Pin it once NewPay confirms one. */
  emptyValues?: EmptyValueReading | 'either';
  /** Key order of nested objects in the sign string (default `either`). */
  nestedKeys?: NestedKeyOrder | 'either';
  /** Enables `fetchStatus` (v2 uniQueryPay). */
  query?: NewpayQueryOptions;
}

/** The provider's options plus the adapter's (`limit`, `onResult`). */
export interface NewpayMiddlewareOptions extends NewpayProviderOptions, WebhookMiddlewareOptions {}
