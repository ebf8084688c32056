/**
 * One merchant process for the crash test, run with `node --import tsx`: the Cashy middleware on a
 * hub backed by the real Redis store. MODE=hang: the listener announces itself and never returns
 * (the parent kills the process there). MODE=ok: the listener records the dispatch and returns.
 * Environment: REDIS_URL, PREFIX, MODE. Prints one JSON line when it listens, then one line per
 * listener call.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPaymentHub } from '@payhook/core';
import { createPayinMiddleware } from '@payhook/payin';
import { createRedisStore } from '@payhook/redis-store';
import { CASHY_API_KEY, CASHY_MERCHANT } from './constants';

async function main(): Promise<void> {
  const store = createRedisStore({ url: process.env.REDIS_URL!, prefix: process.env.PREFIX! });
  await store.ready();
  const hub = createPaymentHub({ store, handlerTimeoutMs: 500, leaseMs: 1_500 });
  const mode = process.env.MODE;
  hub.onAny(async (event) => {
    process.stdout.write(JSON.stringify({ listener: event.id, pid: process.pid }) + '\n');
    if (mode === 'hang') await new Promise(() => undefined);
  });
  const middleware = createPayinMiddleware(hub, {
    merchantId: CASHY_MERCHANT,
    apiKey: CASHY_API_KEY,
    currency: 'IDR',
  });
  const server = createServer((req, res) => middleware(req, res));
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(
      JSON.stringify({
        ready: true,
        pid: process.pid,
        port,
        core: require.resolve('@payhook/core'),
      }) + '\n',
    );
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void store.close().then(() => process.exit(0)));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error) + '\n');
  process.exit(1);
});
