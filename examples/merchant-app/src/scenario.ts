import { recordHub } from '@payhook/core/testing';
import {
  createGatewayFixtures,
  forgeDelivery,
  postFixture,
  startStatusApis,
  type GatewayDelivery,
} from '@payhook/testing';
import type { InspectorAuth } from '@payhook/inspector';
import { ROUTES, startMerchantApp } from './app';
import type { Order } from './orders';

/**
 * `npm start`: the merchant app against every gateway, played locally. Test keys are generated,
 * the Lailaolab simulator runs on 127.0.0.1, and each delivery is signed by the plugin's own
 * signing module, exactly as the gateway would send it. No account, no network.
 */

export interface StepResult {
  gateway: string;
  label: string;
  /** What a correct app must do with it. */
  expected: 'acknowledged' | 'refused';
  /** What it did: for HTTP the answer, for the socket what the hub reported. */
  outcome: 'acknowledged' | 'refused';
  detail: string;
}

export interface ScenarioResult {
  steps: StepResult[];
  orders: Order[];
  /** The order table as printed. */
  table: string;
  /** Every step went as expected. */
  ok: boolean;
  /** With `serve`: the shop, still listening, and how to stop it (and the simulator). */
  served?: { url: string; close(): Promise<void> };
}

export interface ScenarioOptions {
  log?: (line: string) => void;
  /**
   * Keep the shop listening after the scenario, on `port`, with the inspector mounted behind
   * `auth` (`npm start` without `--once`). Without it the shop is closed before returning.
   */
  serve?: { port?: number; auth: InspectorAuth };
}

