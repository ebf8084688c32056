import { JsonNumber, jsonNumber } from '@payhook/core/plugin';
import {
  buildSignString,
  serializeBody,
  signV1Callback,
  signV2Callback,
  withSign,
  type SignParams,
} from '../src/signing';
import {
  ACK_OK,
  harness,
  keys,
  v1Payment,
  v1Refund,
  v2Payment,
  v2Refund,
  type Harness,
} from './helpers';

/**
 * Item 10: NewPay's string1 joins `k=v` pairs with `&` and escapes nothing, so one signed string
 * has many parameter sets: a value can absorb the pairs that follow it (`newpayRefundOrderNo` =
 * `711&orderNo=…&payMethod=…`) and the signature still verifies. A captured genuine refund gave
 * three refund ids, so three `payment.refunded` events. Every re-split is refused.
 *
 * Item 11 (NewPay level): U+FFFD and a lone surrogate encode to the same UTF-8 bytes, so the same
 * signature covers both texts; the lone surrogate is refused before it can name a second event.
 */

const platform = keys.platform.privateKey;
const now = () => jsonNumber(String(Date.now() - 1_000));

/** The text a value contributes after `k=` (keep reading, nested keys sorted: the default sign). */
const textOf = (value: SignParams[string]): string => buildSignString({ k: value }).slice(2);

type Envelope = (data: SignParams) => string;
const v1Body: Envelope = (params) => serializeBody(params);
const v2Body: Envelope = (data) =>
  serializeBody({ success: true, message: 'success', code: '200', timestamp: now(), data });

interface Kind {
  name: string;
  params: SignParams;
  body: Envelope;
  eventId: string;
}

const KINDS: Kind[] = [
  {
    name: 'v1 payment',
    params: v1Payment({ timestamp: now() }),
    body: v1Body,
    eventId: 'newpay:202209210000006950:completed',
  },
  {
    name: 'v1 refund (tranStatus)',
    params: v1Refund('1', 'tranStatus', { timestamp: now() }),
    body: v1Body,
    eventId: 'newpay:202209210000006950:refund:202209220000000711:refunded',
  },
  {
    name: 'v1 refund (transStatus)',
    params: v1Refund('1', 'transStatus', { timestamp: now() }),
    body: v1Body,
    eventId: 'newpay:202209210000006950:refund:202209220000000711:refunded',
  },
  {
    name: 'v2 payment',
    params: v2Payment({ paytime: now() }),
    body: v2Body,
    eventId: 'newpay:NP20250102000000123:completed',
  },
  {
    name: 'v2 refund',
    params: v2Refund(),
    body: v2Body,
    eventId: 'newpay:NP20250102000000123:refund:NPR20250103000000009:refunded',
  },
];

/**
 * The genuine parameters with `key` absorbing the `count` pairs that follow it in string1 (which
 * then leave the set): the same string1, so the genuine sign still verifies.
 */
function resplit(params: SignParams, key: string, count = 1): SignParams {
  const order = Object.keys(params)
    .filter((k) => k !== 'sign' && buildSignString({ [k]: params[k]! }) !== '')
    .sort();
  const at = order.indexOf(key);
  const absorbed = order.slice(at + 1, at + 1 + count);
  const out: Record<string, SignParams[string]> = { ...params };
  out[key] = [textOf(params[key]!), ...absorbed.map((k) => `${k}=${textOf(params[k]!)}`)].join('&');
  for (const k of absorbed) delete out[k];
  return out;
}

/** Each signed key with at least one pair after it in string1, and that next key. */
const adjacent = (params: SignParams): Array<[string, string]> => {
  const order = Object.keys(params)
    .filter((k) => buildSignString({ [k]: params[k]! }) !== '')
    .sort();
  return order.slice(0, -1).map((k, i) => [k, order[i + 1]!]);
};

async function expectNothing(h: Harness, body: string): Promise<void> {
  const reply = await h.post(body);
  expect([400, 401]).toContain(reply.status);
  expect(reply.text).not.toBe(ACK_OK);
  expect(h.events).toHaveLength(0);
  expect(h.unhandled).toHaveLength(0);
  expect(h.store.calls.claim).toBe(0);
}

describe('the captured-refund attack: one refund, one event', () => {
  it('re-splitting newpayRefundOrderNo over &orderNo=… and &orderNo=…&payMethod=… emits no second or third refund', async () => {
    const h = harness();
    const genuine = withSign(v1Refund('1', 'tranStatus', { timestamp: now() }), platform);
    const one = resplit(genuine, 'newpayRefundOrderNo', 1);
    const two = resplit(genuine, 'newpayRefundOrderNo', 2);
    expect(one.newpayRefundOrderNo).toBe('202209220000000711&orderNo=202209067002502223');
    expect(two.newpayRefundOrderNo).toBe(
      '202209220000000711&orderNo=202209067002502223&payMethod=1',
    );
    // The premise: the signed string, so the signature, is unchanged.
    expect(buildSignString(one)).toBe(buildSignString(genuine));
    expect(buildSignString(two)).toBe(buildSignString(genuine));
    expect((await h.post(serializeBody(genuine))).text).toBe(ACK_OK);
    for (const forged of [one, two]) {
      const reply = await h.post(serializeBody(forged));
      expect(reply.status).toBe(401);
      expect(JSON.parse(reply.text).error.code).toBe('ERR_SIGNATURE_INVALID');
    }
    expect(h.events.map((e) => e.type)).toEqual(['payment.refunded']);
    expect(h.events.map((e) => e.refund!.refundId)).toEqual(['202209220000000711']);
  });
});

