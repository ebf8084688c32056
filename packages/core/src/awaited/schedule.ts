import type { SweepSchedule } from '../provider';

/**
 * The wait before the next status query, after `checks` queries: `firstCheckMs` doubled per query
 * up to `maxIntervalMs`, then jittered down by up to half ("equal jitter"), so that payments awaited
 * together (a sale, a restart) do not all ask again in the same second. `random` is in [0, 1).
 */
export function nextCheckDelay(schedule: SweepSchedule, checks: number, random: number): number {
  const doubled = schedule.firstCheckMs * 2 ** Math.min(checks, 30);
  const ceiling = Math.min(schedule.maxIntervalMs, doubled);
  return Math.ceil(ceiling / 2 + (ceiling / 2) * random);
}
