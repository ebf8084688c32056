/**
 * Attacks on NewPay callbacks that keep a genuine signature (issue 13, items 9 to 12), through the
 * real middleware on a listening server:
 * - replaying a callback NewPay signed long ago, or after the store forgot it (item 9: NewPay signs
 *   `timestamp` in v1 and `data.paytime` in v2, so the age of a callback is authenticated);
 * - re-splitting string1 (`k=v&k=v`, nothing escaped) so that a value absorbs the pairs after it
 *   and the same signature names another refund or order (item 10);
 * - a lone surrogate standing in for U+FFFD under the same signed bytes (item 11);
 * - a signature by a key that is not one of the configured platform keys (item 12).
 * NewPay "8. Signature and verification":
 * https://newpay-api-document.gitbook.io/newpay-api-document/8.-signature-and-verification
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import {
  createCountingStore,
  recordHub,
  reportCounts,
  type HubRecording,
} from '@payhook/core/testing';
import { createPaymentHub, type PaymentHubOptions } from '@payhook/core';
import { jsonNumber } from '@payhook/core/plugin';
import { createNewpayMiddleware, type NewpayMiddlewareOptions } from '@payhook/newpay-callback';
import {
  buildSignString,
  serializeBody,
  signV1Callback,
  signV2Callback,
  withSign,
  type SignParams,
} from '@payhook/newpay-callback/signing';
import { agent, keys, listen, NEWPAY_APP_ID, pem, post, sleep, type Wire } from './support';

const ACK = '{"transResult":"SUCCESS"}';
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const at = (msAgo: number) => jsonNumber(String(Date.now() - msAgo));

interface NewpayGateway {
  url: string;
  rec: HubRecording;
  store: ReturnType<typeof createCountingStore>;
  close(): Promise<void>;
}

const open: NewpayGateway[] = [];
async function gateway(
  options: Partial<NewpayMiddlewareOptions> = {},
  hubOptions: PaymentHubOptions = {},
): Promise<NewpayGateway> {
  const store = createCountingStore();
  const hub = createPaymentHub({ handlerTimeoutMs: 2_000, leaseMs: 5_000, ...hubOptions, store });
  const rec = recordHub(hub);
  const server = await listen(
    createNewpayMiddleware(hub, {
      platformPublicKey: pem(keys.newpay.publicKey),
      appId: NEWPAY_APP_ID,
      ...options,
    }),
  );
  const gw = { url: server.url, rec, store, close: () => server.close() };
  open.push(gw);
  return gw;
}
afterAll(async () => {
  for (const gw of open) await gw.close();
  agent.destroy();
});

const json = (body: string): Wire => ({
  body,
  headers: { 'content-type': 'application/json' },
});

function v1Payment(n: number, timestamp = at(1_000)): SignParams {
  return {
    orderNo: `ORD${n}`,
    subject: 'hostile',
    transInfo: 'Transaction Success',
    orderAmt: '123.00',
    newpayOrderNo: `2022092100000${String(n).padStart(5, '0')}`,
    settlementStatus: jsonNumber('1'),
    payMethod: jsonNumber('1'),
    extra: '',
    appId: jsonNumber(String(NEWPAY_APP_ID)),
    currency: 'LAK',
    transStatus: jsonNumber('0'),
    timestamp,
  };
}

function v1Refund(n: number, timestamp = at(1_000)): SignParams {
  return {
    appId: jsonNumber(String(NEWPAY_APP_ID)),
    payMethod: jsonNumber('1'),
    refundOrderAmt: '23.00',
    currency: 'LAK',
    newpayOrderNo: `2022092100000${String(n).padStart(5, '0')}`,
    newpayRefundOrderNo: `2022092200000${String(n).padStart(5, '0')}`,
    orderNo: `ORD${n}`,
    refundOrderNo: `R${n}`,
    tranStatus: jsonNumber('1'),
    transInfo: 'Refund Success',
    timestamp,
  };
}

function v2Payment(n: number, paytime = at(1_000)): SignParams {
  return {
    appId: String(NEWPAY_APP_ID),
    payStatus: 'SUCCESS',
    payMethod: jsonNumber('11'),
    orderType: 'ONLINE',
    orderAmt: { value: '15000.00', currency: 'LAK' },
    mchOrderNo: `M${n}`,
    newpayOrderNo: `NP2025${String(n).padStart(12, '0')}`,
    subject: 'Coffee',
    settlementStatus: jsonNumber('0'),
    paytime,
    attach: '',
  };
}

const v2Refund = (n: number): SignParams => ({
  appId: String(NEWPAY_APP_ID),
  refundStatus: 'SUCCESS',
  newpayRefundNo: `NPR${n}`,
  mchRefundNo: `MR${n}`,
  newpayOrderNo: `NP2025${String(n).padStart(12, '0')}`,
  mchOrderNo: `M${n}`,
  refundAmt: { value: '5000.00', currency: 'LAK' },
  orderAmt: { value: '15000.00', currency: 'LAK' },
});

const sign = (params: SignParams, key = keys.newpay.privateKey) => withSign(params, key);
const v2Wire = (data: SignParams): Wire =>
  json(serializeBody({ success: true, message: 'success', code: '200', timestamp: at(0), data }));

const errorCode = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

describe('item 9: a genuine callback signed long ago', () => {
  it('four years old (v1 timestamp, v2 paytime, v1 refund) is 401 ERR_DELIVERY_STALE and leaves no trace', async () => {
    const gw = await gateway();
    const wires = [
      json(signV1Callback(v1Payment(1, at(4 * YEAR)), keys.newpay.privateKey).body),
      json(signV1Callback(v1Refund(2, at(4 * YEAR)), keys.newpay.privateKey).body),
      json(
        signV2Callback(v2Payment(3, at(4 * YEAR)), keys.newpay.privateKey, { timestamp: at(0) })
          .body,
      ),
    ];
    for (const wire of wires) {
      const reply = await post(gw.url, wire);
      expect([reply.status, errorCode(reply.body)]).toEqual([401, 'ERR_DELIVERY_STALE']);
    }
    expect(gw.rec.events).toHaveLength(0);
    expect(gw.rec.unhandled).toHaveLength(0);
    expect(gw.store.calls.claim).toBe(0);
  });

  it('a replay after the hub retention is refused by its age instead of crediting the order again', async () => {
    // maxAgeMs 1.2 s under a 2 s retention: the defaults (24 h under 72 h) in miniature.
    const gw = await gateway(
      { maxAgeMs: 1_200, clockSkewMs: 300 },
      { retentionMs: 2_000, leaseMs: 1_000, handlerTimeoutMs: 500 },
    );
    const wire = json(signV1Callback(v1Payment(4, at(0)), keys.newpay.privateKey).body);
    const first = await post(gw.url, wire);
    expect([first.status, first.body]).toEqual([200, ACK]);
    const inRetention = await post(gw.url, wire);
    expect([inRetention.status, inRetention.body]).toEqual([200, ACK]);
    await sleep(2_300);
    const late = await post(gw.url, wire);
    expect([late.status, errorCode(late.body)]).toEqual([401, 'ERR_DELIVERY_STALE']);
    expect(gw.rec.events).toHaveLength(1);
    reportCounts('newpay replay after retention', {
      first: 200,
      inRetention: 200,
      late: late.status,
    });
  });

  it(`random signed times: outside [now - maxAgeMs, now + clockSkewMs] refused, inside accepted`, async () => {
    const gw = await gateway();
    const counts = { stale: 0, accepted: 0 };
    let n = 100;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 24 * HOUR + 60_000, max: 10 * YEAR }),
          fc.integer({ min: -10 * YEAR, max: -(5 * 60_000 + 60_000) }),
          fc.integer({ min: -(5 * 60_000 - 60_000), max: 24 * HOUR - 60_000 }),
        ),
        fc.boolean(),
        async (msAgo, v2) => {
          n++;
          const wire = v2
            ? json(
                signV2Callback(v2Payment(n, at(msAgo)), keys.newpay.privateKey, {
                  timestamp: at(0),
                }).body,
              )
            : json(signV1Callback(v1Payment(n, at(msAgo)), keys.newpay.privateKey).body);
          const before = gw.rec.events.length;
          const reply = await post(gw.url, wire);
          const fresh = msAgo <= 24 * HOUR - 60_000 && msAgo >= -(5 * 60_000 - 60_000);
          if (fresh) {
            counts.accepted++;
            expect([reply.status, reply.body]).toEqual([200, ACK]);
            expect(gw.rec.events).toHaveLength(before + 1);
          } else {
            counts.stale++;
            expect([reply.status, errorCode(reply.body)]).toEqual([401, 'ERR_DELIVERY_STALE']);
            expect(gw.rec.events).toHaveLength(before);
          }
        },
      ),
      { numRuns: 200, seed: 913 },
    );
    reportCounts('newpay signed times', counts);
    expect(counts.stale).toBeGreaterThan(0);
    expect(counts.accepted).toBeGreaterThan(0);
  });
});

/** `key` absorbing the `count` pairs after it in string1 (they leave the set): same string1. */
function resplit(params: SignParams, key: string, count: number): SignParams {
  const text = (k: string) => buildSignString({ [k]: params[k]! }).slice(k.length + 1);
  const order = Object.keys(params)
    .filter((k) => k !== 'sign' && buildSignString({ [k]: params[k]! }) !== '')
    .sort();
  const i = order.indexOf(key);
  const absorbed = order.slice(i + 1, i + 1 + count);
  const out: Record<string, SignParams[string]> = { ...params };
  out[key] = [text(key), ...absorbed.map((k) => `${k}=${text(k)}`)].join('&');
  for (const k of absorbed) delete out[k];
  return out;
}

