import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  type PaymentEvent,
  type PaymentHub,
  type UnhandledDelivery,
} from '@payhook/core';
import { instantToIso, jsonNumber } from '@payhook/core/plugin';
import {
  assertRefused,
  createCountingStore,
  recordHub,
  type HubRecording,
} from '@payhook/core/testing';
import { createNewpayMiddleware, type NewpayProviderOptions } from '../src';
import { type SignParams } from '../src/signing';

function rsaPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** NewPay's platform pair (it signs callbacks), the merchant's pair (it signs queries), a stranger's. */
export const keys = { platform: rsaPair(), merchant: rsaPair(), stranger: rsaPair() };

export const platformPublicPem = keys.platform.publicKey.export({
  type: 'spki',
  format: 'pem',
}) as string;

/** The sample's appId is the JSON number 6 (pre-lnp-openapi.newpay.la/5-result-callback.html). */
export const APP_ID = 6;

/**
 * Signed times of the fixtures. The doc samples' own times (2022, 2025) are older than the default
 * maxAgeMs (24 h), so the fixtures carry recent ones; the samples' times are kept below for the
 * tests that pin them.
 */
const NOW = Date.now();
export const V1_TIME = NOW - 60_000;
export const V1_REFUND_TIME = NOW - 30_000;
export const V2_PAYTIME = NOW - 120_000;
/** The doc sample's timestamp (https://pre-lnp-openapi.newpay.la/5-result-callback.html). */
export const DOC_V1_TIMESTAMP = '1663738614280';

/** An epoch-ms time as `occurredAt` writes it in the default zone (Asia/Vientiane, UTC+7). */
export const vientiane = (ms: number): string => instantToIso(ms, 'Asia/Vientiane');

export function providerOptions(
  overrides: Partial<NewpayProviderOptions> = {},
): NewpayProviderOptions {
  return { platformPublicKey: platformPublicPem, appId: APP_ID, ...overrides };
}

/**
 * v1 payment callback, the doc sample of https://pre-lnp-openapi.newpay.la/5-result-callback.html,
 * numbers written as NewPay writes them; its timestamp is recent (V1_TIME), not the sample's.
 */
export function v1Payment(overrides: Record<string, SignParams[string]> = {}): SignParams {
  return {
    orderNo: '202209067002502223',
    subject: '1',
    transInfo: 'Transaction Success',
    orderAmt: '123.00',
    newpayOrderNo: '202209210000006950',
    settlementStatus: jsonNumber('1'),
    payMethod: jsonNumber('1'),
    extra: '',
    appId: jsonNumber('6'),
    currency: 'LAK',
    transStatus: jsonNumber('0'),
    timestamp: jsonNumber(String(V1_TIME)),
    ...overrides,
  };
}

/**
 * v1 refund callback, field list of NewPay v1 "4.4. Callback", 2.2.2 (GitBook; it spells the status
 * `tranStatus`, https://pre-lnp-openapi.newpay.la/8-refund-callback.html `transStatus`).
 */
export function v1Refund(
  status: '0' | '1',
  statusField: 'transStatus' | 'tranStatus' = 'tranStatus',
  overrides: Record<string, SignParams[string]> = {},
): SignParams {
  return {
    appId: jsonNumber('6'),
    payMethod: jsonNumber('1'),
    refundOrderAmt: '23.00',
    currency: 'LAK',
    newpayOrderNo: '202209210000006950',
    newpayRefundOrderNo: '202209220000000711',
    orderNo: '202209067002502223',
    refundOrderNo: 'R202209220001',
    [statusField]: jsonNumber(status),
    transInfo: status === '1' ? 'Refund Success' : 'Refund rejected',
    timestamp: jsonNumber(String(V1_REFUND_TIME)),
    ...overrides,
  };
}

/**
 * v2 payment callback data, fields of GitBook 5.6
 * (https://newpay-api-document.gitbook.io/newpay-api-document/5.-apis-v2/5.6-callback).
 */
export function v2Payment(overrides: Record<string, SignParams[string]> = {}): SignParams {
  return {
    appId: '6',
    payStatus: 'SUCCESS',
    payMethod: jsonNumber('11'),
    orderType: 'ONLINE',
    orderAmt: { value: '15000.00', currency: 'LAK' },
    mchOrderNo: 'M20250102001',
    newpayOrderNo: 'NP20250102000000123',
    subject: 'Coffee',
    settlementStatus: jsonNumber('0'),
    paytime: jsonNumber(String(V2_PAYTIME)),
    attach: '',
    ...overrides,
  };
}

/** v2 refund data: NewPay does not publish it; fields follow uniQueryRefund (our inference). */
export function v2Refund(overrides: Record<string, SignParams[string]> = {}): SignParams {
  return {
    appId: '6',
    refundStatus: 'SUCCESS',
    newpayRefundNo: 'NPR20250103000000009',
    mchRefundNo: 'MR20250103001',
    newpayOrderNo: 'NP20250102000000123',
    mchOrderNo: 'M20250102001',
    refundAmt: { value: '5000.00', currency: 'LAK' },
    orderAmt: { value: '15000.00', currency: 'LAK' },
    ...overrides,
  };
}

/** The v2 envelope's `timestamp`: not signed, and never read for the event. */
export const V2_ENVELOPE_TIME = jsonNumber(String(NOW - 10_000));

export interface Harness {
  hub: PaymentHub;
  /** Everything the hub emitted; `events`, `unhandled` and `errors` are its lists. */
  recording: HubRecording;
  events: PaymentEvent[];
  unhandled: UnhandledDelivery[];
  errors: Array<{ code: string }>;
  store: ReturnType<typeof createCountingStore>;
  post(body: string, contentType?: string): request.Test;
}

export function harness(overrides: Partial<NewpayProviderOptions> = {}): Harness {
  const store = createCountingStore();
  const hub = createPaymentHub({ store });
  const recording = recordHub(hub);
  const app = express();
  app.use('/callbacks/newpay', createNewpayMiddleware(hub, providerOptions(overrides)));
  return {
    hub,
    recording,
    events: recording.events,
    unhandled: recording.unhandled,
    errors: recording.errors,
    store,
    post: (body, contentType = 'application/json') =>
      request(app).post('/callbacks/newpay').set('content-type', contentType).send(body),
  };
}

export const ACK_OK = '{"transResult":"SUCCESS"}';
export const ACK_RETRY = '{"transResult":"FAIL"}';

/**
 * A refused delivery, checked by core's `assertRefused`: the HTTP status and error code, not the
 * success body, nothing emitted (no event, no unhandled notice), the store never asked, and the
 * refusal reported once on `error`.
 */
export async function expectRefused(
  h: Harness,
  body: string,
  status: number,
  code: string,
): Promise<void> {
  const reply = await h.post(body);
  assertRefused(
    { status: reply.status, body: reply.text },
    { recording: h.recording, store: h.store },
    { status, code, ackBody: ACK_OK },
  );
}
