import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  type PaymentErrorLike,
  type PaymentEvent,
  type PaymentHub,
  type UnhandledDelivery,
} from '@payhook/core';
import { instantToIso } from '@payhook/core/plugin';
import {
  assertRefused,
  createCountingStore,
  recordHub,
  type HubRecording,
} from '@payhook/core/testing';
import { createSignedParamMiddleware, type SignedParamOptions } from '../src';
import { buildNotification } from '../src/signing';

function rsaPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Generated per test run: the platform's pair, a stranger's pair and the merchant's pair. */
export const platform = rsaPair();
export const stranger = rsaPair();
export const merchant = rsaPair();

/** The platform public key the way the portal hands it out: bare Base64 DER (SPKI). */
export const platformPublicBase64 = platform.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');
export const platformPublicPem = platform.publicKey
  .export({ type: 'spki', format: 'pem' })
  .toString();

/**
 * The `param` of the doc example of "3.2.3 Payment Notification" (Indonesia, dynamic order, in the
 * Platform API doc, docs.paycools.com/en/v2), field order and the stray inner "sign" kept as in the
 * doc. The static-order page's example is the same with eventName static.order.payment.success
 * (https://docs.ezpaytechs.com/en/philippines/Payment/Static/CollectionNotification.html).
 */
export const DOC_EXAMPLE_PARAM =
  '{"eventName":"order.payment.success","amount":50000,"channelCode":"ID_BCA_VA","mchOrderId":"Platform653350151938813","createTime":"2023-01-01 09:38:06","remark":"test payment","sign":"xxxxxxxxxxxxx","returnTime":"2023-01-01 09:40:06","transactionId":"C1032653961085706055","transactionStatus":"COMPLETED"}';

/** `yyyy-MM-dd HH:mm:ss` in `timeZone`, `agoMs` before now: the platform's time format. */
export function wallTime(agoMs: number, timeZone = 'Asia/Manila'): string {
  return instantToIso(Math.floor((Date.now() - agoMs) / 1000) * 1000, timeZone)
    .slice(0, 19)
    .replace('T', ' ');
}

const HOUR = 3_600_000;

/**
 * The signed times of the default params: two hours ago on a Manila (UTC+8) clock. Read in any
 * zone from UTC+6 to UTC+9 (every default but Moscow's) that is still within the default 24 h
 * maximum age and not in the future, so tests about something else never trip the age check.
 */
export const RETURN_TIME = wallTime(2 * HOUR);
export const CREATE_TIME = wallTime(2 * HOUR + 120_000);
/** RETURN_TIME as the event's occurredAt when read in Manila (+08:00). */
export const RETURN_AT_PH = `${RETURN_TIME.replace(' ', 'T')}+08:00`;

/**
 * DOC_EXAMPLE_PARAM with its two times replaced by fresh ones (same length, same places): the doc
 * example as the platform would sign it today. The doc's own times (2023) are older than any
 * maximum age.
 */
export function freshDocParam(returnTime = RETURN_TIME, createTime = CREATE_TIME): string {
  return DOC_EXAMPLE_PARAM.replace('2023-01-01 09:38:06', createTime).replace(
    '2023-01-01 09:40:06',
    returnTime,
  );
}

/** A payment param in the shape of those two doc examples, amount in cents as the doc writes it. */
export function paymentParam(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventName: 'order.payment.success',
    amount: 50010,
    channelCode: 'PH_QRPH_DYNAMIC',
    mchOrderId: 'Platform653350151938813',
    createTime: CREATE_TIME,
    remark: 'test payment',
    returnTime: RETURN_TIME,
    transactionId: 'C1032653961085706055',
    transactionStatus: 'COMPLETED',
    ...overrides,
  };
}

/** Refund param fields of docs.paycools.com.my/en/refund/RefundCallback.html (refund callback). */
export function refundParam(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventName: 'payment.refund.success',
    mchRefundOrderId: 'RF20230101000001',
    refundTransactionId: 'R1032653961085700001',
    originalTransactionId: 'C1032653961085706055',
    refundAmount: 2500,
    feeRefunded: 0,
    refundStatus: 'COMPLETE',
    refundCreateTime: wallTime(2 * HOUR + 300_000),
    refundReturnTime: RETURN_TIME,
    refundReason: 'customer request',
    ...overrides,
  };
}

/**
 * Payout param fields of the disbursement notification
 * (https://docs.paycools.com/en/v2/Disbursement/Notification.html).
 */
export function payoutParam(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventName: 'disbursement.success',
    mchOrderId: 'PO20240719000001',
    transactionId: 'D1007653307144580541',
    countryCode: 'PH',
    currency: 'PHP',
    amount: 2000000,
    transactionStatus: 'COMPLETED',
    createTime: '2024-07-19T14:10:00+08:00',
    returnTime: '2024-07-19T14:14:47+08:00',
    ...overrides,
  };
}

export function signed(
  param: Record<string, unknown> | string,
  key: KeyObject = platform.privateKey,
) {
  return buildNotification(param, key);
}

export interface Harness {
  app: express.Express;
  hub: PaymentHub;
  store: ReturnType<typeof createCountingStore>;
  /** Everything the hub emitted; events, unhandled and errors are its arrays. */
  recording: HubRecording;
  events: PaymentEvent[];
  unhandled: UnhandledDelivery[];
  errors: PaymentErrorLike[];
}

/**
 * An Express app with the middleware on /webhooks/platform, recording everything the hub says.
 * `country` defaults to PH (the option is required). A `maxAgeMs` beyond the default retention gets
 * a hub that remembers longer, as the hub requires at mount.
 */
export function createHarness(
  options: Partial<SignedParamOptions> & { limit?: number } = {},
  mount?: (app: express.Express, middleware: express.RequestHandler) => void,
): Harness {
  const store = createCountingStore();
  const retentionMs = Math.max(72 * HOUR, (options.maxAgeMs ?? 0) + HOUR);
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 5_000, retentionMs });
  const recording = recordHub(hub);
  const middleware = createSignedParamMiddleware(hub, {
    platformPublicKey: platformPublicBase64,
    country: 'PH',
    ...options,
  }) as unknown as express.RequestHandler;
  const app = express();
  if (mount) mount(app, middleware);
  else app.use('/webhooks/platform', middleware);
  const { events, unhandled, errors } = recording;
  return { app, hub, store, recording, events, unhandled, errors };
}

export const OK_BODY = '{"code":10000,"message":"Success"}';

/** POSTs a body to the harness's notification URL. */
export const post = (h: Harness, body: string, contentType = 'application/json') =>
  request(h.app).post('/webhooks/platform').set('content-type', contentType).send(body);

/**
 * Bad input changes nothing (core's assertRefused): the status and error code, not the success
 * body, no event, no unhandled notice, the store never asked, one error reported. With `eventId`,
 * also that no key was written: that id can still be claimed as new.
 */
export async function expectRefused(
  h: Harness,
  body: string,
  status: number,
  code: string,
  eventId?: string,
) {
  const res = await post(h, body);
  assertRefused({ status: res.status, body: res.text }, h, { status, code, ackBody: OK_BODY });
  if (eventId !== undefined) expect((await h.store.claim(eventId, 1_000)).state).toBe('claimed');
  return res;
}
