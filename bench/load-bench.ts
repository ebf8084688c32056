import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { createBenchKeys, ROUTES, type RouteName, type Wire } from './lib/deliveries';
const f2 = (n: number): string => n.toFixed(2);
import { runLoad, spareFor, startServer, type RunResult } from './lib/load';
import { createSignPool } from './lib/sign-pool';
import { median } from './lib/stats';

/**
 * Load: every route of one Express app side by side, in interleaved rounds (the order rotates each
 * round), each request a distinct, validly signed delivery signed before the run.
 */

export interface LoadOptions {
  rounds: number;
  /** Requests per route per round: RSA routes (signing is the limit) and the others. */
  amountRsa: number;
  amountOther: number;
  warmup: number;
  connections: number;
  maxSeconds: number;
  log: (line: string) => void;
}

export interface RouteSummary {
  route: RouteName;
  bodyBytes: number;
  /** Median over rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** Median of the per-round ratios to the baseline of the same round. */
  ratio: number | null;
  /** Median of the per-round p99 differences to the baseline, ms. */
  p99Delta: number | null;
  /** Median of the per-round ratios to the octokit peer of the same round (null for octokit). */
  vsOctokit: number | null;
  /** payin-postgres only: median of the per-round ratios to the same round's pg-baseline. */
  vsPgBaseline: number | null;
  requests: number;
  /** 2xx answers including the warm-up round: the server must have dispatched exactly this many. */
  answeredWithWarmup: number;
  non2xx: number;
  errors: number;
  /** What the server counted for this route over every round (dispatched, duplicate, error:...). */
  server: Record<string, number>;
}

export interface LoadReport {
  connections: number;
  rounds: number;
  amounts: { rsa: number; other: number; warmup: number };
  signing: { rsaDeliveries: number; seconds: number };
  runs: RunResult[][];
  routes: RouteSummary[];
  redisKeysRemoved: number;
  /** The PostgreSQL round trips per delivery of the two PostgreSQL routes (a counted pass). */
  pgRoundTrips: PgRoundTrips[];
}

export interface PgRoundTrips {
  route: 'payin-postgres' | 'pg-baseline';
  deliveries: number;
  /** Statements sent per delivery (each one a round trip). */
  perDelivery: number;
  /** Each distinct statement (whitespace collapsed) with how many times it was sent per delivery. */
  statements: Array<{ text: string; perDelivery: number }>;
}

const PG_ROUTES = ['payin-postgres', 'pg-baseline'] as const;
const isPgRoute = (route: RouteName): route is (typeof PG_ROUTES)[number] =>
  route === 'payin-postgres' || route === 'pg-baseline';
/** The order each Cashy delivery pays (`mchOrderNo`), for the PostgreSQL routes' seeded rows. */
const orderIdOf = (w: Wire): string => (JSON.parse(w.body) as { mchOrderNo: string }).mchOrderNo;

