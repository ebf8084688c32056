/**
 * Issue 22, item 6: "Redis with appendonly yes, two app instances, Redis SIGKILLed and restarted:
 * 7 payments of 1,000 ran twice in one of five runs". The scenario of redis-kill.test.ts, run
 * PAYHOOK_REDIS_AOF_RUNS times (skipped when unset) with every store call of both instances traced
 * and the AOF copied between the kill and the restart. Per run it prints the payments, listener
 * runs, payments run twice, ERR_COMMIT_FAILED, and the store writes Redis acknowledged before the
 * kill that its AOF did not hold; for each payment run twice, both instances' store calls on it.
 * PAYHOOK_REDIS_AOF_FSYNC=always runs the server with `appendfsync always` (default everysec);
 * PAYHOOK_REDIS_AOF_SLOW_FSYNC_MS=5000 makes the disk slow at the kill (support/slow-fsync.ts),
 * which makes the window happen in every run; PAYHOOK_REDIS_AOF_OUT=<file> also writes every
 * run's figures there as JSON.
 *
 *   PAYHOOK_REDIS_AOF_RUNS=20 PAYHOOK_TEST_REPORT=1 npx jest packages/redis-store/test/redis-kill-aof.test.ts
 */
import { writeFileSync } from 'node:fs';
import { reportCounts } from '@payhook/core/testing';
import { KILL_AT, PAYMENTS, runRedisKill, type KillRunOutcome } from './support/redis-kill-run';

const RUNS = Number(process.env.PAYHOOK_REDIS_AOF_RUNS ?? 0);
const FSYNC = process.env.PAYHOOK_REDIS_AOF_FSYNC === 'always' ? 'always' : 'everysec';
const SLOW_FSYNC_MS = Number(process.env.PAYHOOK_REDIS_AOF_SLOW_FSYNC_MS ?? 0) || undefined;
const maybe = RUNS > 0 ? it : it.skip;

const listenerRuns = (o: KillRunOutcome): number => [...o.runs.values()].reduce((x, y) => x + y, 0);

/** One line per run, then the store calls on each payment that ran twice. */
function describeRun(i: number, o: KillRunOutcome): string {
  const a = o.analysis!;
  const fsync = /aof_pending_bio_fsync:(\d+)/.exec(o.outage.persistenceBefore)?.[1];
  const lines = [
    `run ${i} (${o.label}): payments ${o.runs.size}/${PAYMENTS}, listener runs ${listenerRuns(o)}, ` +
      `doubled ${o.twice.length}, ERR_COMMIT_FAILED ${o.errorCounts.ERR_COMMIT_FAILED ?? 0}, ` +
      `lost ${o.lost}, lost claims ${o.lostClaims}, acknowledged writes before the kill ` +
      `${a.acknowledgedWrites}, not in the AOF ${a.acknowledgedNotInAof.length}, ` +
      `aof_pending_bio_fsync before the kill ${fsync}, down ${o.outage.restartedAt - o.outage.killedAt} ms, ` +
      `network errors ${o.gateway.networkErrors}, ${o.deliveryMs} ms`,
  ];
  if (a.acknowledgedNotInAof.length > 0)
    lines.push(`  not in the AOF: ${JSON.stringify(a.acknowledgedNotInAof.slice(0, 12))}`);
  for (const d of a.doubled) {
    lines.push(`  ${d.key}: AOF at the kill ${JSON.stringify(d.aof)}`);
    for (const e of d.trace)
      lines.push(
        `    ${e.t - o.outage.killedAt} ms ${e.instance} ${e.op} ${e.key} ${e.token ?? ''} ${e.result}`,
      );
  }
  return lines.join('\n');
}

function summary(outcomes: KillRunOutcome[]): Record<string, unknown> {
  const withDoubles = outcomes.filter((o) => o.twice.length > 0);
  const withLoss = outcomes.filter((o) => o.analysis!.acknowledgedNotInAof.length > 0);
  return {
    runs: outcomes.length,
    payments: outcomes.length * PAYMENTS,
    doubledPerRun: outcomes.map((o) => o.twice.length),
    runsWithDoubles: withDoubles.length,
    doubled: outcomes.reduce((n, o) => n + o.twice.length, 0),
    commitFailed: outcomes.reduce((n, o) => n + (o.errorCounts.ERR_COMMIT_FAILED ?? 0), 0),
    runsWithAcknowledgedWritesLost: withLoss.length,
    acknowledgedWritesLost: outcomes.reduce(
      (n, o) => n + o.analysis!.acknowledgedNotInAof.length,
      0,
    ),
  };
}

maybe(
  `appendonly yes (appendfsync ${FSYNC}), Redis SIGKILLed at payment ${KILL_AT} and restarted, ${RUNS} runs: every payment processed; runs twice counted`,
  async () => {
    const outcomes: KillRunOutcome[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const outcome = await runRedisKill({
        appendonly: true,
        appendfsync: FSYNC,
        trace: true,
        slowFsyncMs: SLOW_FSYNC_MS,
      });
      outcomes.push(outcome);
      reportCounts('Redis killed', describeRun(i, outcome));
      if (process.env.PAYHOOK_REDIS_AOF_OUT)
        writeFileSync(
          process.env.PAYHOOK_REDIS_AOF_OUT,
          JSON.stringify({ summary: summary(outcomes), runs: outcomes }, null, 1),
        );
    }
    reportCounts('Redis killed, all runs', JSON.stringify(summary(outcomes)));
    for (const o of outcomes) {
      expect(o.lost).toBe(0);
      expect(o.gateway.unacknowledged).toBe(0);
      expect(o.gateway.unexpected).toEqual([]);
    }
  },
  Math.max(1, RUNS) * 180_000,
);
