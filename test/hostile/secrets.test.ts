/**
 * Secrets: with a capturing, debug-level, pino-compatible logger on the hub (and on the Redis
 * store), every gateway is driven through its success and failure paths: genuine, duplicate,
 * forged, malformed, failing listener, failing store, status API down or unreachable, the
 * Lailaolab socket with a good and a wrong key. No key (private, public, apiKey, secretKey, HMAC
 * secret, Basic credentials) and no signature of a delivery may appear in any log line, any
 * reported or thrown error message (cause chain included), or any HTTP answer.
 */
import { createPaymentHub, createWebhookMiddleware, type IdempotencyStore } from '@payhook/core';
import { createCountingStore, recordHub, reportCounts } from '@payhook/core/testing';
import { createLailaolabSource } from '@payhook/lailaolab-socket';
import type { LailaolabSimulator } from '@payhook/testing';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { createPayinProvider } from '@payhook/payin';
import { createSignedParamProvider } from '@payhook/signed-param';
import { generateKeyPairSync } from 'node:crypto';
import {
  agent,
  captureLogger,
  CASHY_API_KEY,
  HTTP_GATEWAYS,
  keys,
  LAILAOLAB_SECRET,
  listen,
  pem,
  post,
  startGateway,
  startSimulator,
  TEST_SECRET,
  type Gateway,
  type Wire,
} from './support';
import { createTestProvider } from '@payhook/core/testing';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Every secret, and slices of every key, so that a partial leak is caught too. */
function secretNeedles(extra: string[]): string[] {
  const needles = [CASHY_API_KEY, LAILAOLAB_SECRET, TEST_SECRET, ...extra];
  needles.push(Buffer.from(LAILAOLAB_SECRET).toString('base64'));
  needles.push(encodeURIComponent(LAILAOLAB_SECRET));
  for (const key of [
    keys.signedParam.privateKey,
    keys.signedParam.publicKey,
    keys.newpay.privateKey,
    keys.newpay.publicKey,
    merchant.privateKey,
  ]) {
    const body = pem(key).replace(/-----[^-]+-----|\s/g, '');
    for (let i = 0; i + 32 <= body.length; i += 64) needles.push(body.slice(i, i + 32));
  }
  return needles;
}

/** Signatures of the deliveries sent: whole, and their first 24 characters. */
function signaturesOf(wire: Wire): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(wire.headers))
    if (/sign/i.test(name)) found.push(value);
  const text = Buffer.from(wire.body).toString('utf8');
  for (const m of text.matchAll(/"sign"\s*:\s*"([^"]{24,})"/g)) found.push(m[1]!);
  return found.flatMap((s) => [s, s.slice(0, 24)]);
}

const failingStore = (): IdempotencyStore => ({
  claim: () => Promise.reject(new Error(`connect ECONNREFUSED 127.0.0.1:6390`)),
  commit: () => Promise.resolve(),
  release: () => Promise.resolve(),
});

let sim: LailaolabSimulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
  agent.destroy();
});

