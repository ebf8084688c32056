import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoadBench, type LoadOptions, type LoadReport } from './load-bench';
import type { RouteName } from './lib/deliveries';
import type { MemoryOptions, MemoryReport } from './memory';
import type { MicroOptions, MicroRow } from './micro';
import type { SocketOptions, SocketReport } from './socket';

/**
 * `npm run bench` (add `-- --quick` for a short run, `-- --only load,micro` for some parts).
 * Prints a table per part and writes everything to bench/results/latest.json.
 */

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? new Set(
      (onlyArg.includes('=') ? onlyArg.split('=')[1]! : args[args.indexOf(onlyArg) + 1]!).split(
        ',',
      ),
    )
  : undefined;
const wants = (part: string): boolean => !only || only.has(part);

// By default every part measures the published JavaScript (packages/*/dist, built now), not the
// TypeScript sources through tsx: tsx's transpiled output adds per-call helpers of its own.
// `--source` measures the sources instead (no build).
if (!args.includes('--source')) {
  console.log('building the packages (npm run build): the bench measures packages/*/dist');
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) {
    console.error('npm run build failed; run it by hand to see why, or pass --source');
    process.exit(1);
  }
  // A tsconfig without `paths`: @payhook/* then resolves through node_modules to each dist.
  process.env.TSX_TSCONFIG_PATH = path.join(__dirname, 'tsconfig.dist.json');
}

const settings = {
  load: {
    rounds: quick ? 2 : 3,
    amountRsa: quick ? 3_000 : 12_000,
    amountOther: quick ? 4_000 : 15_000,
    warmup: quick ? 1_000 : 3_000,
    connections: 50,
    maxSeconds: 60,
  },
  micro: { count: quick ? 1_000 : 3_000, passes: quick ? 2 : 3 } satisfies MicroOptions,
  memory: { deliveries: quick ? 200_000 : 1_000_000 } satisfies MemoryOptions,
  socket: { messages: quick ? 5_000 : 20_000, timeoutSeconds: 60 } satisfies SocketOptions,
};

const log = (line: string): void => console.log(`  ${line}`);

