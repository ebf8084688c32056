/**
 * Shared pieces of the hostile-input and fault suite: one listening server per gateway driven
 * through its real middleware, a keep-alive HTTP client (thousands of requests per file), genuine
 * deliveries built with each package's own signing module, and a capturing logger.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMemoryStore,
  createPaymentHub,
  createWebhookMiddleware,
  type IdempotencyStore,
  type Logger,
  type PaymentHub,
  type PaymentHubOptions,
  type WebhookMiddleware,
} from '@payhook/core';
import { instantToIso, jsonNumber } from '@payhook/core/plugin';
import { createSignedParamMiddleware } from '@payhook/signed-param';
import { buildNotification } from '@payhook/signed-param/signing';
import { createNewpayMiddleware } from '@payhook/newpay-callback';
import { signV1Callback, signV2Callback } from '@payhook/newpay-callback/signing';
import { createPayinMiddleware } from '@payhook/payin';
import { buildCashyMessage } from '@payhook/payin/signing';
import { createLailaolabMiddleware } from '@payhook/lailaolab-socket';
import {
  buildLailaolabMessage,
  startLailaolabSimulator,
  type LailaolabSimulator,
} from '@payhook/testing';
import {
  createCountingStore,
  createTestProvider,
  postKeepAlive,
  recordHub,
  signedDelivery,
  TEST_SECRET,
  type HubRecording,
} from '@payhook/core/testing';

import { CASHY_API_KEY, CASHY_MERCHANT } from './support-crash/constants';

export { TEST_SECRET };

export interface Wire {
  body: string | Buffer;
  headers: Record<string, string>;
}

export interface Reply {
  status: number;
  body: string;
}

// Plain node:http with keep-alive: a thousand POSTs per property cost a fraction of supertest/fetch.
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function post(url: string, wire: Wire): Promise<Reply> {
  return postKeepAlive(url, wire, agent);
}

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function listen(middleware: WebhookMiddleware): Promise<Listening> {
  const server: Server = createServer((req, res) => middleware(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Test keys, generated per run: the platform pairs of the two RSA gateways. */
const rsa = (): { publicKey: KeyObject; privateKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: 2048 });
export const keys = { signedParam: rsa(), newpay: rsa() };
export const pem = (key: KeyObject): string =>
  key.export({ type: key.type === 'public' ? 'spki' : 'pkcs8', format: 'pem' }).toString();

export { CASHY_MERCHANT, CASHY_API_KEY };
export const LAILAOLAB_SECRET = '$2b$10$Hostile.Suite/Key9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxa';
export const NEWPAY_APP_ID = 6;

export type GatewayName = 'core' | 'signed-param' | 'newpay' | 'cashy' | 'lailaolab';
export const HTTP_GATEWAYS: GatewayName[] = [
  'core',
  'signed-param',
  'newpay',
  'cashy',
  'lailaolab',
];

export interface Gateway {
  name: GatewayName;
  url: string;
  hub: PaymentHub;
  store: ReturnType<typeof createCountingStore>;
  rec: HubRecording;
  ok: Reply;
  retry: Reply;
  /** A genuine delivery of payment `n` (distinct transaction per n). */
  genuine(n: number): Wire;
  close(): Promise<void>;
}

export interface GatewayOptions {
  hubOptions?: PaymentHubOptions;
  store?: IdempotencyStore;
  logger?: Logger;
  /** Lailaolab only: the simulator whose status API confirms webhooks. */
  simulator?: LailaolabSimulator;
  /**
   * signed-param, NewPay and Cashy: the provider's maximum age of a signed time; Lailaolab: of the
   * status record's paid time (default 24 h).
   */
  maxAgeMs?: number;
  /** With maxAgeMs: how far ahead a signed time may be (default 5 min). */
  clockSkewMs?: number;
}

/**
 * `yyyy-MM-dd HH:mm:ss` on `timeZone`'s clock at `at`: the format signed-param and Cashy sign their
 * times in. Their providers refuse a signed time older than maxAgeMs (24 h by default), so genuine
 * deliveries carry the time they are built at.
 */
export function gatewayWallTime(at: Date, timeZone: string): string {
  return instantToIso(Math.floor(at.getTime() / 1000) * 1000, timeZone)
    .slice(0, 19)
    .replace('T', ' ');
}

/**
 * A signed-param payment param (the shape of the dynamic-order "3.2.3 Payment Notification"
 * example, docs.paycools.com/en/v2), transaction `n`.
 */