describe.each(KINDS)('$name: every signed field absorbing the next pair is refused', (kind) => {
  const genuine = withSign(kind.params, platform);

  it('the genuine delivery itself is accepted', async () => {
    const h = harness();
    expect((await h.post(kind.body(genuine))).text).toBe(ACK_OK);
    expect(h.events.map((e) => e.id)).toEqual([kind.eventId]);
  });

  it.each(adjacent(kind.params))('%s absorbing "&%s=…"', async (key) => {
    for (const count of [1, 2]) {
      const forged = resplit(genuine, key, count);
      expect(buildSignString(forged)).toBe(buildSignString(genuine));
      await expectNothing(harness(), kind.body(forged));
    }
  });
});

/** Every field that is an id, an amount, a status or otherwise decides the event, per callback. */
const DECIDING: Array<[string, string[]]> = [
  [
    'v1 payment',
    [
      'appId',
      'newpayOrderNo',
      'orderNo',
      'orderAmt',
      'currency',
      'payMethod',
      'transStatus',
      'timestamp',
    ],
  ],
  [
    'v1 refund (tranStatus)',
    [
      'appId',
      'newpayOrderNo',
      'newpayRefundOrderNo',
      'orderNo',
      'refundOrderNo',
      'refundOrderAmt',
      'currency',
      'payMethod',
      'tranStatus',
      'timestamp',
    ],
  ],
  ['v1 refund (transStatus)', ['transStatus']],
  [
    'v2 payment',
    ['appId', 'newpayOrderNo', 'mchOrderNo', 'payStatus', 'payMethod', 'orderAmt', 'paytime'],
  ],
  [
    'v2 refund',
    [
      'appId',
      'newpayOrderNo',
      'mchOrderNo',
      'newpayRefundNo',
      'mchRefundNo',
      'refundStatus',
      'refundAmt',
      'orderAmt',
    ],
  ],
];

describe.each(DECIDING)('%s: a deciding field holding a separator is refused', (name, fields) => {
  const kind = KINDS.find((k) => k.name === name)!;
  it.each(fields.flatMap((field) => ['&', '='].map((sep) => [field, sep] as const)))(
    '%s holding "%s", signed by NewPay',
    async (field, sep) => {
      const value = kind.params[field]!;
      const changed =
        typeof value === 'object' && value !== null && !(value instanceof JsonNumber)
          ? { ...(value as Record<string, SignParams[string]>), value: `1${sep}00` }
          : `${textOf(value)}${sep}1`;
      const signed = withSign({ ...kind.params, [field]: changed }, platform);
      await expectNothing(harness(), kind.body(signed));
    },
  );
});

describe('free text may hold & or = alone, never a second reading', () => {
  it.each([
    ['subject', 'Fish & Chips'],
    ['subject', 'size=L'],
    ['transInfo', 'Paid = yes & thanks'],
    ['extra', 'a&b&c'],
  ])('a genuine v1 payment whose %s is %j is accepted', async (field, text) => {
    const h = harness();
    const body = signV1Callback(v1Payment({ timestamp: now(), [field]: text }), platform).body;
    expect((await h.post(body)).text).toBe(ACK_OK);
    expect(h.events).toHaveLength(1);
  });

  it.each([
    ['subject', 'a&timestamp=1'],
    ['extra', 'note&newpayOrderNo=X'],
    ['transInfo', 'x & y=z'],
  ])(
    'a v1 payment whose %s holds "&…=" (%j) is refused: its string1 has two readings',
    async (field, text) => {
      const h = harness();
      const body = signV1Callback(v1Payment({ timestamp: now(), [field]: text }), platform).body;
      await expectNothing(h, body);
    },
  );

  it('a v2 attach holding "&k=" is refused, and so is a nested string holding it', async () => {
    const data = v2Payment({ paytime: now(), attach: 'x&mchOrderNo=EVIL' });
    await expectNothing(harness(), signV2Callback(data, platform, { timestamp: now() }).body);
    const nested = v2Payment({
      paytime: now(),
      orderAmt: { value: '15000.00', currency: 'LAK&mchOrderNo=EVIL' },
    });
    await expectNothing(harness(), signV2Callback(nested, platform, { timestamp: now() }).body);
  });

  it('a key holding a separator is refused', async () => {
    const body = signV1Callback(v1Payment({ timestamp: now(), 'x&y': '1' }), platform).body;
    await expectNothing(harness(), body);
    const eq = signV1Callback(v1Payment({ timestamp: now(), 'x=y': '1' }), platform).body;
    await expectNothing(harness(), eq);
  });
});

describe('item 11: a lone surrogate cannot stand in for U+FFFD under the same signature', () => {
  it('a signed callback with U+FFFD, re-sent with a \\ud800 escape, is refused: no second event id', async () => {
    const h = harness();
    const params = v1Payment({ timestamp: now(), newpayOrderNo: 'NP\uFFFD7' });
    const genuine = signV1Callback(params, platform).body;
    expect(genuine).toContain('NP\uFFFD7');
    const resent = genuine.replace('NP\uFFFD7', 'NP\\ud8007');
    // The premise: both texts give the same string1 bytes, so the genuine sign covers both.
    const lone = { ...params, newpayOrderNo: 'NP\ud8007' };
    expect(Buffer.from(buildSignString(lone), 'utf8')).toEqual(
      Buffer.from(buildSignString(params), 'utf8'),
    );
    expect((await h.post(genuine)).text).toBe(ACK_OK);
    const claims = h.store.calls.claim;
    const reply = await h.post(resent);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.code).toBe('ERR_PAYLOAD_MALFORMED');
    expect(h.events.map((e) => e.id)).toEqual(['newpay:NP\uFFFD7:completed']);
    expect(h.store.calls.claim).toBe(claims);
  });
});
