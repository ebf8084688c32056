import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayDelivery } from './delivery';
import type { GatewayFixtures } from './gateways';
import { generateTestKeyPair, type TestKeyPair } from './keys';

/*
 * The status APIs of NewPay (v2 uniQueryPay), Cashy (/api/payInQuery) and PayCools
 * (/open-api/payment/query), on 127.0.0.1, over the payments this simulator was told were made:
 * what the hub's sweeper asks when a webhook never came. Each answers by the gateway's reference
 * or by the merchant's order number, as the real APIs do, with the body the plugin's own webhook
 * fixture would carry (NewPay's answer signed with the fixtures' platform key). The request's own
 * signature is not checked: the plugins' unit tests do that against their own fakes.
 */

export type StatusApiGateway = 'newpay' | 'cashy' | 'signed-param';

/** One query the simulator answered (or refused). */
export interface StatusQueryLog {
  gateway: StatusApiGateway;
  by: 'reference' | 'orderId';
  key: string;
  at: number;
}

export interface MadePayment {
  gateway: StatusApiGateway;
  orderId: string;
  /** The gateway's reference: newpayOrderNo, Cashy's orderNo, PayCools' transactionId. */
  reference: string;
  /** The webhook the gateway sends about it (signed): post it, or lose it. */
  webhook: GatewayDelivery;
}

export interface StatusApiSimulator {
  /** Options to spread into each plugin's options: they point its status query here. */
  readonly providerOptions: {
    newpay: {
      statusQuery: {
        baseUrl: string;
        mchId: string;
        merchantPrivateKey: string;
        timeoutMs: number;
      };
    };
    cashy: { statusQuery: { baseUrl: string; timeoutMs: number } };
    signedParam: {
      statusQuery: {
        baseUrl: string;
        appId: string;
        merchantPrivateKey: string;
        timeoutMs: number;
      };
    };
  };
  /** Records a completed payment; its status answer is served from now on. */
  pay(gateway: StatusApiGateway, payment: { orderId: string; amount?: string }): MadePayment;
  /** Every query, in order. */
  readonly asked: StatusQueryLog[];
  /** `down`: every query gets HTTP 503 (retryable); `delayMs`: each answer waits this long first. */
  state: { down: boolean; delayMs: number };
  close(): Promise<void>;
}

interface Sim {
  readonly fixtures: GatewayFixtures;
  readonly asked: StatusQueryLog[];
  readonly state: { down: boolean; delayMs: number };
  /** Per gateway: reference → answer body, and order number → reference. */
  readonly answers: Record<StatusApiGateway, Map<string, string>>;
  readonly orders: Record<StatusApiGateway, Map<string, string>>;
}

/** Starts the three status APIs, each on its own port (PayCools' client keeps only the origin). */
export async function startStatusApis(
  fixtures: GatewayFixtures,
  options: { timeoutMs?: number } = {},
): Promise<StatusApiSimulator> {
  const sim: Sim = {
    fixtures,
    asked: [],
    state: { down: false, delayMs: 0 },
    answers: { newpay: new Map(), cashy: new Map(), 'signed-param': new Map() },
    orders: { newpay: new Map(), cashy: new Map(), 'signed-param': new Map() },
  };
  const merchant: TestKeyPair = generateTestKeyPair();
  const servers = await Promise.all(
    (['newpay', 'cashy', 'signed-param'] as const).map((g) => listen(sim, g)),
  );
  const [newpay, cashy, paycools] = servers.map(urlOf);
  const timeoutMs = options.timeoutMs ?? 2_000;
  return {
    providerOptions: {
      newpay: {
        statusQuery: {
          baseUrl: `${newpay}/beta/pay`,
          mchId: 'payhook-test-mch',
          merchantPrivateKey: merchant.privateKeyPem,
          timeoutMs,
        },
      },
      cashy: { statusQuery: { baseUrl: `${cashy}/`, timeoutMs } },
      signedParam: {
        statusQuery: {
          baseUrl: paycools!,
          appId: 'payhook-test-app',
          merchantPrivateKey: merchant.privateKeyPem,
          timeoutMs,
        },
      },
    },
    pay: (gateway, payment) => pay(sim, gateway, payment),
    asked: sim.asked,
    state: sim.state,
    close: () => Promise.all(servers.map(closeServer)).then(() => undefined),
  };
}