describe('item 10: string1 re-split under the genuine signature', () => {
  it('a captured refund re-split over &orderNo=… and &orderNo=…&payMethod=… is still one refund', async () => {
    const gw = await gateway();
    const genuine = sign(v1Refund(5));
    const forged = [
      resplit(genuine, 'newpayRefundOrderNo', 1),
      resplit(genuine, 'newpayRefundOrderNo', 2),
    ];
    for (const f of forged) expect(buildSignString(f)).toBe(buildSignString(genuine));
    expect((await post(gw.url, json(serializeBody(genuine)))).body).toBe(ACK);
    for (const f of forged) {
      const reply = await post(gw.url, json(serializeBody(f)));
      expect(reply.status).toBe(401);
    }
    expect(gw.rec.events.map((e) => `${e.type} ${e.refund?.refundId}`)).toEqual([
      'payment.refunded 202209220000000005',
    ]);
  });

  it('random re-splits of genuine v1 and v2 callbacks are refused and emit nothing', async () => {
    const gw = await gateway();
    const kinds = [
      (n: number) => ({
        params: sign(v1Payment(n)),
        wire: (p: SignParams) => json(serializeBody(p)),
      }),
      (n: number) => ({
        params: sign(v1Refund(n)),
        wire: (p: SignParams) => json(serializeBody(p)),
      }),
      (n: number) => ({ params: sign(v2Payment(n)), wire: v2Wire }),
      (n: number) => ({ params: sign(v2Refund(n)), wire: v2Wire }),
    ];
    // One genuine callback per kind, signed once; the property re-splits them.
    const genuine = kinds.map((make, i) => make(1_000 + i));
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.nat(genuine.length - 1),
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        async (k, keyPick, count) => {
          const { params, wire } = genuine[k]!;
          const order = Object.keys(params)
            .filter((key) => key !== 'sign' && buildSignString({ [key]: params[key]! }) !== '')
            .sort();
          const key = order[keyPick % (order.length - 1)]!;
          const forged = resplit(params, key, count);
          expect(buildSignString(forged)).toBe(buildSignString(params));
          const claims = gw.store.calls.claim;
          const reply = await post(gw.url, wire(forged));
          statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
          expect([400, 401]).toContain(reply.status);
          expect(gw.rec.events).toHaveLength(0);
          expect(gw.rec.unhandled).toHaveLength(0);
          expect(gw.store.calls.claim).toBe(claims);
        },
      ),
      { numRuns: 300, seed: 1013 },
    );
    reportCounts('newpay re-splits', statuses);
  });
});

