import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createPayhookMetrics, METRIC_NAMES } from '../src';

const README = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

/** The metrics table: `| \`name\` | type | labels | what |` rows, labels as written. */
function documentedMetrics(): Map<string, { type: string; labels: string[] }> {
  const rows = README.split('\n').filter((line) => /^\| `payhook_/.test(line));
  return new Map(
    rows.map((row) => {
      const [name, type, labels] = row
        .split('|')
        .slice(1, 4)
        .map((cell) => cell.trim());
      const names = [...labels!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
      return [name!.replace(/`/g, ''), { type: type!, labels: names }];
    }),
  );
}

describe('README metrics table', () => {
  it('lists exactly the metrics the registry has, with their types and labels', async () => {
    const metrics = createPayhookMetrics({
      providers: ['cashy'],
      queue: { stats: async () => ({ depth: 0, oldestPendingAgeMs: null, dead: 0 }) },
    });
    const documented = documentedMetrics();
    const registered = await metrics.registry.getMetricsAsJSON();
    expect([...documented.keys()].sort()).toEqual(registered.map((m) => m.name).sort());
    expect([...documented.keys()].sort()).toEqual([...METRIC_NAMES].sort());
    for (const metric of registered) {
      const single = metrics.registry.getSingleMetric(metric.name) as unknown as {
        labelNames?: string[];
      };
      expect([metric.name, documented.get(metric.name)]).toEqual([
        metric.name,
        { type: metric.type, labels: single.labelNames ?? [] },
      ]);
    }
  });

  it('shows both screenshots, which the browser test writes (PAYHOOK_SCREENSHOTS=1)', () => {
    for (const shot of ['docs/inspector-list.png', 'docs/inspector-delivery.png'])
      expect(README).toContain(`](${shot})`);
  });
});
