/**
 * Every TypeScript block of the READMEs is an example file under test/readme/examples: the block is
 * the file's `// #region readme` byte for byte, and each example runs here as a reader would run it
 * (`node --import tsx`, environment variables for its keys) against real HTTP, with deliveries
 * signed by the plugins' own signers through @payhook/testing and keys generated in this test.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { migrate } from '@payhook/postgres';
import { verifyRsaSha256, jsonNumber } from '@payhook/core/plugin';
import { buildSignString, signV2Callback } from '@payhook/newpay-callback/signing';
import {
  createCashyFixtures,
  createLailaolabFixtures,
  createNewpayFixtures,
  createSignedParamFixtures,
  forgeDelivery,
  generateTestKeyPair,
  postFixture,
  runCli,
  createGatewayFixtures,
  startStatusApis,
  testKeyPairFrom,
  type GatewayDelivery,
  type LailaolabSimulator,
} from '@payhook/testing';
import {
  CODE_LANGUAGES,
  fencedBlocks,
  freePort,
  read,
  readmeRegion,
  startExample,
  waitFor,
  type RunningExample,
} from './support';

/** README → its code blocks' example files, in the order the blocks appear. */
const MANIFEST: Record<string, string[]> = {
  'README.md': ['root-app.ts'],
  'packages/core/README.md': ['core-usage.ts', 'core-awaited.ts', 'core-keep-raw-body.ts'],
  'packages/payin/README.md': ['payin-app.ts', 'payin-client.ts'],
  'packages/newpay-callback/README.md': ['newpay-app.ts', 'newpay-reconcile.ts'],
  'packages/signed-param/README.md': ['signed-param-app.ts', 'signed-param-reconcile.ts'],
  'packages/lailaolab-socket/README.md': ['lailaolab-app.ts'],
  'packages/redis-store/README.md': ['redis-app.ts', 'redis-shared-client.ts', 'redis-awaited.ts'],
  'packages/inspector/README.md': ['inspector-app.ts'],
  'packages/postgres/README.md': ['postgres-app.ts', 'postgres-async.ts'],
};

describe.each(Object.entries(MANIFEST))('%s', (readme, files) => {
  const blocks = fencedBlocks(read(readme)).filter((b) => CODE_LANGUAGES.has(b.lang));

  it('has one example file per TypeScript/JavaScript block', () => {
    expect(blocks.map((b) => `line ${b.line}: ${b.lang}`)).toHaveLength(files.length);
    expect(blocks.every((b) => b.lang === 'ts')).toBe(true);
  });

  it.each(files.map((file, i) => [i + 1, file]))(
    'block %i is the readme region of examples/%s, byte for byte',
    (i, file) => {
      expect(blocks[(i as number) - 1]?.code).toBe(readmeRegion(file as string));
    },
  );
});