describe('item 11: U+FFFD and a lone surrogate under one signature', () => {
  it('the \\ud800 re-send of a signed U+FFFD order number is refused: one event id', async () => {
    const gw = await gateway();
    const params = { ...v1Payment(6), newpayOrderNo: 'NP\uFFFD6' };
    const body = signV1Callback(params, keys.newpay.privateKey).body;
    expect((await post(gw.url, json(body))).body).toBe(ACK);
    const reply = await post(gw.url, json(body.replace('NP\uFFFD6', 'NP\\ud8006')));
    expect([reply.status, errorCode(reply.body)]).toEqual([400, 'ERR_PAYLOAD_MALFORMED']);
    expect(gw.rec.events.map((e) => e.id)).toEqual(['newpay:NP\uFFFD6:completed']);
  });
});

describe('item 12: key rotation', () => {
  it('with [old, new] configured, only those two keys verify, and the event names the one used', async () => {
    const newKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const gw = await gateway({
      platformPublicKey: [pem(keys.newpay.publicKey), pem(newKey.publicKey)],
    });
    const byOld = json(signV1Callback(v1Payment(7), keys.newpay.privateKey).body);
    const byNew = json(signV1Callback(v1Payment(8), newKey.privateKey).body);
    const byStranger = json(signV1Callback(v1Payment(9), stranger.privateKey).body);
    expect((await post(gw.url, byOld)).body).toBe(ACK);
    expect((await post(gw.url, byNew)).body).toBe(ACK);
    const refused = await post(gw.url, byStranger);
    expect([refused.status, errorCode(refused.body)]).toEqual([401, 'ERR_SIGNATURE_INVALID']);
    expect(gw.rec.events.map((e) => e.keyIndex)).toEqual([0, 1]);
  });
});
