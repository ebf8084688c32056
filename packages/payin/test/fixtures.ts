import express, { type RequestHandler } from 'express';
import request from 'supertest';
import {
  createPaymentHub,
  type PaymentEvent,
  type PaymentErrorLike,
  type UnhandledDelivery,
} from '@payhook/core';
import { instantToIso, jsonNumber, type JsonValue } from '@payhook/core/plugin';
import {
  assertRefused,
  createCountingStore,
  recordHub,
  type HubRecording,
} from '@payhook/core/testing';
import { createPayinMiddleware, type PayinProviderOptions } from '../src';
import {
  buildCashyMessage,
  signCashyBody,
  type CashySignOptions,
  type SignedCashyMessage,
} from '../src/signing';

export const MERCHANT_ID = '100001';
export const API_KEY = 'cashy-test-api-key-do-not-use';
export const OTHER_KEY = 'an-apikey-that-is-not-ours';

export const baseOptions: PayinProviderOptions = { merchantId: MERCHANT_ID, apiKey: API_KEY };

/**
 * The webhook body exactly as printed in Cashy's payin page ("Webhook RequestBody",
 * https://docs.cashypro.com/en_us/<country>/payin.html): a PATCH order whose
 * mchOrderNo is a UUID, `amount` a JSON number with a trailing zero, pretty-printed.
 */
export const DOC_SAMPLE_BODY = `{
  "orderStatus": "SUCCESS",
  "amount": 10000.0,
  "fee": 0,
  "mchOrderNo": "2a6421c4-3758-4d1a-b47e-f7d0e7133f9e",
  "merchantId": "100001",
  "payDeskUrl": null,
  "orderNo": "PAYDESKxxxxxxxxxxx",
  "payUrl": "xxxxxxxxxxxx",
  "patchOrderNo": "PAYIN82xxxxxxxxx",
  "orderType": "PATCH",
  "completionTime": "2022-08-08 08:08:08",
  "nonceStr": "xxxxxxxxxx"
}`;

const HOUR = 3_600_000;

/** `yyyy-MM-dd HH:mm:ss` in `timeZone`, `agoMs` before now: Cashy's completionTime format. */
export function wallTime(agoMs: number, timeZone = 'Asia/Jakarta'): string {
  return instantToIso(Math.floor((Date.now() - agoMs) / 1000) * 1000, timeZone)
    .slice(0, 19)
    .replace('T', ' ');
}

/**
 * The completionTime of the default webhook: an hour ago on the default Jakarta clock, well within
 * the default 24 h maximum age, so that tests about something else never trip the age check.
 */
export const COMPLETION_TIME = wallTime(HOUR);
/** COMPLETION_TIME as the event's occurredAt in the default zone. */
export const COMPLETED_AT = `${COMPLETION_TIME.replace(' ', 'T')}+07:00`;

/**
 * For tests about the doc sample's bytes, not about age: its completionTime (2022) is older than
 * any default, so they take a maximum age that reaches back to it (createHarness gives the hub a
 * retention to match, as the hub requires at mount).
 */
export const DOC_SAMPLE_MAX_AGE = { maxAgeMs: 30 * 365 * 24 * HOUR };

export function signed(body: string, options: Partial<CashySignOptions> = {}): SignedCashyMessage {
  return signCashyBody(body, { merchantId: MERCHANT_ID, apiKey: API_KEY, ...options });
}

/**
 * A payin webhook with the field order of that page; values from its create/query examples
 * (merchant 100001, orderNo PAYIN8232154612109344768). `undefined` drops a field.
 */
export function payinWebhook(
  fields: Record<string, JsonValue> = {},
  options: Partial<CashySignOptions> = {},
): SignedCashyMessage {
  return buildCashyMessage(
    {
      orderStatus: 'SUCCESS',
      amount: jsonNumber('100.10'),
      fee: jsonNumber('1.5000'),
      mchOrderNo: 'M1656908719283',
      merchantId: '100001',
      payDeskUrl: null,
      orderNo: 'PAYIN8232154612109344768',
      payUrl: null,
      patchOrderNo: 'PAYIN8232154612109344768',
      patchMchOrderNo: 'M1656908719283',
      orderType: 'API',
      completionTime: COMPLETION_TIME,
      nonceStr: '162838128',
      ...fields,
    },
    { merchantId: MERCHANT_ID, apiKey: API_KEY, ...options },
  );
}

export interface Harness {
  app: express.Express;
  /** Everything the hub emitted; events, errors, unhandled and duplicates are its arrays. */
  recording: HubRecording;
  events: PaymentEvent[];
  errors: PaymentErrorLike[];
  unhandled: UnhandledDelivery[];
  duplicates: PaymentEvent[];
  store: ReturnType<typeof createCountingStore>;
  hub: ReturnType<typeof createPaymentHub>;
}

/**
 * An Express 5 app with the Cashy middleware on /webhooks/cashy, after any `before` middleware. A
 * `maxAgeMs` beyond the default retention gets a hub that remembers longer, as the hub requires.
 */
export function createHarness(
  options: Partial<PayinProviderOptions> = {},
  before: RequestHandler[] = [],
): Harness {
  const store = createCountingStore();
  const retentionMs = Math.max(72 * HOUR, (options.maxAgeMs ?? 0) + HOUR);
  const hub = createPaymentHub({ store, handlerTimeoutMs: 2_000, leaseMs: 5_000, retentionMs });
  const recording = recordHub(hub);
  const h: Harness = {
    app: express(),
    recording,
    events: recording.events,
    errors: recording.errors,
    unhandled: recording.unhandled,
    duplicates: recording.duplicates,
    store,
    hub,
  };
  for (const mw of before) h.app.use(mw);
  h.app.use('/webhooks/cashy', createPayinMiddleware(hub, { ...baseOptions, ...options }));
  return h;
}

export const PATH = '/webhooks/cashy';

/** POSTs a signed message to the harness's webhook URL, with its headers. */
export const post = (h: Harness, message: SignedCashyMessage) =>
  request(h.app).post(PATH).set(message.headers).send(message.body);

/**
 * Bad input changes nothing (core's assertRefused): the status and error code, not `SUCCESS`, no
 * event, no unhandled notice, the store never asked, one error reported with that code. With
 * `eventId`, also that no key was written: that id can still be claimed as new.
 */
export async function expectRefused(
  h: Harness,
  message: SignedCashyMessage,
  status: number,
  code: string,
  eventId?: string,
) {
  const res = await post(h, message);
  assertRefused({ status: res.status, body: res.text }, h, { status, code, ackBody: 'SUCCESS' });
  if (eventId !== undefined) expect((await h.store.claim(eventId, 1_000)).state).toBe('claimed');
  return res;
}
