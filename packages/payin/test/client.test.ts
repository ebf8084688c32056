import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createPaymentHub,
  GatewayApiError,
  StatusMismatchError,
  type PaymentEvent,
} from '@payhook/core';
import { createPayinClient, createPayinProvider, type PayinClient } from '../src';
import { API_KEY, MERCHANT_ID, OTHER_KEY } from './fixtures';

/**
 * A local server that plays Cashy: it checks every request's MerchantId and Sign with its own MD5
 * (not the package's code) and answers with the envelopes of Cashy's payin page and error table
 * (https://docs.cashypro.com/en_us/<country>/payin.html, .../pak/appendix.html).
 */
interface Received {
  path: string;
  body: string;
  json: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

interface FakeCashy {
  baseUrl: string;
  received: Received[];
  /** Next answers to give instead of the normal one (raw status and body). */
  override: Array<{ status: number; body: string }>;
  close(): Promise<void>;
}

// Orders the fake gateway knows, written as Cashy writes them (numbers unquoted, as in the "Query
// Payin Order" example of Cashy's payin page).
const ORDERS: Record<string, string> = {
  PAYIN8231497473279467520:
    '{"merchantId":"100001","mchOrderNo":"M1656752128806","orderNo":"PAYIN8231497473279467520","payType":"1","payCode":"646012000000015887","payUrl":null,"payDeskUrl":null,"amount":100.10,"patchOrderNo":"PAYIN8231497473279467520","patchMchOrderNo":"M1656752128806","orderType":"API","fee":2.0050,"orderStatus":"SUCCESS","completionTime":"2022-07-02 16:55:28"}',
  PAYIN8231497473279467521:
    '{"merchantId":"100001","mchOrderNo":"M1656752128807","orderNo":"PAYIN8231497473279467521","payType":"1","amount":100.0,"orderType":"API","fee":null,"orderStatus":"PAYING","completionTime":null}',
  PAYIN8231497473279467522:
    '{"merchantId":"100001","mchOrderNo":"M165675212880600001","orderNo":"PAYIN8231497473279467522","amount":5.00,"patchOrderNo":"PAYIN8231497473279467520","patchMchOrderNo":"M1656752128806","orderType":"PATCH","fee":0,"orderStatus":"SUCCESS","completionTime":"2022-07-03 09:00:00"}',
};

async function startFakeCashy(): Promise<FakeCashy> {
  const received: Received[] = [];
  const override: FakeCashy['override'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const reply = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      const fail = (msg: string): void =>
        reply(200, JSON.stringify({ code: 500, msg, data: null }));
      const body = raw.toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // recorded as {}; the checks below answer
      }
      received.push({ path: req.url ?? '', body, json, headers: req.headers });
      const next = override.shift();
      if (next) return reply(next.status, next.body);
      if (req.method !== 'POST') return fail('RequestMethod_not_post');
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return fail('RequestContentType_not_json');
      if (!req.headers.merchantid) return fail('MerchantId_is_null');
      if (req.headers.merchantid !== MERCHANT_ID) return fail('MerchantId_is_error');
      const expected = createHash('md5')
        .update(Buffer.concat([raw, Buffer.from(API_KEY, 'utf8')]))
        .digest('hex');
      if (String(req.headers.sign).toLowerCase() !== expected) return fail('Sign_verify_error');
      if (typeof json.nonceStr !== 'string' || json.nonceStr.length === 0)
        return fail('Params_nonceStr_Required');
      if (req.url === '/stage-api/api/payIn') {
        return reply(
          200,
          `{"msg":"SUCCESS","code":200,"data":{"merchantId":"100001","mchOrderNo":${JSON.stringify(json.mchOrderNo)},"orderNo":"PAYIN8232154612109344768","payCode":"646012000000015942","payUrl":null,"payDeskUrl":"https://xxx.com/pay/PAYIN8232154612109344768","amount":${/"amount":([0-9.]+)/.exec(body)?.[1]}}}`,
        );
      }
      if (req.url === '/stage-api/api/payInQuery') {
        const order =
          ORDERS[String(json.orderNo)] ??
          Object.values(ORDERS).find((o) =>
            o.includes(`"mchOrderNo":"${String(json.mchOrderNo)}"`),
          );
        if (!order) return fail('Payin_Order_Error');
        return reply(200, `{"msg":"SUCCESS","code":200,"data":${order}}`);
      }
      return reply(404, 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/stage-api/`,
    received,
    override,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

const createRequest = {
  currency: 'IDR',
  payType: 21,
  amount: '100.10',
  mchOrderNo: 'mch12345',
  notifyUrl: 'https://acb.com/webhooks',
  remark: 'remark',
  realName: 'Jack',
  phone: '+62xxxxxxx',
  email: 'xyz@gamil.com',
};

let cashy: FakeCashy;
let client: PayinClient;
beforeEach(async () => {
  cashy = await startFakeCashy();
  client = createPayinClient({ baseUrl: cashy.baseUrl, merchantId: MERCHANT_ID, apiKey: API_KEY });
});
afterEach(() => cashy.close());

async function gatewayError(promise: Promise<unknown>): Promise<GatewayApiError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a GatewayApiError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayApiError);
  return error as GatewayApiError;
}

describe('createPayinClient: createPayin', () => {
  it('sends a signed request the gateway accepts and returns the order with exact amounts', async () => {
    const created = await client.createPayin(createRequest);
    expect(created).toMatchObject({
      mchOrderNo: 'mch12345',
      orderNo: 'PAYIN8232154612109344768',
      amount: '100.10',
      payDeskUrl: 'https://xxx.com/pay/PAYIN8232154612109344768',
    });
    expect(cashy.received).toHaveLength(1);
    const sent = cashy.received[0]!;
    expect(sent.path).toBe('/stage-api/api/payIn');
    // the amount travels as a JSON number written exactly, not as 100.1
    expect(sent.body).toContain('"amount":100.10,');
    expect(sent.json).toMatchObject({
      currency: 'IDR',
      payType: 21,
      reusableStatus: false,
      expireTime: 3600,
      notifyUrl: 'https://acb.com/webhooks',
    });
    expect(sent.headers.merchantid).toBe(MERCHANT_ID);
    expect(sent.headers.sign).toMatch(/^[0-9A-F]{32}$/);
  });

  it('sends a fresh 32-character nonceStr with every request', async () => {
    await client.createPayin(createRequest);
    await client.createPayin(createRequest);
    const nonces = cashy.received.map((r) => r.json.nonceStr as string);
    expect(nonces[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(nonces[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it('a request signed with the wrong apiKey is refused by the gateway: Sign_verify_error, not retryable', async () => {
    const wrong = createPayinClient({
      baseUrl: cashy.baseUrl,
      merchantId: MERCHANT_ID,
      apiKey: OTHER_KEY,
    });
    const error = await gatewayError(wrong.createPayin(createRequest));
    expect(error).toMatchObject({
      code: 'ERR_GATEWAY_API',
      gatewayCode: '500',
      gatewayMessage: 'Sign_verify_error',
      retryable: false,
    });
    expect(error.message).toMatch(/^@payhook\/payin: \/api\/payIn failed: Sign_verify_error/);
    expect(error.message).not.toContain(OTHER_KEY);
    expect(error.message).not.toContain(String(cashy.received[0]!.headers.sign));
  });

  it('System_busy is a retryable GatewayApiError carrying the gateway msg', async () => {
    cashy.override.push({ status: 200, body: '{"code":500,"msg":"System_busy","data":null}' });
    const error = await gatewayError(client.createPayin(createRequest));
    expect(error).toMatchObject({ gatewayMessage: 'System_busy', retryable: true });
  });

  it('an HTTP 502 without a Cashy answer is retryable', async () => {
    cashy.override.push({ status: 502, body: '<html>Bad Gateway</html>' });
    const error = await gatewayError(client.createPayin(createRequest));
    expect(error).toMatchObject({ httpStatus: 502, retryable: true, gatewayMessage: undefined });
  });

  it('an HTTP 429 without a Cashy answer is retryable, a 403 is not', async () => {
    cashy.override.push({ status: 429, body: 'Too Many Requests' });
    const limited = await gatewayError(client.createPayin(createRequest));
    expect(limited).toMatchObject({ httpStatus: 429, retryable: true, gatewayMessage: undefined });
    cashy.override.push({ status: 403, body: '<html>Forbidden</html>' });
    const forbidden = await gatewayError(client.createPayin(createRequest));
    expect(forbidden).toMatchObject({ httpStatus: 403, retryable: false });
  });

  it('an unreachable gateway is a retryable GatewayApiError', async () => {
    const url = cashy.baseUrl;
    await cashy.close();
    const offline = createPayinClient({ baseUrl: url, merchantId: MERCHANT_ID, apiKey: API_KEY });
    const error = await gatewayError(offline.createPayin(createRequest));
    expect(error.retryable).toBe(true);
    cashy = await startFakeCashy(); // for afterEach
  });

  it('refuses an amount that is not a decimal before sending anything', async () => {
    await expect(client.createPayin({ ...createRequest, amount: '1,00' })).rejects.toThrow(
      /amount must be a decimal/,
    );
    expect(cashy.received).toHaveLength(0);
  });
});

describe('createPayinClient: queryPayin', () => {
  it('queries by orderNo first when both numbers are given', async () => {
    const order = await client.queryPayin({
      orderNo: 'PAYIN8231497473279467520',
      mchOrderNo: 'M1656752128807',
    });
    expect(order).toMatchObject({
      orderNo: 'PAYIN8231497473279467520',
      orderStatus: 'SUCCESS',
      amount: '100.10',
      fee: '2.0050',
    });
    const sent = cashy.received[0]!;
    expect(sent.path).toBe('/stage-api/api/payInQuery');
    expect(sent.json).toEqual({
      orderNo: 'PAYIN8231497473279467520',
      nonceStr: expect.any(String),
    });
  });

  it('queries by mchOrderNo when there is no orderNo', async () => {
    const order = await client.queryPayin({ mchOrderNo: 'M1656752128807' });
    expect(order.orderNo).toBe('PAYIN8231497473279467521');
    expect(cashy.received[0]!.json).toEqual({
      mchOrderNo: 'M1656752128807',
      nonceStr: expect.any(String),
    });
  });

  it('an unknown order surfaces the gateway msg', async () => {
    const error = await gatewayError(client.queryPayin({ orderNo: 'PAYIN0' }));
    expect(error.gatewayMessage).toBe('Payin_Order_Error');
  });
});

describe('createPayinProvider: fetchStatus uses queryPayin', () => {
  const provider = () =>
    createPayinProvider({
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      statusQuery: { baseUrl: cashy.baseUrl },
      currency: 'IDR',
    });

  it('a SUCCESS order becomes a payment.completed draft established by status query', async () => {
    const result = await provider().fetchStatus!('PAYIN8231497473279467520');
    expect(result).toEqual([
      expect.objectContaining({
        id: 'PAYIN8231497473279467520:completed',
        type: 'payment.completed',
        orderId: 'M1656752128806',
        transactionId: 'PAYIN8231497473279467520',
        amount: '100.10',
        currency: 'IDR',
        occurredAt: '2022-07-02T16:55:28+07:00',
        verification: 'status-query',
        details: expect.objectContaining({ fee: '2.0050', isPatch: false }),
      }),
    ]);
    expect(cashy.received[0]!.json.orderNo).toBe('PAYIN8231497473279467520');
  });

  it('a PATCH order maps to its original order', async () => {
    const result = await provider().fetchStatus!('PAYIN8231497473279467522');
    expect(result).toEqual([
      expect.objectContaining({
        orderId: 'M1656752128806',
        amount: '5.00',
        details: expect.objectContaining({
          isPatch: true,
          serial: '00001',
          patchOrderNo: 'PAYIN8231497473279467520',
        }),
      }),
    ]);
  });

  it('a PAYING order is pending', async () => {
    const result = await provider().fetchStatus!('PAYIN8231497473279467521');
    expect(result).toEqual({ kind: 'pending', reason: 'orderStatus PAYING' });
  });

  it('is absent when no baseUrl is configured', () => {
    expect(
      createPayinProvider({ merchantId: MERCHANT_ID, apiKey: API_KEY }).fetchStatus,
    ).toBeUndefined();
  });

  it('hub.reconcile credits a PATCH order older than the maximum age only when told to', async () => {
    // Its webhook would be refused as stale (completionTime 2022), and so is the status answer:
    // the reference may come from a customer. Crediting a genuine order whose webhooks all came
    // too late is the merchant's own decision: allowOlderThanMaxAge.
    const hub = createPaymentHub();
    const events: PaymentEvent[] = [];
    hub.onAny((e) => {
      events.push(e);
    });
    const refused = await hub.reconcile(provider(), 'PAYIN8231497473279467522');
    expect(refused.error?.code).toBe('ERR_DELIVERY_STALE');
    expect(events).toHaveLength(0);
    const result = await hub.reconcile(provider(), 'PAYIN8231497473279467522', {
      allowOlderThanMaxAge: true,
    });
    expect(result.outcome).toBe('processed');
    expect(events.map((e) => [e.id, e.orderId, e.verification])).toEqual([
      ['cashy:PAYIN8231497473279467522:completed', 'M1656752128806', 'status-query'],
    ]);
  });

  it('by orderId sends mchOrderNo (no orderNo) and returns the order as its event', async () => {
    const result = await provider().fetchStatus!('M1656752128806', { by: 'orderId' });
    expect(cashy.received[0]!.json).toEqual({
      mchOrderNo: 'M1656752128806',
      nonceStr: expect.any(String),
    });
    expect(result).toEqual([
      expect.objectContaining({
        id: 'PAYIN8231497473279467520:completed',
        type: 'payment.completed',
        orderId: 'M1656752128806',
        transactionId: 'PAYIN8231497473279467520',
        verification: 'status-query',
      }),
    ]);
  });

  it('by reference, explicitly, sends orderNo (no mchOrderNo) as without a lookup', async () => {
    const result = await provider().fetchStatus!('PAYIN8231497473279467521', { by: 'reference' });
    expect(cashy.received[0]!.json).toEqual({
      orderNo: 'PAYIN8231497473279467521',
      nonceStr: expect.any(String),
    });
    expect(result).toEqual({ kind: 'pending', reason: 'orderStatus PAYING' });
  });

  it('an answer about another order is a StatusMismatchError, by orderId or by reference', async () => {
    const other = `{"msg":"SUCCESS","code":200,"data":${ORDERS.PAYIN8231497473279467520}}`;
    cashy.override.push({ status: 200, body: other }, { status: 200, body: other });
    await expect(
      provider().fetchStatus!('M1656752128807', { by: 'orderId' }),
    ).rejects.toBeInstanceOf(StatusMismatchError);
    await expect(provider().fetchStatus!('PAYIN8231497473279467521')).rejects.toBeInstanceOf(
      StatusMismatchError,
    );
  });

  it('a lookup it does not know is a TypeError before any request', async () => {
    await expect(
      provider().fetchStatus!('M1656752128806', { by: 'phone' } as never),
    ).rejects.toThrow(TypeError);
    expect(cashy.received).toHaveLength(0);
  });

  it("declares both lookups and a sweep schedule fitted to Cashy's retries", () => {
    const p = provider();
    expect(p.statusLookups).toEqual(['reference', 'orderId']);
    expect(p.sweep).toEqual({
      firstCheckMs: 120_000,
      maxIntervalMs: 1_800_000,
      queriesPerMinute: 60,
    });
    expect(createPayinProvider({ merchantId: MERCHANT_ID, apiKey: API_KEY }).statusLookups).toEqual(
      [],
    );
  });

  it('with several apiKeys (a rotation), API requests are signed with the first', async () => {
    const rotating = createPayinProvider({
      merchantId: MERCHANT_ID,
      apiKey: [API_KEY, OTHER_KEY],
      statusQuery: { baseUrl: cashy.baseUrl },
    });
    const result = await rotating.fetchStatus!('PAYIN8231497473279467520');
    expect(result).toEqual([expect.objectContaining({ type: 'payment.completed' })]);
    const expected = createHash('md5')
      .update(cashy.received[0]!.body + API_KEY)
      .digest('hex');
    expect(String(cashy.received[0]!.headers.sign).toLowerCase()).toBe(expected);
  });
});
