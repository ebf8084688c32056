import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { GatewayApiError, StatusMismatchError } from '@payhook/core';
import { jsonNumber, verifyRsaSha256 } from '@payhook/core/plugin';
import { createNewpayProvider } from '../src';
import { buildSignString, signV2Callback, type SignParams } from '../src/signing';
import {
  keys,
  providerOptions,
  V2_ENVELOPE_TIME,
  V2_PAYTIME,
  v2Payment,
  vientiane,
} from './helpers';

/**
 * A local server playing NewPay's uniQueryPay (NewPay GitBook 5.2 "Query Order"): it checks the
 * request's sign with the merchant public key registered with it, and answers with the v2 envelope
 * whose `data` it signs with the platform key (or with `answerKey`, to test a forged answer).
 */
interface FakeNewpay {
  url: string;
  requests: Array<Record<string, unknown>>;
  orders: Map<string, SignParams>;
  /** When set, answered to every query whatever it asks: a gateway answering about another order. */
  misanswer?: SignParams;
  answerKey: KeyObject;
  status: number;
  close(): Promise<void>;
}

async function startFakeNewpay(registeredMerchantKey: KeyObject): Promise<FakeNewpay> {
  const fake: Omit<FakeNewpay, 'url' | 'close'> = {
    requests: [] as Array<Record<string, unknown>>,
    orders: new Map<string, SignParams>(),
    answerKey: keys.platform.privateKey,
    status: 200,
  };
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const reply = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (fake.status !== 200) return reply(fake.status, '{"error":"unavailable"}');
      if (req.method !== 'POST' || req.url !== '/beta/pay/uniQueryPay')
        return reply(404, '{"success":false,"message":"not found"}');
      const request = JSON.parse(text) as Record<string, string>;
      fake.requests.push(request);
      if (!verifyRsaSha256(buildSignString(request), request.sign ?? '', registeredMerchantKey)) {
        return reply(
          200,
          '{"success":false,"code":"SIGN_ERROR","message":"sign verify error","timestamp":1735873200000,"data":null}',
        );
      }
      // Either order number, as uniQueryPay takes (GitBook 5.2): the merchant's is searched for.
      const order =
        fake.misanswer ??
        (request.newpayOrderNo
          ? fake.orders.get(request.newpayOrderNo)
          : [...fake.orders.values()].find((o) => o.mchOrderNo === request.mchOrderNo));
      if (!order) {
        return reply(
          200,
          '{"success":true,"code":"200","message":"success","timestamp":1735873200000,"data":null}',
        );
      }
      reply(200, signV2Callback(order, fake.answerKey, { timestamp: V2_ENVELOPE_TIME }).body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}/beta/pay`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  });
}

describe('fetchStatus (v2 uniQueryPay)', () => {
  let fake: FakeNewpay;
  beforeEach(async () => {
    fake = await startFakeNewpay(keys.merchant.publicKey);
    fake.orders.set('NP20250102000000123', v2Payment());
    fake.orders.set(
      'NP-PENDING',
      v2Payment({ newpayOrderNo: 'NP-PENDING', payStatus: 'PROCESSING' }),
    );
  });
  afterEach(() => fake.close());

  const provider = (merchantPrivateKey: KeyObject = keys.merchant.privateKey) =>
    createNewpayProvider(
      providerOptions({ statusQuery: { mchId: 'MCH001', merchantPrivateKey, baseUrl: fake.url } }),
    );

  it('sends a request signed with the merchant key and returns the verified status', async () => {
    const result = await provider().fetchStatus!('NP20250102000000123');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      appId: '6',
      mchId: 'MCH001',
      newpayOrderNo: 'NP20250102000000123',
    });
    expect(Array.isArray(result)).toBe(true);
    const [draft] = result as unknown as Array<Record<string, unknown>>;
    expect(draft).toMatchObject({
      id: 'NP20250102000000123:completed',
      type: 'payment.completed',
      amount: '15000.00',
      currency: 'LAK',
      orderId: 'M20250102001',
      occurredAt: vientiane(V2_PAYTIME),
      verification: 'status-query',
    });
    expect(draft!.raw).toMatchObject({ success: true, data: { payStatus: 'SUCCESS' } });
  });

  it('an answer about an old payment is believed: a status we asked for has no maximum age', async () => {
    fake.orders.set(
      'NP-OLD',
      v2Payment({ newpayOrderNo: 'NP-OLD', paytime: jsonNumber('1663738614280') }),
    );
    const [draft] = (await provider().fetchStatus!('NP-OLD')) as unknown as Array<
      Record<string, unknown>
    >;
    expect(draft).toMatchObject({
      type: 'payment.completed',
      occurredAt: '2022-09-21T12:36:54.280+07:00',
    });
  });

  it('an answer without paytime gets occurredAt = when it arrived, never the unsigned envelope time', async () => {
    fake.orders.set('NP-NOTIME', v2Payment({ newpayOrderNo: 'NP-NOTIME', paytime: null }));
    const before = Date.now();
    const [draft] = (await provider().fetchStatus!('NP-NOTIME')) as unknown as Array<{
      occurredAt: string;
    }>;
    const at = Date.parse(draft!.occurredAt);
    expect(draft!.occurredAt).toMatch(/\+07:00$/);
    expect(at).toBeGreaterThanOrEqual(before - 1_000);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('an answer signed with the new key of a rotation [old, new] verifies', async () => {
    const rotated = createNewpayProvider(
      providerOptions({
        platformPublicKey: [keys.stranger.publicKey, keys.platform.publicKey],
        statusQuery: {
          mchId: 'MCH001',
          merchantPrivateKey: keys.merchant.privateKey,
          baseUrl: fake.url,
        },
      }),
    );
    const result = await rotated.fetchStatus!('NP20250102000000123');
    expect(result).toEqual([expect.objectContaining({ type: 'payment.completed' })]);
  });

  it('PROCESSING comes back as pending', async () => {
    const result = await provider().fetchStatus!('NP-PENDING');
    expect(result).toMatchObject({ kind: 'pending' });
  });

  it('an unknown order is null', async () => {
    expect(await provider().fetchStatus!('NP-NOPE')).toBeNull();
  });

  it('an answer not signed by the platform key is refused (fails closed)', async () => {
    fake.answerKey = keys.stranger.privateKey;
    const error = await provider().fetchStatus!('NP20250102000000123').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayApiError);
    expect((error as Error).message).toMatch(/does not verify/);
  });

  it('an answer about another order is a StatusMismatchError', async () => {
    fake.orders.set('NP-ASKED', v2Payment({ newpayOrderNo: 'NP-OTHER' }));
    await expect(provider().fetchStatus!('NP-ASKED')).rejects.toBeInstanceOf(StatusMismatchError);
  });

  it('an answer for another appId is refused', async () => {
    fake.orders.set('NP-APP7', v2Payment({ newpayOrderNo: 'NP-APP7', appId: jsonNumber('7') }));
    await expect(provider().fetchStatus!('NP-APP7')).rejects.toBeInstanceOf(GatewayApiError);
  });

  it('NewPay refusing the request sign is a GatewayApiError with its code', async () => {
    const error = (await provider(keys.stranger.privateKey).fetchStatus!(
      'NP20250102000000123',
    ).catch((e: unknown) => e)) as GatewayApiError;
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error.gatewayCode).toBe('SIGN_ERROR');
    expect(error.retryable).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });

  it('HTTP 503 is a retryable GatewayApiError', async () => {
    fake.status = 503;
    const error = (await provider().fetchStatus!('NP20250102000000123').catch(
      (e: unknown) => e,
    )) as GatewayApiError;
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error.httpStatus).toBe(503);
    expect(error.retryable).toBe(true);
  });

  it('is absent when no query options are given, and so are its lookups', () => {
    const bare = createNewpayProvider(providerOptions());
    expect(bare.fetchStatus).toBeUndefined();
    expect(bare.statusLookups).toEqual([]);
  });
});

describe('fetchStatus by the merchant order number (mchOrderNo)', () => {
  let fake: FakeNewpay;
  beforeEach(async () => {
    fake = await startFakeNewpay(keys.merchant.publicKey);
    fake.orders.set('NP20250102000000123', v2Payment());
  });
  afterEach(() => fake.close());

  const provider = () =>
    createNewpayProvider(
      providerOptions({
        statusQuery: {
          mchId: 'MCH001',
          merchantPrivateKey: keys.merchant.privateKey,
          baseUrl: fake.url,
        },
      }),
    );

  it("sends mchOrderNo (no newpayOrderNo) and returns the payment with NewPay's number", async () => {
    const result = await provider().fetchStatus!('M20250102001', { by: 'orderId' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      appId: '6',
      mchId: 'MCH001',
      mchOrderNo: 'M20250102001',
    });
    expect(fake.requests[0]).not.toHaveProperty('newpayOrderNo');
    expect(result).toEqual([
      expect.objectContaining({
        id: 'NP20250102000000123:completed',
        type: 'payment.completed',
        orderId: 'M20250102001',
        transactionId: 'NP20250102000000123',
        verification: 'status-query',
      }),
    ]);
  });

  it('by reference, explicitly, sends newpayOrderNo as before', async () => {
    const result = await provider().fetchStatus!('NP20250102000000123', { by: 'reference' });
    expect(fake.requests[0]).toMatchObject({ newpayOrderNo: 'NP20250102000000123' });
    expect(fake.requests[0]).not.toHaveProperty('mchOrderNo');
    expect(result).toEqual([expect.objectContaining({ orderId: 'M20250102001' })]);
  });

  it('an unknown order number is null', async () => {
    expect(await provider().fetchStatus!('M-NOPE', { by: 'orderId' })).toBeNull();
  });

  it('an answer about another mchOrderNo is a StatusMismatchError', async () => {
    // Genuinely signed by the platform key, about the merchant's order M20250102001.
    fake.misanswer = v2Payment();
    const error = await provider().fetchStatus!('M-ASKED', { by: 'orderId' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StatusMismatchError);
  });

  it('an unknown lookup is a TypeError before any request', async () => {
    await expect(provider().fetchStatus!('M20250102001', { by: 'phone' } as never)).rejects.toThrow(
      TypeError,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("declares both lookups, and a sweep schedule for NewPay's three retries", () => {
    const p = provider();
    expect(p.statusLookups).toEqual(['reference', 'orderId']);
    expect(p.sweep).toEqual({ firstCheckMs: 60_000, maxIntervalMs: 600_000, queriesPerMinute: 60 });
  });
});
