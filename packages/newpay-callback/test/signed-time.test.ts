import express from 'express';
import request from 'supertest';
import { createPaymentHub, ProviderConfigError, type PaymentEvent } from '@payhook/core';
import { instantToIso, jsonNumber } from '@payhook/core/plugin';
import { createNewpayMiddleware, createNewpayProvider } from '../src';
import { signV1Callback, signV2Callback } from '../src/signing';
import {
  ACK_OK,
  expectRefused,
  harness,
  keys,
  providerOptions,
  v1Payment,
  v1Refund,
  v2Payment,
  v2Refund,
  type Harness,
} from './helpers';

/**
 * Item 9: NewPay signs a time in every callback it documents (v1 `timestamp`, v2 `data.paytime`),
 * so a genuine callback is only good for `maxAgeMs` after it. Without that bound, a callback
 * captured years ago verified today, and once the store had forgotten it a replay credited the
 * order again.
 */

const platform = keys.platform.privateKey;
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
/** Epoch milliseconds `ms` ago (negative: ahead), as NewPay writes them: a JSON number. */
const ago = (ms: number) => jsonNumber(String(Date.now() - ms));
const v1 = (overrides: Parameters<typeof v1Payment>[0]) =>
  signV1Callback(v1Payment(overrides), platform).body;
const v2 = (data: Parameters<typeof signV2Callback>[0], envelopeTime = ago(0)) =>
  signV2Callback(data, platform, { timestamp: envelopeTime }).body;

/** Refused as stale: 401 ERR_DELIVERY_STALE, no event, and the store never holds its key. */
async function expectStale(h: Harness, body: string, eventId: string): Promise<void> {
  await expectRefused(h, body, 401, 'ERR_DELIVERY_STALE');
  expect(h.errors.map((e) => e.code)).toEqual(['ERR_DELIVERY_STALE']);
  // A claim on the event's key succeeds: nothing recorded it as processed (or in progress).
  expect((await h.store.claim(eventId, 1_000)).state).toBe('claimed');
}

describe('a genuine callback signed long ago is refused (maxAgeMs, default 24 h)', () => {
  it('v1 payment signed four years ago: 401 ERR_DELIVERY_STALE, no event, nothing stored', async () => {
    const h = harness();
    await expectStale(h, v1({ timestamp: ago(4 * YEAR) }), 'newpay:202209210000006950:completed');
  });

  it('the v1 doc sample as published (timestamp 1663738614280, September 2022) is stale today', async () => {
    const h = harness();
    await expectStale(
      h,
      v1({ timestamp: jsonNumber('1663738614280') }),
      'newpay:202209210000006950:completed',
    );
  });

  it('v1 refund signed four years ago is stale: the refund is not credited again', async () => {
    const h = harness();
    const body = signV1Callback(
      v1Refund('1', 'tranStatus', { timestamp: ago(4 * YEAR) }),
      platform,
    ).body;
    await expectStale(h, body, 'newpay:202209210000006950:refund:202209220000000711:refunded');
  });

  it('v2 payment whose signed paytime is four years old is stale, even in a fresh envelope', async () => {
    const h = harness();
    await expectStale(
      h,
      v2(v2Payment({ paytime: ago(4 * YEAR) }), ago(0)),
      'newpay:NP20250102000000123:completed',
    );
  });

  it('25 hours old is stale; 23 hours old is accepted', async () => {
    const h = harness();
    await expectStale(h, v1({ timestamp: ago(25 * HOUR) }), 'newpay:202209210000006950:completed');
    const fresh = harness();
    expect((await fresh.post(v1({ timestamp: ago(23 * HOUR) }))).text).toBe(ACK_OK);
    expect(fresh.events).toHaveLength(1);
  });

  it('a paytime as a digit string is checked the same way', async () => {
    const h = harness();
    await expectStale(
      h,
      v2(v2Payment({ paytime: String(Date.now() - 4 * YEAR) })),
      'newpay:NP20250102000000123:completed',
    );
  });
});