const urlOf = (server: Server): string =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The webhook of a completed payment, and the status answer the gateway serves for it. */
function pay(
  sim: Sim,
  gateway: StatusApiGateway,
  payment: { orderId: string; amount?: string },
): MadePayment {
  const { orderId, amount } = payment;
  const f = sim.fixtures;
  let made: { reference: string; webhook: GatewayDelivery; answer: string };
  if (gateway === 'newpay') {
    const webhook = f.newpay.paymentCallback({ orderNo: orderId, version: 2, amount });
    // A v2 callback's body is uniQueryPay's answer envelope: {success, code, message, timestamp, data}.
    const reference = (JSON.parse(webhook.body) as { data: { newpayOrderNo: string } }).data
      .newpayOrderNo;
    made = { reference, webhook, answer: webhook.body };
  } else if (gateway === 'cashy') {
    const webhook = f.cashy.payin({ mchOrderNo: orderId, amount });
    const reference = (JSON.parse(webhook.body) as { orderNo: string }).orderNo;
    // The order's own text, so its amounts keep their exact digits.
    made = { reference, webhook, answer: `{"code":200,"msg":"SUCCESS","data":${webhook.body}}` };
  } else {
    const webhook = f.signedParam.payment({ orderId, amount });
    const param = (JSON.parse(webhook.body) as { param: string }).param;
    const reference = f.signedParam.transactionIdOf(orderId);
    made = { reference, webhook, answer: `{"code":10000,"message":"Success","data":${param}}` };
  }
  sim.answers[gateway].set(made.reference, made.answer);
  sim.orders[gateway].set(orderId, made.reference);
  return { gateway, orderId, reference: made.reference, webhook: made.webhook };
}

/** Which payment a query names, read as each gateway's API reads it. */
function keyOf(
  gateway: StatusApiGateway,
  body: Record<string, unknown>,
): { by: 'reference' | 'orderId'; key: string } | undefined {
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  if (gateway === 'newpay') {
    const ref = text(body.newpayOrderNo);
    const order = text(body.mchOrderNo);
    return ref ? { by: 'reference', key: ref } : order ? { by: 'orderId', key: order } : undefined;
  }
  if (gateway === 'cashy') {
    // "First use orderNo" (https://docs.cashypro.com/en_us/col/other-query.html).
    const ref = text(body.orderNo);
    const order = text(body.mchOrderNo);
    return ref ? { by: 'reference', key: ref } : order ? { by: 'orderId', key: order } : undefined;
  }
  const param = JSON.parse(String(body.param ?? '{}')) as Record<string, unknown>;
  const ref = text(param.transactionId);
  const order = text(param.mchOrderId);
  return ref ? { by: 'reference', key: ref } : order ? { by: 'orderId', key: order } : undefined;
}

const PATHS: Record<StatusApiGateway, string> = {
  newpay: '/beta/pay/uniQueryPay',
  cashy: '/api/payInQuery',
  'signed-param': '/open-api/payment/query',
};

/** Each gateway's "no such payment" answer. */
const NOT_FOUND: Record<StatusApiGateway, string> = {
  newpay: '{"success":true,"code":"200","message":"success","timestamp":0,"data":null}',
  // Cashy's error table names no "not found": Payin_Order_Error (https://docs.cashypro.com/en_us/pak/appendix.html).
  cashy: '{"code":500,"msg":"Payin_Order_Error","data":null}',
  'signed-param': '{"code":10000,"message":"Success","data":null}',
};

function listen(sim: Sim, gateway: StatusApiGateway): Promise<Server> {
  const server = createServer((req, res) => void answer(sim, gateway, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function answer(
  sim: Sim,
  gateway: StatusApiGateway,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const reply = (status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  if (sim.state.delayMs > 0) await new Promise((r) => setTimeout(r, sim.state.delayMs));
  if (req.method !== 'POST' || req.url !== PATHS[gateway]) return reply(404, '{}');
  let asked: ReturnType<typeof keyOf>;
  try {
    asked = keyOf(gateway, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    asked = undefined;
  }
  if (!asked) return reply(400, '{"code":400,"msg":"bad request"}');
  sim.asked.push({ gateway, ...asked, at: Date.now() });
  if (sim.state.down) return reply(503, '{"error":"unavailable"}');
  const reference =
    asked.by === 'reference' ? asked.key : (sim.orders[gateway].get(asked.key) ?? '');
  const found = sim.answers[gateway].get(reference);
  if (!found && gateway === 'cashy') return reply(200, NOT_FOUND.cashy);
  reply(200, found ?? NOT_FOUND[gateway]);
}