/** Runs a part in its own process (`node --import tsx`), so no part's heap or JIT state leaks into another. */
function child<T>(file: string, options: unknown, extraArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = fork(path.join(__dirname, file), [JSON.stringify(options)], {
      execArgv: ['--import', 'tsx', ...extraArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: T | undefined;
    p.on('message', (m) => (result = m as T));
    p.on('exit', (code) =>
      result !== undefined ? resolve(result) : reject(new Error(`${file} exited with ${code}`)),
    );
  });
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

type Verdict = { route: string; target: string; figure: string; met: boolean };

/**
 * The targets of issue 24 (items 4 and 6). Load: ratios are medians of the per-round ratios, each
 * against the baseline, the octokit peer or pg-baseline measured in the same round. Micro: what
 * hub.receive costs beyond its floor (the crypto alone + JSON.parse alone), in µs; the RSA
 * gateways' bound includes their own sign-string work.
 */
const LOAD_TARGETS: Array<{
  route: RouteName;
  label: string;
  against: 'baseline' | 'octokit' | 'pg-baseline';
  min: number;
}> = [
  { route: 'test-gateway', label: 'test gateway (HMAC)', against: 'octokit', min: 1.0 },
  { route: 'payin', label: 'payin (MD5)', against: 'octokit', min: 0.95 },
  { route: 'payin-redis', label: 'payin + Redis store', against: 'baseline', min: 0.8 },
  { route: 'signed-param', label: 'signed-param (RSA-2048)', against: 'baseline', min: 0.85 },
  { route: 'newpay', label: 'newpay (RSA-2048)', against: 'baseline', min: 0.85 },
  { route: 'payin-postgres', label: 'payin + PostgreSQL', against: 'pg-baseline', min: 0.8 },
];
/** hub.receive − floor, µs, per gateway. */
const MICRO_TARGETS_US: Record<string, number> = {
  payin: 8,
  'test-gateway': 8,
  'signed-param': 15,
  newpay: 15,
};

function loadVerdicts(load: LoadReport): Verdict[] {
  return LOAD_TARGETS.map((t) => {
    const r = load.routes.find((x) => x.route === t.route)!;
    const peer = load.routes.find((x) => x.route === t.against);
    const figure =
      t.against === 'octokit'
        ? r.vsOctokit!
        : t.against === 'pg-baseline'
          ? r.vsPgBaseline!
          : r.ratio!;
    // The route and the route it is compared with must both have answered every request 2xx.
    const failed = r.non2xx + r.errors + (peer ? peer.non2xx + peer.errors : 0);
    return {
      route: t.route,
      target: `${t.label} ≥ ${f2(t.min)}× ${t.against}`,
      figure: `${f2(figure)}×${failed ? ` (${failed} non-2xx/errors)` : ''}`,
      met: figure >= t.min && failed === 0,
    };
  });
}

function microVerdicts(rows: MicroRow[]): Verdict[] {
  return rows
    .filter((r) => MICRO_TARGETS_US[r.gateway] !== undefined)
    .map((r) => {
      const bound = MICRO_TARGETS_US[r.gateway]!;
      return {
        route: `micro ${r.gateway}`,
        target: `${r.gateway} hub.receive − (crypto + JSON.parse) ≤ ${bound} µs`,
        figure: `${f1(r.receiveUs - r.floorUs)} µs`,
        met: r.receiveUs - r.floorUs <= bound,
      };
    });
}

function printVerdicts(verdicts: Verdict[]): void {
  if (verdicts.length === 0) return;
  console.log('\n[targets]');
  const width = Math.max(...verdicts.map((v) => v.target.length));
  for (const v of verdicts)
    console.log(
      `  ${v.target.padEnd(width)}  ${v.figure.padStart(10)}  ${v.met ? 'met' : 'not met'}`,
    );
}

function printLoad(load: LoadReport): void {
  console.log(
    `\nLoad: autocannon, ${load.connections} connections, 127.0.0.1, ${load.rounds} interleaved rounds ` +
      `(${f0(load.amounts.rsa)} requests per RSA route, ${f0(load.amounts.other)} per other route per round; ` +
      `a warm-up round first). Medians of per-round values; ratios against the same round's baseline and octokit.`,
  );
  table(
    [
      'route',
      'body B',
      'req/s',
      'ratio',
      'vs octokit',
      'vs pg-baseline',
      'p50 ms',
      'p99 ms',
      'p99 Δ',
      'server saw',
    ],
    load.routes.map((r) => {
      const seen = Object.entries(r.server)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return [
        r.route,
        String(r.bodyBytes),
        f0(r.rps),
        r.ratio === null ? '1.00' : f2(r.ratio),
        r.vsOctokit === null ? '1.00' : f2(r.vsOctokit),
        r.route === 'pg-baseline' ? '1.00' : r.vsPgBaseline === null ? '' : f2(r.vsPgBaseline),
        f1(r.p50),
        f1(r.p99),
        r.p99Delta === null ? '' : (r.p99Delta >= 0 ? '+' : '') + f1(r.p99Delta),
        `${seen} (sent ${r.answeredWithWarmup}${r.non2xx + r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''})`,
      ];
    }),
  );
  console.log(
    `  RSA deliveries signed before the run: ${f0(load.signing.rsaDeliveries)} in ${f1(load.signing.seconds)} s; ` +
      `Redis keys removed afterwards: ${load.redisKeysRemoved}`,
  );
  if (load.pgRoundTrips.length === 0) return;
  console.log(
    '\nPostgreSQL round trips per delivery (statements sent on the pool, counted over a separate ' +
      'pass of distinct deliveries sent one at a time):',
  );
  for (const rt of load.pgRoundTrips) {
    console.log(`  ${rt.route}: ${f2(rt.perDelivery)} per delivery (${rt.deliveries} deliveries)`);
    for (const st of rt.statements)
      console.log(
        `    ${f2(st.perDelivery).padStart(5)}  ${st.text.length > 110 ? `${st.text.slice(0, 107)}...` : st.text}`,
      );
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
  console.log(
    `payhook bench${quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}`,
  );
  if (machine.cores <= 2)
    console.log(
      '  note: server, load generator and kernel share these cores: ratios compare routes under the same contention',
    );
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    machine,
    settings,
  };

  const verdicts: Verdict[] = [];
  if (wants('load')) {
    console.log('\n[load]');
    const load = await runLoadBench({ ...settings.load, log } satisfies LoadOptions);
    results.load = load;
    printLoad(load);
    verdicts.push(...loadVerdicts(load));
  }
  if (wants('micro')) {
    console.log('\n[micro] hub.receive per delivery, in-process, µs (median of passes)');
    const { rows } = await child<{ rows: MicroRow[] }>('micro.ts', settings.micro);
    results.micro = rows;
    table(
      [
        'gateway',
        'crypto',
        'receive',
        'verify()',
        'crypto only',
        'JSON.parse',
        'floor',
        'receive − crypto',
        'receive − floor',
      ],
      rows.map((r) => [
        r.gateway,
        r.crypto,
        f1(r.receiveUs),
        f1(r.verifyUs),
        f1(r.cryptoUs),
        f1(r.jsonParseUs),
        f1(r.floorUs),
        f1(r.overheadUs),
        f1(r.receiveUs - r.floorUs),
      ]),
    );
    verdicts.push(...microVerdicts(rows));
  }
  if (wants('memory')) {
    console.log(
      `\n[memory] ${f0(settings.memory.deliveries)} distinct deliveries, default memory store`,
    );
    const { report } = await child<{ report: MemoryReport }>('memory.ts', settings.memory, [
      '--expose-gc',
    ]);
    results.memory = report;
    table(
      [
        'deliveries',
        'dispatched',
        'per s',
        'heap peak MB',
        'heap after GC MB (each tenth)',
        'rss peak MB',
        'store max',
        'keys held',
        'recent replays dup',
      ],
      [
        [
          f0(report.deliveries),
          f0(report.dispatched),
          f0(report.deliveriesPerSecond),
          f1(report.heapPeakMb),
          report.heapAfterGcMb.map(f1).join(' '),
          f1(report.rssPeakMb),
          f0(report.storeMax),
          f0(report.keysHeld),
          `${report.recentReplaysDuplicate}/1000`,
        ],
      ],
    );
    verdicts.push({
      route: 'memory',
      target: 'memory: store keys ≤ max; recent replays duplicate',
      figure: `${f0(report.keysHeld)} keys, ${report.recentReplaysDuplicate} dup`,
      met:
        report.keysHeld <= report.storeMax &&
        report.recentReplaysDuplicate === 1000 &&
        report.dispatched === report.deliveries,
    });
  }
  if (wants('socket')) {
    console.log('\n[socket] Lailaolab source ← local socket.io simulator (separate process)');
    const { report } = await child<{ report: SocketReport }>('socket.ts', settings.socket);
    results.socket = report;
    table(
      ['messages', 'received', 'lost', 'duplicated', 'seconds', 'messages/s'],
      [
        [
          f0(report.messages),
          f0(report.received),
          String(report.lost),
          String(report.duplicated),
          f2(report.seconds),
          f0(report.messagesPerSecond),
        ],
      ],
    );
    verdicts.push({
      route: 'socket',
      target: 'socket: zero lost, zero duplicated',
      figure: `${report.lost} lost, ${report.duplicated} dup`,
      met: report.lost === 0 && report.duplicated === 0,
    });
  }

  printVerdicts(verdicts);
  results.verdicts = verdicts;
  results.seconds = (Date.now() - started) / 1000;
  const out = path.join(__dirname, 'results', 'latest.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const missed = verdicts.filter((v) => !v.met);
  console.log(
    `\n${missed.length === 0 ? 'All targets met.' : `Targets missed: ${missed.map((v) => v.route).join(', ')}.`} ` +
      `Took ${f0(results.seconds as number)} s. Results: ${path.relative(process.cwd(), out)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