const running: RunningExample[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
async function start(file: string, env: Record<string, string | undefined>) {
  const example = await startExample(file, env);
  running.push(example);
  return example;
}

const post = (url: string, delivery: GatewayDelivery) => postFixture(url, delivery);
const NEWPAY_ACK = '{"transResult":"SUCCESS"}';

describe('README.md: the app, driven by the "payhook" commands the README shows', () => {
  const shell = fencedBlocks(read('README.md')).find(
    (b) => b.lang === 'sh' && b.code.includes('payhook send newpay'),
  )!;
  /** The block's commands, continuation lines joined, comments dropped. */
  const commands = shell.code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
  const payhook = (name: string): string[] => {
    const line = commands.find((c) => c.startsWith(`npx payhook ${name}`));
    if (!line) throw new Error(`README.md shows no "npx payhook ${name}"`);
    return line.split(/\s+/).slice(2);
  };
  const exported = Object.fromEntries(
    [
      ...(commands.find((c) => c.startsWith('export '))?.matchAll(/(\w+)=("[^"]*"|\S+)/g) ?? []),
    ].map((m) => [m[1]!, m[2]!]),
  );

  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'payhook-readme-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      cwd: dir,
      env: {},
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    });
    return { code, stdout, stderr };
  };

  it('keys, export, send: the app acknowledges the payment, refuses a forgery, dispatches once', async () => {
    const keys = await cli(payhook('keys'));
    expect(keys).toMatchObject({ code: 0, stderr: '' });

    // export NEWPAY_PLATFORM_PUBLIC_KEY="$(cat ./payhook-keys/public.pem)" NEWPAY_APP_ID=...
    expect(Object.keys(exported).sort()).toEqual(['NEWPAY_APP_ID', 'NEWPAY_PLATFORM_PUBLIC_KEY']);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(exported)) {
      const cat = /^"\$\(cat (.+)\)"$/.exec(value);
      env[name] = cat ? readFileSync(path.join(dir, cat[1]!), 'utf8') : value;
    }
    const app = await start('root-app.ts', env);

    const send = payhook('send');
    const at = (flag: string) => send[send.indexOf(flag) + 1]!;
    expect(at('--app-id')).toBe(env.NEWPAY_APP_ID);
    const readmeUrl = new URL(at('--url'));
    expect(readmeUrl.origin).toBe('http://localhost:3000'); // the app's default PORT
    expect(readFileSync(path.join(__dirname, 'examples', 'root-app.ts'), 'utf8')).toContain(
      `'${readmeUrl.pathname}'`,
    );
    const argv = send.map((a) => (a === at('--url') ? `${app.url}${readmeUrl.pathname}` : a));

    const delivered = await cli(argv);
    expect(delivered.stderr).toBe('');
    expect(delivered.stdout).toContain('acknowledged: yes');
    expect(delivered.code).toBe(0);
    await waitFor('markPaid', () => app.calls('orders.markPaid').length === 1);
    expect(app.calls('orders.markPaid')[0]!.args).toEqual([
      expect.stringMatching(/^newpay:/),
      at('--order'),
      '15000.00',
      'LAK',
    ]);

    const forged = JSON.parse((await cli([...argv, '--forge', '--json'])).stdout);
    expect(forged).toMatchObject({ acknowledged: false, exitCode: 1, response: { status: 401 } });
    expect(forged.response.body).toContain('ERR_SIGNATURE_INVALID');

    // Without --app-id the CLI signs for appId 6, which this app is not.
    const withoutAppId = argv.filter((a, i) => a !== '--app-id' && argv[i - 1] !== '--app-id');
    const otherApp = JSON.parse((await cli([...withoutAppId, '--json'])).stdout);
    expect(otherApp.response.status).toBe(401);
    expect(otherApp.response.body).toContain('ERR_SENDER_UNKNOWN');

    // NewPay retrying the same payment: acknowledged, not dispatched again.
    expect((await cli(argv)).code).toBe(0);
    expect(app.calls('orders.markPaid')).toHaveLength(1);

    // The other two listeners, with deliveries signed by the same key.
    const fixtures = createNewpayFixtures({
      keys: testKeyPairFrom(readFileSync(path.join(dir, at('--key')), 'utf8')),
      appId: env.NEWPAY_APP_ID,
    });
    const hook = `${app.url}${readmeUrl.pathname}`;
    const failed = await post(hook, fixtures.paymentCallback({ orderNo: 'A-2', status: 'failed' }));
    expect(failed).toMatchObject({ status: 200, body: NEWPAY_ACK });
    const refund = await post(
      hook,
      fixtures.refundCallback({ orderNo: at('--order'), amount: '5000.00' }),
    );
    expect(refund).toMatchObject({ status: 200, body: NEWPAY_ACK });
    await waitFor('refund', () => app.calls('orders.refund').length === 1);
    expect(app.calls('orders.markFailed')[0]!.args).toEqual([
      expect.stringMatching(/^newpay:/),
      'A-2',
      { code: 'FAIL', message: 'Transaction Failed' },
    ]);
    expect(app.calls('orders.refund')[0]!.args).toEqual([
      expect.stringMatching(/^newpay:/),
      at('--order'),
      '5000.00',
    ]);
  });

  it('"npx payhook simulate lailaolab" starts the simulator and stops on the signal', async () => {
    let stdout = '';
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const exit = runCli([...payhook('simulate'), '--json'], {
      stdout: (t) => void (stdout += t),
      stderr: () => undefined,
      env: {},
      stopSignal: () => stopped,
    });
    const info = await waitFor('the simulator', () => stdout.includes('\n') && JSON.parse(stdout));
    expect(info).toMatchObject({ socketUrl: expect.any(String), apiBase: expect.any(String) });
    stop();
    expect(await exit).toBe(0);
  });
});

