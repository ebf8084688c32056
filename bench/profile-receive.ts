import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createPaymentHub, type AnyPaymentProvider, type Delivery } from '@payhook/core';
import { createSignedParamProvider } from '@payhook/signed-param';
import { createNewpayProvider } from '@payhook/newpay-callback';
import { createPayinProvider } from '@payhook/payin';
import { createTestProvider } from '@payhook/core/testing';
import { createBenchKeys, type RouteName } from './lib/deliveries';
import { createSignPool } from './lib/sign-pool';

/**
 * For profiling only: `hub.receive` of one gateway in a loop over distinct deliveries, profiled
 * through the inspector from the first receive to the last (signing and loading stay out):
 *
 *   TSX_TSCONFIG_PATH=bench/tsconfig.dist.json node --import tsx bench/profile-receive.ts \
 *     payin 20000 /tmp/payin.cpuprofile
 *   node --import tsx bench/profile-summary.ts /tmp/payin.cpuprofile 25
 */
async function main(): Promise<void> {
  const route = (process.argv[2] ?? 'payin') as RouteName;
  const count = Number(process.argv[3] ?? 20_000);
  const { secrets, signedParamPublicKey, newpayPublicKey } = createBenchKeys();
  const apiKey = secrets.payinApiKey;
  const providers: Partial<Record<RouteName, AnyPaymentProvider>> = {
    'signed-param': createSignedParamProvider({
      platformPublicKey: signedParamPublicKey,
      country: 'PH',
    }),
    newpay: createNewpayProvider({ platformPublicKey: newpayPublicKey, appId: 6 }),
    payin: createPayinProvider({ merchantId: '100001', apiKey }),
    'test-gateway': createTestProvider({ secret: secrets.octokitSecret }),
  };
  const provider = providers[route];
  if (!provider) throw new Error(`no provider for ${route}`);
  const pool = createSignPool(secrets);
  const wires = await pool.make(route, 'prof', count);
  await pool.close();
  const deliveries: Delivery[] = wires.map((w) => ({
    body: Buffer.from(w.body),
    headers: Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k.toLowerCase(), v])),
    transport: 'http',
    receivedAt: new Date(),
    method: 'POST',
    url: '/',
  }));
  const hub = createPaymentHub();
  let dispatched = 0;
  hub.onAny(async () => {
    dispatched++;
  });
  // A first tenth unprofiled, so the profile shows optimized code rather than the warm-up.
  const warm = Math.floor(deliveries.length / 10);
  for (const d of deliveries.slice(0, warm)) await hub.receive(provider, d);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const t = process.hrtime.bigint();
  for (const d of deliveries.slice(warm)) await hub.receive(provider, d);
  const us = Number(process.hrtime.bigint() - t) / 1000 / (deliveries.length - warm);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const out = process.argv[4] ?? `/tmp/receive-${route}.cpuprofile`;
  writeFileSync(out, JSON.stringify(profile));
  console.log(
    `${route}: ${dispatched}/${deliveries.length} dispatched, ${us.toFixed(1)} µs each while profiled; ${out}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