export function signedParamPayment(n: number, at = new Date()): Record<string, unknown> {
  return {
    eventName: 'order.payment.success',
    amount: 50010 + n,
    channelCode: 'PH_QRPH_DYNAMIC',
    mchOrderId: `M${n}`,
    // PH_ channel: the platform's times are read on a Manila clock.
    createTime: gatewayWallTime(new Date(at.getTime() - 120_000), 'Asia/Manila'),
    remark: 'test payment',
    returnTime: gatewayWallTime(at, 'Asia/Manila'),
    transactionId: `C${String(n).padStart(12, '0')}`,
    transactionStatus: 'COMPLETED',
  };
}

/**
 * A NewPay v1 payment callback (the doc sample of
 * https://pre-lnp-openapi.newpay.la/5-result-callback.html), order `n`.
 */
export function newpayPayment(n: number): Record<string, ReturnType<typeof jsonNumber> | string> {
  return {
    orderNo: `20220906${String(n).padStart(10, '0')}`,
    subject: '1',
    transInfo: 'Transaction Success',
    orderAmt: '123.00',
    newpayOrderNo: `20220921${String(n).padStart(10, '0')}`,
    settlementStatus: jsonNumber('1'),
    payMethod: jsonNumber('1'),
    extra: '',
    appId: jsonNumber(String(NEWPAY_APP_ID)),
    currency: 'LAK',
    transStatus: jsonNumber('0'),
    // NewPay signs this time and refuses one older than maxAgeMs: built when the delivery is.
    timestamp: jsonNumber(String(Date.now())),
  };
}

/** A NewPay v2 payment callback's `data` (fields of packages/newpay-callback/test/helpers.ts), order `n`. */
export function newpayV2Payment(
  n: number,
): Record<string, unknown> & Parameters<typeof signV2Callback>[0] {
  return {
    appId: String(NEWPAY_APP_ID),
    payStatus: 'SUCCESS',
    payMethod: jsonNumber('11'),
    orderType: 'ONLINE',
    orderAmt: { value: '15000.00', currency: 'LAK' },
    mchOrderNo: `M2025${n}`,
    newpayOrderNo: `NP2025${String(n).padStart(12, '0')}`,
    subject: 'Coffee',
    settlementStatus: jsonNumber('0'),
    paytime: jsonNumber(String(Date.now())),
    attach: '',
  };
}

/** A Cashy payin webhook (field order of Cashy's payin page, "Webhook RequestBody"), order `n`. */
export function cashyPayment(
  n: number,
  at = new Date(),
): Record<string, ReturnType<typeof jsonNumber> | string | null> {
  return {
    orderStatus: 'SUCCESS',
    amount: jsonNumber('100.10'),
    fee: jsonNumber('1.5000'),
    mchOrderNo: `M${n}`,
    merchantId: CASHY_MERCHANT,
    payDeskUrl: null,
    orderNo: `PAYIN${String(n).padStart(12, '0')}`,
    payUrl: null,
    orderType: 'API',
    // Read on the provider's default Jakarta clock.
    completionTime: gatewayWallTime(at, 'Asia/Jakarta'),
    nonceStr: '162838128',
  };
}

export const cashyWire = (payload: Parameters<typeof buildCashyMessage>[0]): Wire =>
  buildCashyMessage(payload, { merchantId: CASHY_MERCHANT, apiKey: CASHY_API_KEY });

export const lailaolabTxn = (n: number): string => `hostile-${String(n).padStart(8, '0')}`;