describe('newpay examples', () => {
  const fixtures = createNewpayFixtures({ keys: generateTestKeyPair(), appId: '1001' });
  const env = {
    NEWPAY_PLATFORM_PUBLIC_KEY: fixtures.providerOptions.platformPublicKey,
    NEWPAY_APP_ID: fixtures.appId,
  };

  it('core README: createWebhookMiddleware with a provider, and the notice channels', async () => {
    const app = await start('core-usage.ts', env);
    const hook = `${app.url}/webhooks/newpay`;
    const paid = await post(hook, fixtures.paymentCallback({ orderNo: 'C-1' }));
    expect(paid).toMatchObject({ status: 200, body: NEWPAY_ACK });
    expect(app.calls('db.orders.markPaid').map((c) => c.args)).toEqual([
      ['C-1', '15000.00', { eventId: expect.stringMatching(/^newpay:/), signal: true }],
    ]);

    const forged = await post(hook, forgeDelivery(fixtures.paymentCallback({ orderNo: 'C-2' })));
    expect(forged.status).toBe(401);
    await waitFor('the error listener', () =>
      app.stderr().includes('ERR_SIGNATURE_INVALID newpay'),
    );

    const refundRefused = fixtures.refundCallback({
      orderNo: 'C-1',
      amount: '1.00',
      status: 'failed',
    });
    expect(await post(hook, refundRefused)).toMatchObject({ status: 200, body: NEWPAY_ACK });
    await waitFor('the unhandled listener', () =>
      app.stdout().includes('not a payment event newpay'),
    );

    const big = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"pad":"${'x'.repeat(65_536)}"}`,
    });
    expect(big.status).toBe(413); // limit: 65_536
    expect(app.calls('db.orders.markPaid')).toHaveLength(1);
  });

  it('newpay README: the middleware answers NewPay for payments, failures and refunds', async () => {
    const app = await start('newpay-app.ts', env);
    const hook = `${app.url}/callbacks/newpay`;
    for (const delivery of [
      fixtures.paymentCallback({ orderNo: 'N-1', amount: '123.00' }),
      fixtures.paymentCallback({ orderNo: 'N-2', version: 2 }),
      fixtures.paymentCallback({ orderNo: 'N-3', status: 'failed' }),
      fixtures.refundCallback({ orderNo: 'N-1', amount: '23.00' }),
      fixtures.refundCallback({ orderNo: 'N-1', amount: '1.00', status: 'failed' }),
    ])
      expect(await post(hook, delivery)).toMatchObject({ status: 200, body: NEWPAY_ACK });
    await waitFor('the listeners', () => app.stdout().includes('not a payment event:'));
    const out = app.stdout();
    expect(out).toContain('paid N-1 123.00 LAK');
    expect(out).toContain('paid N-2 15000.00 LAK');
    expect(out).toMatch(/failed N-3 \{ code: 'FAIL', message: 'Transaction Failed' \}/);
    expect(out).toMatch(/refunded \{ refundId: '\d+', amount: '23.00', kind: 'refund' \}/);

    const forged = await post(hook, forgeDelivery(fixtures.paymentCallback({ orderNo: 'N-4' })));
    expect(forged.status).toBe(401);
    const otherApp = createNewpayFixtures({ keys: fixtures.keys, appId: '6' });
    const refused = await post(hook, otherApp.paymentCallback({ orderNo: 'N-5' }));
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('ERR_SENDER_UNKNOWN');
    expect(app.stdout()).not.toMatch(/N-4|N-5/);
  });

  it('newpay README: hub.reconcile() asks uniQueryPay and processes the answer once', async () => {
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const orders = new Map<string, Record<string, unknown>>();
    const asked: Array<Record<string, string>> = [];
    const api = await listen((req, body, reply) => {
      const request = JSON.parse(body) as Record<string, string>;
      asked.push(request);
      if (req.url !== '/beta/pay/uniQueryPay') return reply(404, '{}');
      if (!verifyRsaSha256(buildSignString(request), request.sign ?? '', merchant.publicKey))
        return reply(200, '{"success":false,"code":"SIGN_ERROR","message":"sign verify error"}');
      const data = orders.get(request.newpayOrderNo!);
      if (!data) return reply(200, '{"success":true,"code":"200","message":"success","data":null}');
      reply(
        200,
        signV2Callback(data as never, fixtures.keys.privateKey, {
          timestamp: jsonNumber(PAID_AN_HOUR_AGO),
        }).body,
      );
    });
    const order = (newpayOrderNo: string, payStatus: string) => ({
      appId: '1001',
      payStatus,
      payMethod: jsonNumber('11'),
      orderType: 'ONLINE',
      orderAmt: { value: '15000.00', currency: 'LAK' },
      mchOrderNo: `M-${newpayOrderNo}`,
      newpayOrderNo,
      subject: 'Coffee',
      settlementStatus: jsonNumber('0'),
      paytime: jsonNumber(PAID_AN_HOUR_AGO),
      attach: '',
    });
    orders.set('202209210000006950', order('202209210000006950', 'SUCCESS'));
    orders.set('202209210000006951', order('202209210000006951', 'PROCESSING'));
    try {
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      const { reconcile, newpay } = loadWithEnv<typeof import('./examples/newpay-reconcile')>(
        './examples/newpay-reconcile',
        {
          ...env,
          NEWPAY_MCH_ID: 'MCH001',
          NEWPAY_MERCHANT_KEY: merchant.privateKey
            .export({ type: 'pkcs8', format: 'pem' })
            .toString(),
          NEWPAY_API_BASE: `${api.url}/beta/pay`,
        },
      );
      // What the README says fetchStatus answers, before anything is processed.
      expect(await newpay.provider.fetchStatus!('202209210000006950')).toEqual([
        expect.objectContaining({
          id: '202209210000006950:completed',
          type: 'payment.completed',
          amount: '15000.00',
          verification: 'status-query',
        }),
      ]);
      expect(await newpay.provider.fetchStatus!('202209210000006951')).toMatchObject({
        kind: 'pending',
      });
      expect(await newpay.provider.fetchStatus!('202209210000006952')).toBeNull();

      expect(await reconcile('202209210000006950')).toBe('processed');
      expect(log.mock.calls).toEqual([['paid', 'M-202209210000006950', 'status-query']]);
      expect(await reconcile('202209210000006950')).toBe('duplicate');
      expect(await reconcile('202209210000006951')).toBe('pending');
      expect(await reconcile('202209210000006952')).toBe('unhandled');
      // The late callback of the reconciled payment, on the same middleware: acknowledged, once.
      const app = await listenApp(newpay);
      const late = fixtures.paymentCallback({
        orderNo: 'M-202209210000006950',
        newpayOrderNo: '202209210000006950',
        version: 2,
      });
      expect(await post(`${app.url}/`, late)).toMatchObject({ status: 200, body: NEWPAY_ACK });
      await app.close();
      expect(log).toHaveBeenCalledTimes(1);
      log.mockRestore();
      expect(asked.every((r) => r.mchId === 'MCH001' && r.appId === '1001')).toBe(true);
      expect(asked.map((r) => r.newpayOrderNo)).toEqual([
        '202209210000006950',
        '202209210000006951',
        '202209210000006952',
        '202209210000006950',
        '202209210000006950',
        '202209210000006951',
        '202209210000006952',
      ]);
    } finally {
      await api.close();
    }
  });
});

/**
 * Status answers are held to the provider's maxAgeMs (24 h by default) like webhooks: the gateway
 * API simulators answer a payment made an hour ago.
 */
const PAID_AN_HOUR_AGO = String(Date.now() - 3_600_000);
function manilaWallTime(agoMs: number): string {
  return new Date(Date.now() - agoMs + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

describe('cashy examples', () => {
  const fixtures = createCashyFixtures({ merchantId: '100001', apiKey: 'readme-test-api-key' });
  const env = { CASHY_MERCHANT_ID: fixtures.merchantId, CASHY_API_KEY: fixtures.apiKey };

  it('core README: a parser first with keepRawBody, and payhook still verifies', async () => {
    const app = await start('core-keep-raw-body.ts', env);
    const hook = `${app.url}/webhooks/cashy`;
    const paid = await post(hook, fixtures.payin({ mchOrderNo: 'K-1' }));
    expect(paid).toMatchObject({ status: 200, body: 'SUCCESS' });
    await waitFor('the listener', () => app.stdout().includes('paid K-1 100.10'));
    const forged = await post(hook, forgeDelivery(fixtures.payin({ mchOrderNo: 'K-2' })));
    expect(forged.status).toBe(401);
    expect(forged.body).toContain('ERR_SIGNATURE_INVALID');
    const route = await fetch(`${app.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sku":"A1","qty":2}',
    });
    expect(await route.json()).toEqual({ received: { sku: 'A1', qty: 2 } });
    expect(app.stdout()).not.toContain('K-2');
  });

  it('payin README: payments, PATCH top-ups and failures', async () => {
    const app = await start('payin-app.ts', env);
    const hook = `${app.url}/webhooks/cashy`;
    for (const delivery of [
      fixtures.payin({ mchOrderNo: 'P-1' }),
      fixtures.payin({ mchOrderNo: 'P-1', patchSerial: 1, amount: '5.00' }),
      fixtures.payin({ mchOrderNo: 'P-2', status: 'failed' }),
    ])
      expect(await post(hook, delivery)).toMatchObject({ status: 200, body: 'SUCCESS' });
    const forged = await post(hook, forgeDelivery(fixtures.payin({ mchOrderNo: 'P-3' })));
    expect(forged.status).toBe(401);
    await waitFor('the error listener', () => app.stderr().includes('ERR_SIGNATURE_INVALID'));
    const lines = app.stdout().trim().split('\n');
    expect(lines).toEqual([
      'payment for order P-1: 100.10 IDR',
      'top-up #00001 for order P-1: 5.00 IDR',
      'order P-2 failed: FAIL',
    ]);
  });

  it('payin README: the API client signs its requests and keeps amounts exact', async () => {
    const bodies: Array<{ path: string; text: string; json: Record<string, unknown> }> = [];
    const api = await listen((req, text, reply) => {
      const sign = createHash('md5')
        .update(text + fixtures.apiKey)
        .digest('hex');
      if (
        req.headers.merchantid !== fixtures.merchantId ||
        String(req.headers.sign).toLowerCase() !== sign
      )
        return reply(200, '{"code":500,"msg":"Sign_verify_error","data":null}');
      const json = JSON.parse(text) as Record<string, unknown>;
      bodies.push({ path: req.url!, text, json });
      if (req.url === '/stage-api/api/payIn')
        return reply(
          200,
          `{"msg":"SUCCESS","code":200,"data":{"merchantId":"100001","mchOrderNo":${JSON.stringify(json.mchOrderNo)},"orderNo":"PAYIN8232154612109344768","payCode":"646012000000015942","payUrl":null,"payDeskUrl":"https://pay.example/PAYIN8232154612109344768","amount":100.10}}`,
        );
      if (req.url === '/stage-api/api/payInQuery')
        return reply(
          200,
          `{"msg":"SUCCESS","code":200,"data":{"merchantId":"100001","mchOrderNo":"R-1","orderNo":"PAYIN8232154612109344768","amount":100.10,"orderType":"API","fee":null,"orderStatus":"PAYING","completionTime":null}}`,
        );
      reply(404, 'not found');
    });
    try {
      const { openPayin } = loadWithEnv<typeof import('./examples/payin-client')>(
        './examples/payin-client',
        { ...env, CASHY_API_BASE: `${api.url}/stage-api/` },
      );
      const { order, status } = await openPayin('R-1');
      expect(order).toMatchObject({ orderNo: 'PAYIN8232154612109344768', amount: '100.10' });
      expect(status).toMatchObject({ orderStatus: 'PAYING', amount: '100.10' });
      expect(bodies.map((b) => b.path)).toEqual([
        '/stage-api/api/payIn',
        '/stage-api/api/payInQuery',
      ]);
      expect(bodies[0]!.text).toContain('"amount":100.10');
      expect(bodies[1]!.json).toMatchObject({ orderNo: 'PAYIN8232154612109344768' });
      expect(bodies[1]!.json).not.toHaveProperty('mchOrderNo');
      const nonces = bodies.map((b) => b.json.nonceStr as string);
      expect(nonces.every((n) => n.length === 32)).toBe(true);
      expect(new Set(nonces).size).toBe(2);
    } finally {
      await api.close();
    }
  });
});

