/**
 * What a socket outage costs: how long a dead link goes unnoticed (socket.io's heartbeat, measured
 * on a server of this test's own with short ping settings behind a TCP proxy that stops forwarding
 * without closing anything), and what becomes of a payment made during an outage for a
 * transaction nobody watched (the simulator's socket stopped and started again).
 */
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { reportCounts } from '@payhook/core/testing';
import { startLailaolabSimulator, type LailaolabSimulator } from '@payhook/testing';
import { createLailaolabSource, type LailaolabSource } from '../src';
import { SECRET, testHub } from './helpers';

/** A TCP proxy whose `blackhole()` drops every byte both ways and keeps the connections open. */
class BlackholeProxy {
  private server: Server | undefined;
  private dropping = false;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(from);
        from.on('error', () => undefined);
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
        from.on('data', (chunk: Buffer) => {
          if (!this.dropping) to.write(chunk);
        });
      }
    });
    this.server = server;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
  }

  blackhole(): void {
    this.dropping = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('a dead link', () => {
  // socket.io's defaults are pingInterval 25,000 ms and pingTimeout 20,000 ms (engine.io's server
  // options); the same mechanism at a hundredth of the scale.
  const PING_INTERVAL_MS = 250;
  const PING_TIMEOUT_MS = 200;
  let io: IoServer;
  let proxy: BlackholeProxy;
  let source: LailaolabSource | undefined;

  beforeEach(async () => {
    const http = createHttpServer();
    io = new IoServer(http, { pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    proxy = new BlackholeProxy((http.address() as AddressInfo).port);
    await proxy.start();
  });

  afterEach(async () => {
    await source?.close();
    await proxy.close();
    await io.close();
  });

  it('goes unnoticed until pingInterval + pingTimeout after the last ping: then source.down says "ping timeout"', async () => {
    const { hub, rec } = testHub();
    source = createLailaolabSource(hub, {
      secretKey: SECRET,
      url: `http://127.0.0.1:${proxy.port}/`,
      confirmByStatusQuery: false,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      // Polling would open new connections through the proxy; the websocket is one.
      socketOptions: { transports: ['websocket'] },
    });
    await rec.until((r) => r.up.length === 1, 'source.up');
    // Several heartbeats pass with the link alive: nothing is reported.
    await new Promise((r) => setTimeout(r, 3 * PING_INTERVAL_MS));
    expect(rec.down).toHaveLength(0);

    const cut = Date.now();
    proxy.blackhole();
    await rec.until((r) => r.down.length === 1, 'source.down');
    const unnoticedMs = Date.now() - cut;
    reportCounts('dead link unnoticed (ms)', {
      pingIntervalMs: PING_INTERVAL_MS,
      pingTimeoutMs: PING_TIMEOUT_MS,
      unnoticedMs,
    });
    expect(rec.down[0]!.detail).toMatch(/: ping timeout$/);
    // The client's timer runs from the last ping it received (0 to pingInterval before the cut).
    expect(unnoticedMs).toBeGreaterThanOrEqual(PING_TIMEOUT_MS - 20);
    expect(unnoticedMs).toBeLessThanOrEqual(PING_INTERVAL_MS + PING_TIMEOUT_MS + 150);
  });
});

describe('a payment of an unwatched transaction during an outage', () => {
  let sim: LailaolabSimulator;
  let source: LailaolabSource | undefined;
  beforeEach(async () => {
    sim = await startLailaolabSimulator({ secretKey: SECRET });
  });
  afterEach(async () => {
    await source?.close();
    await sim.close();
  });

  it('is lost to the socket and never swept; the watched ones paid in the same outage are recovered; asking the status API finds it', async () => {
    const t = testHub();
    source = createLailaolabSource(t.hub, {
      secretKey: SECRET,
      url: sim.socketBase,
      statusQuery: { baseUrl: sim.apiBase },
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    const { rec } = t;
    await rec.until((r) => r.up.length === 1, 'source.up');
    const watched = Array.from({ length: 10 }, (_, i) => `OUT-W-${i}`);
    const unwatched = Array.from({ length: 10 }, (_, i) => `OUT-U-${i}`);
    for (const id of [...watched, ...unwatched])
      sim.createTransaction({ transactionId: id, amount: 100 });
    for (const id of watched) expect(await source.watch(id)).toBe(true);

    await sim.stopSocket();
    await rec.until((r) => r.down.length === 1, 'source.down');
    for (const id of [...watched, ...unwatched]) sim.pay(id); // emitted to nobody
    await sim.startSocket();
    await rec.until((r) => r.up.length === 2, 'reconnected');
    await source.sweep(); // runs after the reconnect's own sweep
    const emitted = new Set(rec.events.map((e) => e.transactionId));
    const asked = new Set(sim.statusRequests.map((r) => r.transactionId));
    const counts = {
      watchedRecovered: watched.filter((id) => emitted.has(id)).length,
      unwatchedEmitted: unwatched.filter((id) => emitted.has(id)).length,
      unwatchedAskedAbout: unwatched.filter((id) => asked.has(id)).length,
      recoveredByReconcile: 0,
    };
    // The merchant's own recovery: ask about its open orders (hub.reconcile, as the sweeper does).
    for (const id of unwatched) {
      const result = await t.hub.reconcile(source.provider, id);
      if (result.outcome === 'processed') counts.recoveredByReconcile++;
    }
    reportCounts('unwatched transactions paid during a socket outage', counts);
    expect(counts).toEqual({
      watchedRecovered: 10,
      unwatchedEmitted: 0,
      unwatchedAskedAbout: 0,
      recoveredByReconcile: 10,
    });
    expect(rec.events).toHaveLength(20);
  });
});
