import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from 'node:crypto';
import { GatewayApiError, StatusMismatchError } from '@payhook/core';
import { createSignedParamProvider } from '../src';
import { merchant, platformPublicPem, stranger } from './helpers';

/**
 * A local stand-in for the platform's `POST /open-api/payment/query`
 * (docs.paycools.com/en/v2/Payment/CollectionStatus.html). It checks the merchant's signature over
 * the exact param text with the merchant public key, as the platform does, and answers what the
 * test tells it to.
 */
interface Received {
  url: string | undefined;
  body: { appId: string; param: string; sign: string };
  param: Record<string, unknown>;
  signatureValid: boolean;
}

type Answer = { status?: number; body: string | Record<string, unknown> };

let server: Server;
let baseUrl: string;
let received: Received[] = [];
let answer: (r: Received) => Answer;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = await readBody(req);
    const body = JSON.parse(text);
    const signatureValid = verify(
      'sha256',
      Buffer.from(body.param, 'utf8'),
      merchant.publicKey,
      Buffer.from(body.sign, 'base64'),
    );
    const r: Received = { url: req.url, body, param: JSON.parse(body.param), signatureValid };
    received.push(r);
    const a: Answer = signatureValid ? answer(r) : { body: { code: 21001, message: 'sign error' } }; // PlatformApiErrorCode 21001
    res.statusCode = a.status ?? 200;
    res.setHeader('content-type', 'application/json');
    res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(
  () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
);

beforeEach(() => {
  received = [];
});

const provider = (
  overrides: Record<string, unknown> = {},
  statusQuery: Record<string, unknown> = {},
) =>
  createSignedParamProvider({
    platformPublicKey: platformPublicPem,
    country: 'PH',
    statusQuery: {
      baseUrl: `${baseUrl}/`,
      appId: '733b887a4a784708bb369524db5b6ded',
      merchantPrivateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ...statusQuery,
    },
    ...overrides,
  });

/** The `data` of the doc's response example, with the transaction asked about. */
const data = (transactionId: string, fields: Record<string, unknown> = {}) => ({
  mchOrderId: '10e051066810618100',
  transactionId,
  countryCode: 'PH',
  channelCode: 'PH_QRPH_DYNAMIC',
  amount: 10000,
  currency: 'PHP',
  payData: '000201010211',
  transactionStatus: 'COMPLETED',
  createTime: '2023-02-23 14:19:33',
  returnTime: '2023-02-23 14:21:05',
  remark: 'remark',
  ...fields,
});

const ok = (d: unknown) => ({ body: { code: 10000, message: 'Success', data: d } });