describe('signed-param examples', () => {
  const fixtures = createSignedParamFixtures({ country: 'PH' });
  const env = { PLATFORM_PUBLIC_KEY: fixtures.providerOptions.platformPublicKey };

  it('signed-param README: payments, failures, refunds and payouts', async () => {
    const app = await start('signed-param-app.ts', env);
    const hook = `${app.url}/webhooks/paycools`;
    const paid = fixtures.payment({ orderId: 'S-1', amount: '500.10' });
    const ack = '{"code":10000,"message":"Success"}';
    for (const delivery of [
      paid,
      fixtures.payment({ orderId: 'S-2', status: 'failed' }),
      fixtures.refund({ transactionId: fixtures.transactionIdOf('S-1'), amount: '100.00' }),
      fixtures.payout({ orderId: 'S-3' }),
    ])
      expect(await post(hook, delivery)).toMatchObject({ status: 200, body: ack });
    expect((await post(hook, forgeDelivery(paid))).status).toBe(401);
    await waitFor('the error listener', () => app.stderr().includes('ERR_SIGNATURE_INVALID'));
    const out = app.stdout();
    const tx = fixtures.transactionIdOf('S-1');
    expect(out).toContain(`order S-1 paid 500.10 PHP (${tx})`);
    expect(out).toMatch(/order S-2 failed: \S+ /);
    expect(out).toMatch(new RegExp(`refund \\S+ of 100.00 on ${tx}`));
    expect(out).toContain('acknowledged, not a payment:');
  });

  it("signed-param README: hub.reconcile() with the middleware's .provider, processed once", async () => {
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const received: Array<{
      url?: string;
      appId: string;
      param: Record<string, unknown>;
      valid: boolean;
    }> = [];
    const api = await listen((req, text, reply) => {
      const body = JSON.parse(text) as { appId: string; param: string; sign: string };
      const valid = verifyRsaSha256(body.param, body.sign, merchant.publicKey);
      const param = JSON.parse(body.param) as Record<string, unknown>;
      received.push({ url: req.url, appId: body.appId, param, valid });
      if (!valid) return reply(200, '{"code":21001,"message":"sign error"}');
      if (param.transactionId !== 'CU510579106014826496')
        return reply(200, '{"code":10000,"message":"Success","data":null}');
      reply(
        200,
        JSON.stringify({
          code: 10000,
          message: 'Success',
          data: {
            mchOrderId: '10e051066810618100',
            transactionId: param.transactionId,
            countryCode: 'PH',
            channelCode: 'PH_QRPH_DYNAMIC',
            amount: 10000,
            currency: 'PHP',
            transactionStatus: 'COMPLETED',
            createTime: manilaWallTime(3_660_000),
            returnTime: manilaWallTime(3_600_000),
          },
        }),
      );
    });
    try {
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      const { reconcile, paycools } = loadWithEnv<
        typeof import('./examples/signed-param-reconcile')
      >('./examples/signed-param-reconcile', {
        ...env,
        PLATFORM_API_BASE: api.url,
        PLATFORM_APP_ID: '733b887a4a784708bb369524db5b6ded',
        MERCHANT_PRIVATE_KEY: merchant.privateKey
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      });
      expect(paycools.provider.id).toBe('paycools');
      expect(await paycools.provider.fetchStatus!('CU510579106014826496')).toEqual([
        expect.objectContaining({
          id: 'order.payment.success:CU510579106014826496',
          type: 'payment.completed',
          amount: '100.00',
          currency: 'PHP',
          verification: 'status-query',
        }),
      ]);
      expect(await paycools.provider.fetchStatus!('CU000000000000000000')).toBeNull();
      expect(await reconcile('CU510579106014826496')).toBe('processed');
      expect(log.mock.calls).toEqual([['paid', '10e051066810618100', 'status-query']]);
      expect(await reconcile('CU510579106014826496')).toBe('duplicate');
      expect(await reconcile('CU000000000000000000')).toBe('unhandled');
      // The notification arriving after all, on the same middleware: acknowledged, not dispatched.
      const app = await listenApp(paycools);
      const late = fixtures.payment({
        orderId: '10e051066810618100',
        transactionId: 'CU510579106014826496',
        amount: '100.00',
      });
      expect(await post(`${app.url}/`, late)).toMatchObject({
        status: 200,
        body: '{"code":10000,"message":"Success"}',
      });
      await app.close();
      expect(log).toHaveBeenCalledTimes(1);
      log.mockRestore();
      expect(received).toHaveLength(5);
      expect(
        received.every(
          (r) =>
            r.url === '/open-api/payment/query' &&
            r.appId === '733b887a4a784708bb369524db5b6ded' &&
            r.valid &&
            r.param.countryCode === 'PH',
        ),
      ).toBe(true);
    } finally {
      await api.close();
    }
  });
});