/** Builds one gateway on its own listening server, hub and counting store. */
export async function startGateway(
  name: GatewayName,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const store = createCountingStore(options.store ?? createMemoryStore());
  const hub = createPaymentHub({
    handlerTimeoutMs: 5_000,
    leaseMs: 10_000,
    logger: options.logger,
    ...options.hubOptions,
    store,
  });
  const rec = recordHub(hub);
  let middleware: WebhookMiddleware;
  let genuine: (n: number) => Wire;
  switch (name) {
    case 'core': {
      middleware = createWebhookMiddleware(hub, createTestProvider());
      genuine = (n) => signedDelivery({ txn: `T${n}`, order: `O${n}` });
      break;
    }
    case 'signed-param': {
      middleware = createSignedParamMiddleware(hub, {
        platformPublicKey: pem(keys.signedParam.publicKey),
        // Required: refund notifications name no currency and are read in this country.
        country: 'PH',
        maxAgeMs: options.maxAgeMs,
        clockSkewMs: options.clockSkewMs,
      });
      genuine = (n) => buildNotification(signedParamPayment(n), keys.signedParam.privateKey);
      break;
    }
    case 'newpay': {
      middleware = createNewpayMiddleware(hub, {
        platformPublicKey: pem(keys.newpay.publicKey),
        appId: NEWPAY_APP_ID,
        maxAgeMs: options.maxAgeMs,
        clockSkewMs: options.clockSkewMs,
      });
      genuine = (n) =>
        n % 2 === 0
          ? signV1Callback(newpayPayment(n), keys.newpay.privateKey)
          : signV2Callback(newpayV2Payment(n), keys.newpay.privateKey, {
              timestamp: Date.now(),
            });
      break;
    }
    case 'cashy': {
      middleware = createPayinMiddleware(hub, {
        merchantId: CASHY_MERCHANT,
        apiKey: CASHY_API_KEY,
        currency: 'IDR',
        maxAgeMs: options.maxAgeMs,
        clockSkewMs: options.clockSkewMs,
      });
      genuine = (n) => cashyWire(cashyPayment(n));
      break;
    }
    case 'lailaolab': {
      const sim = options.simulator;
      if (!sim) throw new Error('startGateway(lailaolab) needs a simulator');
      middleware = createLailaolabMiddleware(hub, {
        secretKey: LAILAOLAB_SECRET,
        statusQuery: { baseUrl: sim.apiBase },
        maxAgeMs: options.maxAgeMs,
        clockSkewMs: options.clockSkewMs,
        // These runs send thousands of genuine notices a minute for transactions no source
        // watches: the budget of such status queries (its own test: status-budget.test.ts) is
        // lifted so that what is measured here is exactly-once, not the budget.
        unwatchedQueriesPerMinute: 1_000_000,
      });
      genuine = (n) => {
        const transactionId = lailaolabTxn(n);
        if (!sim.transaction(transactionId)) {
          sim.createTransaction({ transactionId, amount: 1000 + n });
          sim.pay(transactionId, { emit: false });
        }
        return {
          body: JSON.stringify(buildLailaolabMessage({ transactionId, amount: 1000 + n })),
          headers: {},
        };
      };
      break;
    }
  }
  const server = await listen(middleware);
  // The provider's ack bodies, read from the first genuine answer would couple tests; these are the
  // documented ones (signed-param: the Payment Notification pages' "fixed value" 10000; NewPay:
  // v1 "4.4. Callback", `{"transResult":"SUCCESS"}`; Cashy: the payin page, `SUCCESS`; Lailaolab:
  // "return with status 200 for success", connect-subscription/debit-subscription).
  const acks: Record<GatewayName, { ok: Reply; retry: Reply }> = {
    core: {
      ok: { status: 200, body: '{"ok":true}' },
      retry: { status: 503, body: '{"ok":false}' },
    },
    'signed-param': {
      ok: { status: 200, body: '{"code":10000,"message":"Success"}' },
      retry: { status: 503, body: '{"code":50300,"message":"Retry later"}' },
    },
    newpay: {
      ok: { status: 200, body: '{"transResult":"SUCCESS"}' },
      retry: { status: 500, body: '{"transResult":"FAIL"}' },
    },
    cashy: { ok: { status: 200, body: 'SUCCESS' }, retry: { status: 500, body: 'FAIL' } },
    lailaolab: { ok: { status: 200, body: 'OK' }, retry: { status: 500, body: 'RETRY' } },
  };
  return {
    name,
    url: server.url,
    hub,
    store,
    rec,
    ...acks[name],
    genuine,
    close: () => server.close(),
  };
}

export async function startSimulator(): Promise<LailaolabSimulator> {
  return startLailaolabSimulator({ secretKey: LAILAOLAB_SECRET });
}

/** A pino-compatible logger at debug level that keeps every line, serialized as pino would. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push(`${level} ${serialize(obj)} ${msg ?? ''}`);
    };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
}

/** JSON with errors expanded (message, stack, cause chain, own fields), as pino's err serializer. */
export function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  const expand = (v: unknown, depth: number): unknown => {
    if (depth > 8) return '[deep]';
    if (typeof v === 'bigint') return v.toString();
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (v instanceof Error) {
      const out: Record<string, unknown> = { name: v.name, message: v.message, stack: v.stack };
      for (const [k, x] of Object.entries(v)) out[k] = expand(x, depth + 1);
      if (v.cause !== undefined) out.cause = expand(v.cause, depth + 1);
      if (v instanceof AggregateError) out.errors = v.errors.map((e) => expand(e, depth + 1));
      return out;
    }
    if (Array.isArray(v)) return v.map((x) => expand(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = expand(x, depth + 1);
    return out;
  };
  return JSON.stringify(expand(value, 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