describe('fetchStatus against a local platform', () => {
  it('sends {appId, param, sign} signed with the merchant key and maps COMPLETED', async () => {
    answer = (r) => ok(data(String(r.param.transactionId)));
    const result = await provider().fetchStatus!('CU510579106014826496');
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r!.url).toBe('/open-api/payment/query');
    expect(r!.signatureValid).toBe(true);
    expect(r!.body.appId).toBe('733b887a4a784708bb369524db5b6ded');
    expect(r!.param).toMatchObject({ transactionId: 'CU510579106014826496', countryCode: 'PH' });
    expect(typeof r!.param.timestamp).toBe('number');
    expect(Math.abs(Number(r!.param.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(result).toEqual([
      expect.objectContaining({
        // The same key as the order.payment.success notification: seen both ways, processed once.
        id: 'order.payment.success:CU510579106014826496',
        type: 'payment.completed',
        orderId: '10e051066810618100',
        transactionId: 'CU510579106014826496',
        amount: '100.00',
        currency: 'PHP',
        occurredAt: '2023-02-23T14:21:05+08:00',
        verification: 'status-query',
      }),
    ]);
  });

  it('maps FAILED to payment.failed and PENDING to pending', async () => {
    answer = (r) =>
      ok(
        data(String(r.param.transactionId), {
          transactionStatus: r.param.transactionId === 'T-FAILED' ? 'FAILED' : 'PENDING',
        }),
      );
    const failed = await provider().fetchStatus!('T-FAILED');
    expect(failed).toEqual([
      expect.objectContaining({ type: 'payment.failed', id: 'order.payment.failed:T-FAILED' }),
    ]);
    expect(await provider().fetchStatus!('T-PENDING')).toEqual(
      expect.objectContaining({ kind: 'pending' }),
    );
  });

  it('accepts data sent as JSON text, keeping large amounts exact', async () => {
    answer = (r) => ({
      body: `{"code":10000,"message":"Success","data":${JSON.stringify(
        JSON.stringify(data(String(r.param.transactionId))).replace(
          '"amount":10000',
          '"amount":90071992547409931',
        ),
      )}}`,
    });
    const result = (await provider().fetchStatus!('T1')) as unknown as Array<{ amount: string }>;
    expect(result[0]!.amount).toBe('900719925474099.31');
  });

  it('returns null when the platform has no data for the reference', async () => {
    answer = () => ok(null);
    expect(await provider().fetchStatus!('T-NONE')).toBeNull();
  });

  it('reports a refused signature (wrong merchant key) as a GatewayApiError with the platform code', async () => {
    answer = () => {
      throw new Error('unreachable: the signature check answers first');
    };
    const p = provider(
      {},
      {
        merchantPrivateKey: stranger.privateKey
          .export({ type: 'pkcs8', format: 'der' })
          .toString('base64'),
      },
    );
    const error = await p.fetchStatus!('T1').catch((e: unknown) => e);
    expect(received[0]!.signatureValid).toBe(false);
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error).toMatchObject({ gatewayCode: '21001', retryable: false });
    expect((error as Error).message).toMatch(/^@payhook\/signed-param: /);
  });

  it('treats HTTP 5xx and "too many requests" as retryable', async () => {
    answer = () => ({ status: 502, body: 'bad gateway' });
    await expect(provider().fetchStatus!('T1')).rejects.toMatchObject({
      code: 'ERR_GATEWAY_API',
      httpStatus: 502,
      retryable: true,
    });
    answer = () => ({ body: { code: 21020, message: 'too many requests' } });
    await expect(provider().fetchStatus!('T1')).rejects.toMatchObject({
      gatewayCode: '21020',
      retryable: true,
    });
  });

  it('refuses an answer about another transaction', async () => {
    answer = () => ok(data('SOMEONE-ELSE'));
    await expect(provider().fetchStatus!('T1')).rejects.toBeInstanceOf(StatusMismatchError);
  });

  it('refuses an answer that is not JSON or not a payment', async () => {
    answer = () => ({ body: '<html>maintenance</html>' });
    await expect(provider().fetchStatus!('T1')).rejects.toBeInstanceOf(GatewayApiError);
    answer = (r) => ok({ transactionId: r.param.transactionId, amount: '1.5' });
    await expect(provider().fetchStatus!('T1')).rejects.toThrow(/not a payment/);
  });

  it('a proxy page is retryable (an outage); a well-formed answer it cannot read is not', async () => {
    answer = () => ({ body: '<html>maintenance</html>' });
    await expect(provider().fetchStatus!('T1')).rejects.toMatchObject({ retryable: true });
    answer = (r) => ok({ transactionId: r.param.transactionId, amount: '1.5' });
    await expect(provider().fetchStatus!('T1')).rejects.toMatchObject({ retryable: false });
    answer = () => ({ body: '[1,2]' });
    await expect(provider().fetchStatus!('T1')).rejects.toMatchObject({
      message: expect.stringMatching(/not a JSON object/),
      retryable: false,
    });
  });

  it('times out with a retryable GatewayApiError', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const p = provider(
        {},
        {
          baseUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
          timeoutMs: 100,
        },
      );
      await expect(p.fetchStatus!('T1')).rejects.toMatchObject({
        code: 'ERR_GATEWAY_API',
        retryable: true,
      });
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it('is absent when no query options are given, and so are its lookups', () => {
    const bare = createSignedParamProvider({ platformPublicKey: platformPublicPem, country: 'PH' });
    expect(bare.fetchStatus).toBeUndefined();
    expect(bare.statusLookups).toEqual([]);
  });
});

describe('fetchStatus by the merchant order number (mchOrderId)', () => {
  /** Answers as the platform does for either number: the order found by the one it was sent. */
  const byEitherNumber = (r: Received) =>
    ok(
      r.param.mchOrderId !== undefined
        ? data('CU510579106014826496', { mchOrderId: r.param.mchOrderId })
        : data(String(r.param.transactionId)),
    );

  it('sends mchOrderId (no transactionId) and returns the payment with its transactionId', async () => {
    answer = byEitherNumber;
    const result = await provider().fetchStatus!('10e051066810618100', { by: 'orderId' });
    const [r] = received;
    expect(r!.signatureValid).toBe(true);
    expect(r!.param).toEqual({
      mchOrderId: '10e051066810618100',
      countryCode: 'PH',
      timestamp: expect.any(Number),
    });
    expect(result).toEqual([
      expect.objectContaining({
        id: 'order.payment.success:CU510579106014826496',
        type: 'payment.completed',
        orderId: '10e051066810618100',
        transactionId: 'CU510579106014826496',
        verification: 'status-query',
      }),
    ]);
  });

  it('by reference, explicitly, sends transactionId (no mchOrderId) as without a lookup', async () => {
    answer = byEitherNumber;
    const result = await provider().fetchStatus!('CU1', { by: 'reference' });
    expect(received[0]!.param).toEqual({
      transactionId: 'CU1',
      countryCode: 'PH',
      timestamp: expect.any(Number),
    });
    expect(result).toEqual([expect.objectContaining({ transactionId: 'CU1' })]);
  });

  it('refuses an answer about another mchOrderId', async () => {
    answer = () => ok(data('CU510579106014826496', { mchOrderId: 'SOMEONE-ELSES' }));
    await expect(
      provider().fetchStatus!('10e051066810618100', { by: 'orderId' }),
    ).rejects.toBeInstanceOf(StatusMismatchError);
  });

  it('returns null when the platform has no order with that number', async () => {
    answer = () => ok(null);
    expect(await provider().fetchStatus!('10e-none', { by: 'orderId' })).toBeNull();
  });

  it('with orderIdPrefix, an order number outside the prefix is a TypeError naming the rule, before any request', async () => {
    answer = byEitherNumber;
    const p = provider({ orderIdPrefix: 'shop-a-' });
    const error = await p.fetchStatus!('shop-b-42', { by: 'orderId' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/orderIdPrefix/);
    expect(received).toHaveLength(0);
    // Its own orders are asked about; a reference is not an order number, so no prefix applies.
    await p.fetchStatus!('shop-a-42', { by: 'orderId' });
    await p.fetchStatus!('CU1');
    expect(received.map((r) => r.param.mchOrderId ?? r.param.transactionId)).toEqual([
      'shop-a-42',
      'CU1',
    ]);
  });

  it('a lookup it does not know is a TypeError before any request', async () => {
    await expect(provider().fetchStatus!('T1', { by: 'phone' } as never)).rejects.toThrow(
      TypeError,
    );
    expect(received).toHaveLength(0);
  });

  it('declares both lookups, and a sweep schedule for an undocumented retry schedule', () => {
    const p = provider();
    expect(p.statusLookups).toEqual(['reference', 'orderId']);
    expect(p.sweep).toEqual({ firstCheckMs: 60_000, maxIntervalMs: 600_000, queriesPerMinute: 60 });
  });
});