export async function runLoadBench(options: LoadOptions): Promise<LoadReport> {
  const { log, connections } = options;
  const { secrets, signedParamPublicKey, newpayPublicKey } = createBenchKeys();
  const runTag = Date.now().toString(36);
  const spare = spareFor(connections);
  const amountOf = (route: RouteName, warm: boolean): number =>
    (warm
      ? options.warmup
      : route === 'signed-param' || route === 'newpay'
        ? options.amountRsa
        : options.amountOther) + spare;

  const pool = createSignPool(secrets);
  // Every RSA delivery of the whole run is signed now, before the server starts.
  const started = Date.now();
  const rsa = new Map<string, Wire[]>();
  let rsaCount = 0;
  for (const route of ['signed-param', 'newpay'] as const) {
    for (let round = -1; round < options.rounds; round++) {
      const wires = await pool.make(route, `${runTag}r${round + 1}`, amountOf(route, round < 0));
      rsa.set(`${route}/${round}`, wires);
      rsaCount += wires.length;
    }
  }
  const signingSeconds = (Date.now() - started) / 1000;
  log(`signed ${rsaCount} RSA-2048 deliveries in ${signingSeconds.toFixed(1)} s (worker threads)`);

  const server = await startServer({
    signedParamPublicPem: signedParamPublicKey.export({ type: 'spki', format: 'pem' }) as string,
    newpayPublicPem: newpayPublicKey.export({ type: 'spki', format: 'pem' }) as string,
    newpayAppId: secrets.newpayAppId,
    payinMerchantId: secrets.payinMerchantId,
    payinApiKey: secrets.payinApiKey,
    octokitSecret: secrets.octokitSecret,
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: `payhook-bench:${runTag}:`,
    databaseUrl:
      process.env.PAYHOOK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    postgresSchema: `payhook_bench_${runTag.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`,
  });
  // On a machine with two or more cores, the server gets core 0 and this process (the load
  // generator) core 1, so neither steals the other's CPU and a route's ratio reflects the server's
  // own cost per request. Redis and the kernel still float.
  const pinned = pinCores(server.pid);
  if (pinned) log('pinned: bench server to CPU 0, load generator to CPU 1 (taskset)');
  const runs: RunResult[][] = [];
  const bodyBytes = new Map<RouteName, number>();
  /** 2xx answers per route including the warm-up, to check against what the server dispatched. */
  const answered = new Map<RouteName, number>();
  try {
    for (let round = -1; round < options.rounds; round++) {
      // Rotate the order so no route always runs first (cold) or last.
      const shift = (((round + 1) % ROUTES.length) + ROUTES.length) % ROUTES.length;
      const order = [...ROUTES.slice(shift), ...ROUTES.slice(0, shift)];
      const results: RunResult[] = [];
      for (const route of order) {
        const wires =
          rsa.get(`${route}/${round}`) ??
          (await pool.make(route, `${runTag}r${round + 1}`, amountOf(route, round < 0)));
        bodyBytes.set(route, Buffer.byteLength(wires[0]!.body));
        if (isPgRoute(route)) await server.seedOrders(route, wires.map(orderIdOf));
        const r = await runLoad(server.port, route, wires, connections, options.maxSeconds);
        rsa.delete(`${route}/${round}`);
        answered.set(route, (answered.get(route) ?? 0) + r.ok);
        if (round >= 0) results.push(r);
      }
      if (round < 0) {
        log('warm-up round done');
        continue;
      }
      runs.push(results);
      const base = results.find((r) => r.route === 'baseline')!;
      log(
        `round ${round + 1}: ` +
          results
            .map(
              (r) =>
                `${r.route} ${Math.round(r.rps)}/s (${(r.rps / base.rps).toFixed(2)}) p99 ${r.p99}`,
            )
            .join(', '),
      );
    }
    // The round trips: a pass of its own, one delivery at a time, so every statement the pool sent
    // between start and stop belongs to the route counted.
    const pgRoundTrips: PgRoundTrips[] = [];
    for (const route of PG_ROUTES) {
      const count = 50;
      const wires = await pool.make(route, `${runTag}count`, count);
      await server.seedOrders(route, wires.map(orderIdOf));
      await server.startCount();
      for (const w of wires) {
        const answer = await fetch(`http://127.0.0.1:${server.port}/${route}`, {
          method: 'POST',
          headers: w.headers,
          body: w.body,
        });
        await answer.text();
        if (answer.status !== 200)
          throw new Error(`${route}: counted pass answered ${answer.status}`);
        answered.set(route, (answered.get(route) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // anything written after the answer
      const statements = await server.stopCount();
      const total = statements.reduce((n, x) => n + x.n, 0);
      pgRoundTrips.push({
        route,
        deliveries: count,
        perDelivery: total / count,
        statements: statements.map((x) => ({ text: x.text, perDelivery: x.n / count })),
      });
      log(`${route}: ${f2(total / count)} PostgreSQL round trips per delivery`);
    }
    const counters = await server.counters();
    const routes = ROUTES.map((route): RouteSummary => {
      const mine = runs.map((round) => round.find((r) => r.route === route)!);
      const ratios = runs.map((round) => {
        const base = round.find((r) => r.route === 'baseline')!;
        const peer = round.find((r) => r.route === 'octokit')!;
        const pg = round.find((r) => r.route === 'pg-baseline')!;
        const r = round.find((x) => x.route === route)!;
        return {
          ratio: r.rps / base.rps,
          p99: r.p99 - base.p99,
          vsOctokit: r.rps / peer.rps,
          vsPg: r.rps / pg.rps,
        };
      });
      return {
        route,
        bodyBytes: bodyBytes.get(route)!,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        ratio: route === 'baseline' ? null : median(ratios.map((x) => x.ratio)),
        p99Delta: route === 'baseline' ? null : median(ratios.map((x) => x.p99)),
        vsOctokit: route === 'octokit' ? null : median(ratios.map((x) => x.vsOctokit)),
        vsPgBaseline: route === 'payin-postgres' ? median(ratios.map((x) => x.vsPg)) : null,
        requests: mine.reduce((n, r) => n + r.ok, 0),
        answeredWithWarmup: answered.get(route) ?? 0,
        non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
        errors: mine.reduce((n, r) => n + r.errors, 0),
        server: counters[route] ?? {},
      };
    });
    const { redisKeysRemoved } = await server.stop();
    return {
      connections,
      rounds: options.rounds,
      amounts: { rsa: options.amountRsa, other: options.amountOther, warmup: options.warmup },
      signing: { rsaDeliveries: rsaCount, seconds: signingSeconds },
      runs,
      routes,
      redisKeysRemoved,
      pgRoundTrips,
    };
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  } finally {
    await pool.close();
  }
}

function pinCores(serverPid: number): boolean {
  if (os.cpus().length < 2) return false;
  const server = spawnSync('taskset', ['-acp', '0', String(serverPid)], { stdio: 'ignore' });
  const self = spawnSync('taskset', ['-acp', '1', String(process.pid)], { stdio: 'ignore' });
  return server.status === 0 && self.status === 0;
}