describe('a signed time ahead of our clock (clockSkewMs, default 5 min)', () => {
  it('10 minutes ahead is refused with 401 ERR_DELIVERY_STALE', async () => {
    const h = harness();
    await expectStale(
      h,
      v1({ timestamp: ago(-10 * 60_000) }),
      'newpay:202209210000006950:completed',
    );
  });

  it('4 minutes ahead is accepted (NewPay clock drift)', async () => {
    const h = harness();
    expect((await h.post(v1({ timestamp: ago(-4 * 60_000) }))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });
});

describe('maxAgeMs and clockSkewMs options', () => {
  it('maxAgeMs 48 h accepts a 25-hour-old callback and still refuses a 49-hour-old one', async () => {
    const h = harness({ maxAgeMs: 48 * HOUR });
    expect((await h.post(v1({ timestamp: ago(25 * HOUR) }))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    const old = harness({ maxAgeMs: 48 * HOUR });
    await expectStale(
      old,
      v1({ timestamp: ago(49 * HOUR) }),
      'newpay:202209210000006950:completed',
    );
  });

  it('maxAgeMs 1 h refuses a 2-hour-old callback', async () => {
    const h = harness({ maxAgeMs: HOUR });
    await expectStale(h, v1({ timestamp: ago(2 * HOUR) }), 'newpay:202209210000006950:completed');
  });

  it('clockSkewMs 15 min accepts a callback 10 minutes ahead', async () => {
    const h = harness({ clockSkewMs: 15 * 60_000 });
    expect((await h.post(v1({ timestamp: ago(-10 * 60_000) }))).text).toBe(ACK_OK);
  });

  it('the provider declares its maxAgeMs (default 24 h), so the hub can check its retention', () => {
    expect(createNewpayProvider(providerOptions()).maxAgeMs).toBe(24 * HOUR);
    expect(createNewpayProvider(providerOptions({ maxAgeMs: 2 * HOUR })).maxAgeMs).toBe(2 * HOUR);
  });

  it('cannot be mounted on a hub that forgets sooner than maxAgeMs', () => {
    const hub = createPaymentHub({ retentionMs: 12 * HOUR });
    expect(() => createNewpayMiddleware(hub, providerOptions())).toThrow(/retentionMs/);
    expect(() =>
      createNewpayMiddleware(hub, providerOptions({ maxAgeMs: 6 * HOUR })),
    ).not.toThrow();
  });

  it('checks both options at construction', () => {
    for (const [option, value] of [
      ['maxAgeMs', 0],
      ['maxAgeMs', -1],
      ['maxAgeMs', 1.5],
      ['maxAgeMs', '24h'],
      ['clockSkewMs', 0],
      ['clockSkewMs', Number.NaN],
    ] as const) {
      let error: unknown;
      try {
        createNewpayProvider({ ...providerOptions(), [option]: value } as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as ProviderConfigError).option).toBe(option);
    }
  });
});

describe('after the store forgets, a replay is refused by its age, not credited again', () => {
  it('a genuine callback replayed after the hub retention gets 401 and is dispatched once', async () => {
    // Retention 1.5 s, maxAgeMs 1 s: the shape of the defaults (72 h and 24 h) in miniature.
    const hub = createPaymentHub({ retentionMs: 1_500, leaseMs: 1_000, handlerTimeoutMs: 500 });
    const events: PaymentEvent[] = [];
    hub.onAny((e) => {
      events.push(e);
    });
    const app = express();
    app.use(
      '/newpay',
      createNewpayMiddleware(hub, providerOptions({ maxAgeMs: 1_000, clockSkewMs: 200 })),
    );
    const body = v1({ timestamp: ago(0) });
    const send = () =>
      request(app).post('/newpay').set('content-type', 'application/json').send(body);
    expect((await send()).text).toBe(ACK_OK);
    expect((await send()).text).toBe(ACK_OK); // a redelivery inside the retention: acknowledged
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    const late = await send();
    expect(late.status).toBe(401);
    expect(JSON.parse(late.text).error.code).toBe('ERR_DELIVERY_STALE');
    expect(events).toHaveLength(1);
  });
});

describe('only signed fields feed the event: the v2 envelope timestamp is never used', () => {
  const vientiane = (iso: string) => instantToIso(Date.parse(iso), 'Asia/Vientiane');

  it('a v2 payment without paytime gets occurredAt = receivedAt in timeZone, not the envelope time', async () => {
    const h = harness();
    const reply = await h.post(
      v2(v2Payment({ payStatus: 'FAIL', paytime: undefined }), jsonNumber('1735873200000')),
    );
    expect(reply.text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
    const event = h.events[0]!;
    expect(event.occurredAt).not.toBe('2025-01-03T10:00:00+07:00');
    expect(event.occurredAt).toBe(vientiane(event.receivedAt));
    expect(event.occurredAt).toMatch(/\+07:00$/);
  });

  it('a v2 refund (no signed time) gets occurredAt = receivedAt, whatever the envelope says', async () => {
    const h = harness();
    await h.post(v2(v2Refund(), jsonNumber('1735873200000')));
    expect(h.events).toHaveLength(1);
    expect(h.events[0]!.occurredAt).toBe(vientiane(h.events[0]!.receivedAt));
  });

  it('rewriting the envelope timestamp changes nothing in the event', async () => {
    const paytime = Date.now() - 60_000;
    const data = v2Payment({ paytime: jsonNumber(String(paytime)) });
    const a = harness();
    const b = harness();
    await a.post(v2(data, jsonNumber('1')));
    await b.post(v2(data, jsonNumber('99999999999999')));
    const strip = (e: PaymentEvent) => ({ ...e, receivedAt: undefined, raw: undefined });
    expect(strip(b.events[0]!)).toEqual(strip(a.events[0]!));
    expect(a.events[0]!.occurredAt).toBe(instantToIso(paytime, 'Asia/Vientiane'));
  });

  it('an old envelope timestamp does not make a callback without a signed time stale', async () => {
    // The envelope is not signed: it is evidence of nothing, neither freshness nor age.
    const h = harness();
    expect((await h.post(v2(v2Refund(), ago(4 * YEAR)))).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it('a v2 payment whose paytime is null is not age-checked (the store retention bounds its replay)', async () => {
    const h = harness();
    expect((await h.post(v2(v2Payment({ payStatus: 'EXPIRED', paytime: null })))).text).toBe(
      ACK_OK,
    );
    expect(h.events).toHaveLength(1);
  });
});