it('no key, apiKey, secret or signature in any log line, error message or answer, on every path', async () => {
  const logger = captureLogger();
  const texts: string[] = [];
  const signatures: string[] = [];
  const errorMessages = (error: unknown): string => {
    const parts: string[] = [];
    for (
      let e = error as { message?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
      e;
      e = e.cause as typeof e
    ) {
      parts.push(String(e.message ?? e));
      for (const inner of e.errors ?? []) parts.push(errorMessages(inner));
    }
    return parts.join(' | ');
  };
  const send = async (gw: Gateway, wire: Wire): Promise<void> => {
    signatures.push(...signaturesOf(wire));
    const reply = await post(gw.url, wire);
    texts.push(reply.body);
  };
  const gateways: Gateway[] = [];
  let paths = 0;
  for (const name of HTTP_GATEWAYS) {
    for (const scenario of ['normal', 'listener-fails', 'store-fails'] as const) {
      const gw = await startGateway(name, {
        simulator: sim,
        logger,
        store: scenario === 'store-fails' ? failingStore() : undefined,
      });
      gateways.push(gw);
      if (scenario === 'listener-fails')
        gw.hub.onAny(() => {
          throw new Error('the order table is locked');
        });
      const genuine = gw.genuine(11);
      await send(gw, genuine); // success (or listener/store failure)
      await send(gw, genuine); // duplicate (or the retry again)
      if (scenario === 'normal') {
        const body = Buffer.from(genuine.body);
        const tampered = Buffer.from(body);
        let digit = tampered.length - 1;
        while (tampered[digit]! < 0x30 || tampered[digit]! > 0x39) digit--;
        tampered[digit] = tampered[digit] === 0x39 ? 0x30 : tampered[digit]! + 1;
        await send(gw, { body: tampered, headers: genuine.headers }); // forged
        await send(gw, { body: body.subarray(0, body.length - 3), headers: genuine.headers }); // malformed
        await send(gw, { body: '{"a":{"__proto__":{}}}', headers: genuine.headers }); // hostile
        paths += 3;
      }
      paths += 2;
      for (const error of gw.rec.errors) texts.push(errorMessages(error));
    }
  }
  // Lailaolab: the status API down, then a socket source with the right and a wrong key.
  sim.statusApiMode = 'down';
  const down = gateways.find((g) => g.name === 'lailaolab')!;
  await send(down, down.genuine(12));
  sim.statusApiMode = 'up';
  texts.push(...down.rec.errors.map(errorMessages));
  const socketHub = createPaymentHub({ logger });
  const socketRec = recordHub(socketHub);
  const good = createLailaolabSource(socketHub, {
    secretKey: LAILAOLAB_SECRET,
    statusQuery: { baseUrl: sim.apiBase },
    url: sim.socketBase,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
  } as Parameters<typeof createLailaolabSource>[1]);
  await socketRec.until((r) => r.sources.some((s) => s.channel === 'source.up'), 'source.up');
  const txn = sim.createTransaction({ amount: 5000 });
  sim.pay(txn.transactionId);
  await socketRec.until((r) => r.events.length === 1, 'the socket payment');
  await good.close();
  const wrong = createLailaolabSource(socketHub, {
    secretKey: `${LAILAOLAB_SECRET}-wrong`,
    statusQuery: { baseUrl: sim.apiBase },
    url: sim.socketBase,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
  } as Parameters<typeof createLailaolabSource>[1]);
  await socketRec
    .until(
      (r) =>
        r.sources.some(
          (s) =>
            s.channel === 'source.error' ||
            (s.channel === 'source.down' && /key|auth/i.test(String(s.status.detail))),
        ),
      'the refused socket',
      5_000,
    )
    .catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  await wrong.close();
  reportCounts(
    'socket reports',
    socketRec.sources.map((s) => `${s.channel}: ${s.status.detail ?? ''}`),
  );
  for (const s of socketRec.sources)
    texts.push(`${s.status.detail ?? ''} ${errorMessages(s.status.error)}`);
  texts.push(...socketRec.errors.map(errorMessages));
  paths += 4;

  // Status APIs that fail: unreachable, and answering garbage.
  const deadApi = await listen((_req, res) => {
    res.statusCode = 502;
    res.end('<html>bad gateway</html>');
  });
  const fetchers = [
    createPayinProvider({
      merchantId: '100001',
      apiKey: CASHY_API_KEY,
      statusQuery: { baseUrl: deadApi.url, timeoutMs: 500 },
    }),
    createPayinProvider({
      merchantId: '100001',
      apiKey: CASHY_API_KEY,
      statusQuery: { baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 },
    }),
    createSignedParamProvider({
      platformPublicKey: pem(keys.signedParam.publicKey),
      country: 'PH',
      statusQuery: {
        baseUrl: deadApi.url,
        appId: 'APP1',
        merchantPrivateKey: pem(merchant.privateKey),
        timeoutMs: 500,
      },
    }),
    createNewpayProvider({
      platformPublicKey: pem(keys.newpay.publicKey),
      appId: 6,
      statusQuery: {
        mchId: 'M1',
        merchantPrivateKey: pem(merchant.privateKey),
        baseUrl: deadApi.url,
        timeoutMs: 500,
      },
    } as Parameters<typeof createNewpayProvider>[0]),
  ];
  for (const provider of fetchers) {
    const error = await provider.fetchStatus!('ORDER-1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    texts.push(errorMessages(error));
    paths++;
  }
  await deadApi.close();
  // The core adapter with an unexpected failure (a store that throws synchronously).
  const brokenHub = createPaymentHub({
    logger,
    store: {
      ...createCountingStore(),
      claim: () => {
        throw new TypeError(`bad ${TEST_SECRET.length}`);
      },
    } as IdempotencyStore,
  });
  const broken = await listen(createWebhookMiddleware(brokenHub, createTestProvider()));
  const coreGateway = await startGateway('core');
  const coreWire = coreGateway.genuine(1);
  await coreGateway.close();
  texts.push((await post(broken.url, coreWire)).body);
  await broken.close();

  for (const gw of gateways) await gw.close();

  const haystack = [...logger.lines, ...texts];
  const needles = [...new Set([...secretNeedles([]), ...signatures])].filter((n) => n.length >= 8);
  const leaks = needles.flatMap((needle) =>
    haystack
      .filter((line) => line.includes(needle))
      .map((line) => `${needle.slice(0, 12)}… in: ${line.slice(0, 300)}`),
  );
  reportCounts(
    `${paths} paths, ${logger.lines.length} log lines (${['debug', 'info', 'warn', 'error'].map((l) => `${l} ${logger.lines.filter((x) => x.startsWith(l)).length}`).join(', ')}), ` +
      `${texts.length} answers and error messages, ${needles.length} needles, ${leaks.length} leaks`,
  );
  expect(logger.lines.some((l) => l.startsWith('debug'))).toBe(true);
  expect(logger.lines.some((l) => l.startsWith('error'))).toBe(true);
  expect(leaks).toEqual([]);
}, 30_000);