export async function runScenario(options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const gw = createGatewayFixtures();
  const sim = await gw.lailaolab.startSimulator();
  // NewPay's, PayCools' and Cashy's status APIs, played on 127.0.0.1: what the sweeper asks.
  const statusApis = await startStatusApis(gw);
  const app = await startMerchantApp(
    {
      newpay: { ...gw.newpay.providerOptions, ...statusApis.providerOptions.newpay },
      signedParam: {
        ...gw.signedParam.providerOptions,
        ...statusApis.providerOptions.signedParam,
        id: 'paycools',
      },
      cashy: { ...gw.cashy.providerOptions, ...statusApis.providerOptions.cashy },
      lailaolab: {
        ...gw.lailaolab.sourceOptions(sim),
        confirmByStatusQuery: true,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      },
    },
    {
      log: (line) => log(`    ${line}`),
      port: options.serve?.port,
      inspector: options.serve && { auth: options.serve.auth },
    },
  );
  const rec = recordHub(app.hub);
  const steps: StepResult[] = [];

  const post = async (
    label: string,
    route: string,
    delivery: GatewayDelivery,
    expected: StepResult['expected'],
  ): Promise<void> => {
    log(`▶ ${label}`);
    const view = await postFixture(`${app.url}${route}`, delivery);
    const outcome = view.acknowledged ? 'acknowledged' : 'refused';
    const body = view.body.length > 90 ? `${view.body.slice(0, 90)}…` : view.body;
    const detail = `${view.status} ${body}`;
    log(
      `  ← ${detail} (${outcome === 'acknowledged' ? "the gateway's success answer" : 'the gateway would retry'})`,
    );
    steps.push({ gateway: delivery.gateway, label, expected, outcome, detail });
  };
  /** Socket steps: no HTTP answer, so the outcome is what the hub reported. */
  const viaSocket = async (
    label: string,
    expected: StepResult['expected'],
    play: () => void,
  ): Promise<void> => {
    log(`▶ ${label}`);
    const seen = {
      events: rec.events.length,
      duplicates: rec.duplicates.length,
      errors: rec.errors.length,
    };
    play();
    await rec.until(
      (r) =>
        r.events.length > seen.events ||
        r.duplicates.length > seen.duplicates ||
        r.errors.length > seen.errors,
      label,
      5_000,
    );
    const outcome = rec.errors.length > seen.errors ? 'refused' : 'acknowledged';
    const detail =
      outcome === 'refused'
        ? `${rec.errors.at(-1)!.code}`
        : rec.duplicates.length > seen.duplicates
          ? 'duplicate'
          : 'processed';
    log(`  ← socket: ${detail}`);
    steps.push({ gateway: 'lailaolab', label, expected, outcome, detail });
  };

  /** A payment no webhook told of: the sweeper asks the gateway (at once here; on its schedule in production). */
  const recovered = async (label: string, gateway: string, orderId: string): Promise<void> => {
    log(`▶ ${label}`);
    const report = await app.hub.sweep({ provider: gateway, all: true });
    const entry = (await app.hub.awaited.list({ provider: gateway })).find(
      (p) => p.orderId === orderId,
    );
    const detail = `status query: ${report.recovered} recovered; ${orderId} ${entry?.state ?? 'not awaited'}${entry?.settledBy ? ` by ${entry.settledBy}` : ''}`;
    log(`  ← ${detail}`);
    const outcome = entry?.settledBy === 'status-query' ? 'acknowledged' : 'refused';
    steps.push({ gateway, label, expected: 'acknowledged', outcome, detail });
  };

  try {
    const { newpay, signedParam, cashy, lailaolab } = gw;
    const orders = app.orders;
    for (const [id, gateway, amount, currency] of [
      ['A-1001', 'newpay', '15000.00', 'LAK'],
      ['A-1002', 'newpay', '8000.00', 'LAK'],
      ['A-1003', 'newpay', '2000.00', 'LAK'],
      ['A-1004', 'newpay', '300.00', 'LAK'],
      ['B-2001', 'paycools', '500.10', 'PHP'],
      ['B-2002', 'paycools', '99.00', 'PHP'],
      ['B-2003', 'paycools', '10.00', 'PHP'],
      ['C-3001', 'cashy', '100.10', 'IDR'],
      ['C-3002', 'cashy', '250.00', 'IDR'],
      ['C-3003', 'cashy', '75.00', 'IDR'],
      ['C-3004', 'cashy', '60.00', 'IDR'],
      ['D-4001', 'lailaolab', '100000', 'LAK'],
      ['D-4002', 'lailaolab', '20000', 'LAK'],
      ['D-4003', 'lailaolab', '35000', 'LAK'],
      ['D-4004', 'lailaolab', '50000', 'LAK'],
    ] as const)
      // Each order's payment is awaited as it is created: a final answer is guaranteed.
      await app.awaitOrder(orders.create({ id, gateway, amount, currency }));

    // NewPay: v1 and v2 callbacks, SHA256withRSA with the (test) platform key.
    const a1 = newpay.paymentCallback({ orderNo: 'A-1001', amount: '15000.00' });
    await post('NewPay: payment of A-1001', ROUTES.newpay, a1, 'acknowledged');
    await post(
      'NewPay: the same callback again (NewPay retries)',
      ROUTES.newpay,
      a1,
      'acknowledged',
    );
    await post(
      'NewPay: payment of A-1002 failed',
      ROUTES.newpay,
      newpay.paymentCallback({ orderNo: 'A-1002', amount: '8000.00', status: 'failed' }),
      'acknowledged',
    );
    await post(
      'NewPay: v2 payment of A-1004',
      ROUTES.newpay,
      newpay.paymentCallback({ orderNo: 'A-1004', amount: '300.00', version: 2 }),
      'acknowledged',
    );
    await post(
      'NewPay: partial refund of A-1001',
      ROUTES.newpay,
      newpay.refundCallback({ orderNo: 'A-1001', amount: '5000.00' }),
      'acknowledged',
    );
    await post(
      'NewPay: forged payment of A-1003 (amount edited after signing)',
      ROUTES.newpay,
      forgeDelivery(newpay.paymentCallback({ orderNo: 'A-1003', amount: '2000.00' })),
      'refused',
    );

    // signed-param ({param, sign}, e.g. PayCools): amounts in cents, RSA over param.
    const b1 = signedParam.payment({ orderId: 'B-2001', amount: '500.10' });
    await post('PayCools: payment of B-2001', ROUTES.signedParam, b1, 'acknowledged');
    await post('PayCools: the same notification again', ROUTES.signedParam, b1, 'acknowledged');
    await post(
      'PayCools: payment of B-2002 failed',
      ROUTES.signedParam,
      signedParam.payment({ orderId: 'B-2002', amount: '99.00', status: 'failed' }),
      'acknowledged',
    );
    await post(
      'PayCools: full refund of B-2001',
      ROUTES.signedParam,
      signedParam.refund({
        transactionId: signedParam.transactionIdOf('B-2001'),
        amount: '500.10',
      }),
      'acknowledged',
    );
    await post(
      'PayCools: forged payment of B-2003',
      ROUTES.signedParam,
      forgeDelivery(signedParam.payment({ orderId: 'B-2003', amount: '10.00' })),
      'refused',
    );

    // Cashy: MD5(body + apiKey) in the Sign header. Cashy has no refund notification.
    const c1 = cashy.payin({ mchOrderNo: 'C-3001', amount: '100.10' });
    await post('Cashy: payin of C-3001', ROUTES.cashy, c1, 'acknowledged');
    await post(
      'Cashy: the same webhook again (Cashy retries for 17 h)',
      ROUTES.cashy,
      c1,
      'acknowledged',
    );
    await post(
      'Cashy: payin of C-3002 failed',
      ROUTES.cashy,
      cashy.payin({ mchOrderNo: 'C-3002', amount: '250.00', status: 'failed' }),
      'acknowledged',
    );
    await post(
      'Cashy: forged payin of C-3003',
      ROUTES.cashy,
      forgeDelivery(cashy.payin({ mchOrderNo: 'C-3003', amount: '75.00' })),
      'refused',
    );

    // C-3004 is paid, but Cashy's webhook never reaches the shop (down longer than Cashy's ten
    // retries over 17 h, say). The awaited payment is settled by Cashy's own record.
    statusApis.pay('cashy', { orderId: 'C-3004', amount: '60.00' });
    await recovered(
      'Cashy: C-3004 paid, its webhook lost: the sweeper asks payInQuery',
      'cashy',
      'C-3004',
    );

    // Lailaolab: the simulator's socket and status API. Unsigned: every outcome is confirmed.
    await rec.until(
      (r) => r.sources.some((s) => s.channel === 'source.up'),
      'the Lailaolab socket',
      5_000,
    );
    for (const [txn, order, amount] of [
      ['LL-4001', 'D-4001', 100000],
      ['LL-4002', 'D-4002', 20000],
      ['LL-4003', 'D-4003', 35000],
      ['LL-4004', 'D-4004', 50000],
    ] as const) {
      sim.createTransaction({ transactionId: txn, orderNo: order, amount });
      app.lailaolab!.watch(txn);
    }
    let d1: ReturnType<typeof sim.pay> | undefined;
    await viaSocket('Lailaolab: D-4001 paid, told on the socket', 'acknowledged', () => {
      d1 = sim.pay('LL-4001');
    });
    await viaSocket('Lailaolab: the same socket message again', 'acknowledged', () => sim.emit(d1));
    await viaSocket('Lailaolab: D-4002 failed, told on the socket', 'acknowledged', () => {
      // The status API says so too: a failure is emitted only when the record says it failed.
      sim.fail('LL-4002', { recordStatus: 'FAILED' });
    });
    await post(
      'Lailaolab: D-4003 paid, told by the portal webhook',
      ROUTES.lailaolab,
      lailaolab.webhookFor(sim.pay('LL-4003', { emit: false })),
      'acknowledged',
    );
    const fake = lailaolab.message({ transactionId: 'LL-4004', amount: 50000 });
    await viaSocket(
      'Lailaolab: "paid" for D-4004 on the socket while the status API says WAITING (not yet: watched, nothing emitted)',
      'refused',
      () => sim.emit(fake),
    );
    await post(
      'Lailaolab: the same forgery by webhook',
      ROUTES.lailaolab,
      lailaolab.webhookFor(fake),
      'refused',
    );
  } catch (error) {
    await Promise.all([app.close(), sim.close(), statusApis.close()]);
    throw error;
  }
  const close = async (): Promise<void> => {
    await app.close();
    await sim.close();
    await statusApis.close();
  };
  if (!options.serve) await close();
  const ok = steps.every((s) => s.outcome === s.expected);
  const result: ScenarioResult = {
    steps,
    orders: app.orders.all(),
    table: app.orders.format(),
    ok,
  };
  if (options.serve) result.served = { url: app.url, close };
  return result;
}