describe('lailaolab example', () => {
  const fixtures = createLailaolabFixtures({ secretKey: 'readme-secret$2b$10/.' });
  let simulator: LailaolabSimulator;
  beforeAll(async () => {
    simulator = await fixtures.startSimulator();
  });
  afterAll(() => simulator.close());

  it('lailaolab README: socket payments, the sweep after a gap, the webhook and health', async () => {
    const app = await start('lailaolab-app.ts', {
      LAILAOLAB_SECRET_KEY: fixtures.secretKey,
      LAILAOLAB_SOCKET_URL: simulator.socketBase,
      LAILAOLAB_API_BASE: simulator.apiBase,
    });
    await simulator.waitForClients(1);
    // The health route: 200 once the source's socket is connected (the simulator may see it first).
    const health = await waitFor(
      'a connected health answer',
      async () => {
        const answer = await fetch(`${app.url}/payhook/lailaolab/health`);
        const body = (await answer.json()) as Record<string, unknown>;
        return answer.status === 200 && body;
      },
      5_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; app stderr: ${app.stderr()}`);
    });
    expect(health).toMatchObject({ provider: 'lailaolab', connected: true });

    // A QR, paid: the socket tells, the status API confirms, the listener runs.
    simulator.createTransaction({ transactionId: 'L-1-qr', amount: 100000, orderNo: 'L-1' });
    const qr = await fetch(`${app.url}/orders/L-1/qr`, { method: 'POST' });
    expect(await qr.json()).toEqual({ qrCode: 'qr-code-of-L-1' });
    const message = simulator.pay('L-1-qr');
    await waitFor('markOrderPaid', () => app.calls('markOrderPaid').length === 1);
    expect(app.calls('markOrderPaid')[0]!.args).toEqual(['L-1-qr', '100000']);

    // The same payment through the webhook: acknowledged, not dispatched again.
    const webhook = `${app.url}/payhook/lailaolab`;
    expect(await post(webhook, fixtures.webhookFor(message))).toMatchObject({ status: 200 });
    // A webhook the status API does not confirm: refused, nothing dispatched.
    const unknown = await post(webhook, fixtures.webhook({ transactionId: 'L-X-qr' }));
    expect(unknown.status).toBe(409);

    // Paid while the socket was down: the watched QR is found by the sweep after reconnecting.
    simulator.createTransaction({ transactionId: 'L-2-qr', amount: 250000, orderNo: 'L-2' });
    await fetch(`${app.url}/orders/L-2/qr`, { method: 'POST' });
    await simulator.stopSocket();
    await waitFor('source.down', () => app.stderr().includes('Lailaolab socket down:'));
    simulator.pay('L-2-qr', { emit: false });
    await simulator.startSocket();
    await waitFor('the sweep', () => app.calls('markOrderPaid').length === 2, 15_000);
    expect(app.calls('markOrderPaid').map((c) => c.args)).toEqual([
      ['L-1-qr', '100000'],
      ['L-2-qr', '250000'],
    ]);

    // SIGTERM: the server closes, then the source; the process exits by itself.
    expect(await app.stop(8_000)).toEqual({ code: 0, signal: null });
  }, 40_000);
});

describe('redis-store examples', () => {
  const fixtures = createNewpayFixtures({ keys: generateTestKeyPair(), appId: '1001' });
  const env = {
    NEWPAY_PLATFORM_PUBLIC_KEY: fixtures.providerOptions.platformPublicKey,
    NEWPAY_APP_ID: fixtures.appId,
    REDIS_URL: 'redis://127.0.0.1:6379',
  };
  const admin = new Redis(env.REDIS_URL, { lazyConnect: true });
  const cleanup: string[] = [];
  afterAll(async () => {
    if (cleanup.length > 0) await admin.del(...cleanup);
    await admin.quit().catch(() => undefined);
  });

  it('redis-store README: one dispatch per payment, remembered in Redis', async () => {
    const app = await start('redis-app.ts', env);
    const order = `RS-${process.pid}-${Date.now()}`;
    const delivery = fixtures.paymentCallback({ orderNo: order });
    expect(await post(`${app.url}/webhooks/newpay`, delivery)).toMatchObject({
      status: 200,
      body: NEWPAY_ACK,
    });
    const [call] = app.calls('db.orders.markPaid');
    const eventId = (call!.args[2] as { eventId: string }).eventId;
    expect(eventId).toMatch(/^newpay:\d{18}:completed$/);
    const transactionId = eventId.split(':')[1]!;
    cleanup.push(`payhook:shop-1:${eventId}`, `payhook:shop-1:#completed:newpay:${transactionId}`);
    // Another instance (or a retry) delivering it again: acknowledged, not dispatched.
    const again = fixtures.paymentCallback({ orderNo: order });
    expect(await post(`${app.url}/webhooks/newpay`, again)).toMatchObject({ status: 200 });
    expect(app.calls('db.orders.markPaid')).toHaveLength(1);
    expect(await admin.mget(...cleanup)).toEqual(['done', 'done']);
    expect(await app.stop()).toEqual({ code: 0, signal: null });
  });

  it('redis-store README: an unreachable Redis fails the boot', async () => {
    const closed = await freePort();
    const app = await startExample(
      'redis-app.ts',
      { ...env, REDIS_URL: `redis://127.0.0.1:${closed}` },
      { waitForPort: false },
    );
    running.push(app);
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toContain('@payhook/redis-store');
  }, 20_000);

  it('core README: an awaited order, paid with no webhook, is settled by the status query', async () => {
    const fixtures = createGatewayFixtures();
    const apis = await startStatusApis(fixtures);
    try {
      const mod = loadWithEnv<typeof import('./examples/core-awaited')>('./examples/core-awaited', {
        CASHY_MERCHANT_ID: fixtures.cashy.merchantId,
        CASHY_API_KEY: fixtures.cashy.apiKey,
        CASHY_API_URL: apis.providerOptions.cashy.statusQuery.baseUrl,
      });
      const paid: string[] = [];
      mod.hub.on('payment.completed', (e) => void paid.push(String(e.orderId)));
      expect((await mod.awaiting).state).toBe('awaiting');
      apis.pay('cashy', { orderId: 'C-3004', amount: '60.00' });
      const report = await mod.hub.sweep({ provider: 'cashy', all: true });
      const [entry] = await mod.hub.awaited.list();
      expect([report.recovered, paid, entry?.settledBy, mod.cancelled]).toEqual([
        1,
        ['C-3004'],
        'status-query',
        [],
      ]);
    } finally {
      await apis.close();
    }
  });

  it('redis-store README: awaited payments on Redis, shared and kept', async () => {
    const { awaited, hub, store } = loadWithEnv<typeof import('./examples/redis-awaited')>(
      './examples/redis-awaited',
      env,
    );
    try {
      await Promise.all([store.ready(), awaited.ready()]);
      expect(hub.awaited).toBe(awaited);
      const key = `readme-awaited-${process.pid}`;
      const entry = await awaited.add({
        key: `${key}:order:A-1`,
        provider: key,
        orderId: 'A-1',
        reference: null,
        until: Date.now() + 60_000,
        createdAt: Date.now(),
        nextCheckAt: Date.now(),
        allowOlderThanMaxAge: false,
      });
      expect(entry.state).toBe('awaiting');
      const settled = await awaited.settle(
        { provider: key, orderId: 'A-1', reference: null },
        { by: 'webhook', at: Date.now(), eventId: `${key}:e` },
      );
      expect(settled?.state).toBe('settled');
      await awaited.purge(Date.now() + 1);
    } finally {
      await hub.close();
      await store.close();
    }
  });

  it('redis-store README: a client you pass in is used and left open', async () => {
    const { client, store } = loadWithEnv<typeof import('./examples/redis-shared-client')>(
      './examples/redis-shared-client',
      env,
    );
    const key = `readme-shared-client:${process.pid}:${Date.now()}`;
    cleanup.push(`payhook:shop-1:${key}`);
    try {
      await store.ready();
      expect(store.client).toBe(client);
      const claim = await store.claim(key, 5_000);
      expect(claim.state).toBe('claimed');
      if (claim.state === 'claimed') await store.commit(key, claim.token, 5_000);
      expect(await client.get(`payhook:shop-1:${key}`)).toBe('done');
      await store.close();
      expect(client.status).toBe('ready');
    } finally {
      await client.quit();
    }
  });
});

/** Serves a middleware on an ephemeral port, as an app mounting it would. */
async function listenApp(middleware: express.RequestHandler | ((...args: never[]) => void)) {
  const app = express().use('/', middleware as express.RequestHandler);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Requires an example module with `env` set while it loads (the examples read it at the top). */
function loadWithEnv<T>(id: string, env: Record<string, string>): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let loaded: T | undefined;
    jest.isolateModules(() => {
      loaded = require(id) as T;
    });
    return loaded!;
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** A local stand-in for a gateway API: the handler gets the request, its body and a reply function. */
async function listen(
  handler: (
    req: IncomingMessage,
    body: string,
    reply: (status: number, body: string) => void,
  ) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      handler(req, Buffer.concat(chunks).toString('utf8'), (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

describe('inspector example', () => {
  it('records each delivery, shows it behind the login and counts it at /metrics', async () => {
    const fixtures = createCashyFixtures();
    const password = 'a-long-test-password';
    const app = await start('inspector-app.ts', {
      CASHY_MERCHANT_ID: fixtures.merchantId,
      CASHY_API_KEY: fixtures.apiKey,
      INSPECTOR_PASSWORD: password,
    });
    const hook = `${app.url}/webhooks/cashy`;
    expect(await post(hook, fixtures.payin({ mchOrderNo: 'I-1' }))).toMatchObject({ status: 200 });
    expect((await post(hook, forgeDelivery(fixtures.payin({ mchOrderNo: 'I-2' })))).status).toBe(
      401,
    );
    await waitFor('the listener', () => app.stdout().includes('paid I-1'));
    expect((await fetch(`${app.url}/payhook/`)).status).toBe(401);
    const authorization = `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;
    const page = await fetch(`${app.url}/payhook/`, { headers: { authorization } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<td class="order">I-1</td>');
    expect(html).toContain('ERR_SIGNATURE_INVALID');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain(
      'payhook_deliveries_total{provider="cashy",outcome="processed",code="none"} 1',
    );
    expect(metrics).toContain(
      'payhook_deliveries_total{provider="cashy",outcome="rejected",code="ERR_SIGNATURE_INVALID"} 1',
    );
  });
});

describe('postgres examples', () => {
  const fixtures = createNewpayFixtures({ keys: generateTestKeyPair(), appId: '1001' });
  const url = process.env.PAYHOOK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `payhook_t_readme_${process.pid}_${Date.now().toString(36)}`;
  // The example's unqualified `orders` table is found through the connection's search_path.
  const env = {
    NEWPAY_PLATFORM_PUBLIC_KEY: fixtures.providerOptions.platformPublicKey,
    NEWPAY_APP_ID: fixtures.appId,
    DATABASE_URL: `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    PAYHOOK_SCHEMA: schema,
  };
  const admin = new Pool({ connectionString: url, max: 2 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('postgres README: a missing migration fails the boot and names it', async () => {
    const app = await startExample('postgres-app.ts', env, { waitForPort: false });
    running.push(app);
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toContain('lacks migration 001_processed, 002_inbox, 003_watch_list');
  }, 20_000);

  it('postgres README: the UPDATE commits with the processed record, once per payment', async () => {
    await migrate(admin, { schema });
    await admin.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY, paid text)`);
    const order = `PG-${process.pid}`;
    await admin.query(`INSERT INTO "${schema}".orders (id) VALUES ($1)`, [order]);
    const app = await start('postgres-app.ts', env);
    for (let i = 0; i < 2; i++)
      expect(
        await post(`${app.url}/webhooks/newpay`, fixtures.paymentCallback({ orderNo: order })),
      ).toMatchObject({ status: 200, body: NEWPAY_ACK });
    const { rows } = await admin.query(`SELECT paid FROM "${schema}".orders WHERE id = $1`, [
      order,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].paid).toMatch(/^\d+(\.\d+)?$/);
    const processed = await admin.query(
      `SELECT key FROM "${schema}".processed WHERE key LIKE 'newpay:%:completed'`,
    );
    expect(processed.rowCount).toBe(1);
    expect(await app.stop()).toEqual({ code: 0, signal: null });
  }, 30_000);
});
