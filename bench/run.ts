import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoadBench, type LoadOptions, type LoadReport } from './load-bench';
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

const TARGETS: Record<string, { ratio: number; label: string }> = {
  'signed-param': { ratio: 0.9, label: 'RSA ≥ 0.90' },
  newpay: { ratio: 0.9, label: 'RSA ≥ 0.90' },
  payin: { ratio: 1.0, label: 'MD5 ≥ 1.00' },
  'payin-redis': { ratio: 0.8, label: 'Redis ≥ 0.80' },
};

function printLoad(load: LoadReport): Array<{ route: string; target: string; met: boolean }> {
  console.log(
    `\nLoad: autocannon, ${load.connections} connections, 127.0.0.1, ${load.rounds} interleaved rounds ` +
      `(${f0(load.amounts.rsa)} requests per RSA route, ${f0(load.amounts.other)} per other route per round; ` +
      `a warm-up round first). Medians of per-round values.`,
  );
  const octokit = load.routes.find((r) => r.route === 'octokit')!;
  const verdicts: Array<{ route: string; target: string; met: boolean }> = [];
  table(
    [
      'route',
      'body B',
      'req/s',
      'ratio',
      'p50 ms',
      'p99 ms',
      'p99 Δ',
      'target',
      'met',
      'server saw',
    ],
    load.routes.map((r) => {
      const t = TARGETS[r.route];
      let target = '';
      let met = '';
      if (t) {
        const ok =
          r.ratio! >= t.ratio && r.ratio! > octokit.ratio! && r.p99Delta! <= 5 && r.non2xx === 0;
        target = `${t.label}, > octokit, p99 Δ ≤ 5`;
        met = ok ? 'yes' : 'NO';
        verdicts.push({ route: r.route, target, met: ok });
      }
      const seen = Object.entries(r.server)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return [
        r.route,
        String(r.bodyBytes),
        f0(r.rps),
        r.ratio === null ? '1.00' : f2(r.ratio),
        f1(r.p50),
        f1(r.p99),
        r.p99Delta === null ? '' : (r.p99Delta >= 0 ? '+' : '') + f1(r.p99Delta),
        target,
        met,
        `${seen} (sent ${r.answeredWithWarmup}${r.non2xx + r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''})`,
      ];
    }),
  );
  console.log(
    `  RSA deliveries signed before the run: ${f0(load.signing.rsaDeliveries)} in ${f1(load.signing.seconds)} s; ` +
      `Redis keys removed afterwards: ${load.redisKeysRemoved}`,
  );
  return verdicts;
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

  let verdicts: Array<{ route: string; target: string; met: boolean }> = [];
  if (wants('load')) {
    console.log('\n[load]');
    const load = await runLoadBench({ ...settings.load, log } satisfies LoadOptions);
    results.load = load;
    verdicts = printLoad(load);
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
      ]),
    );
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
      target: 'store keys ≤ max; recent replays duplicate',
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
      target: 'zero lost, zero duplicated',
      met: report.lost === 0 && report.duplicated === 0,
    });
  }

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
