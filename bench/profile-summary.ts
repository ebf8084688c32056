import { readFileSync } from 'node:fs';

/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, top N.
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=25] [filter]`, where `filter`
 * keeps only samples whose stack contains a frame matching it (e.g. `receive` for hub.receive).
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, filter] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [top] [filter]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const short = (url: string): string =>
  url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules|bench)\//, '$1/') ||
  '(native)';
const label = (f: CallFrame): string =>
  `${f.functionName || '(anonymous)'} ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;

/** Whether a node's stack (itself and its callers) has a frame matching the filter. */
const matches = new Map<number, boolean>();
const inFilter = (id: number): boolean => {
  if (!filter) return true;
  const known = matches.get(id);
  if (known !== undefined) return known;
  const node = byId.get(id)!;
  const p = parent.get(id);
  const ok = label(node.callFrame).includes(filter) || (p !== undefined && inFilter(p));
  matches.set(id, ok);
  return ok;
};

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
let total = 0;
let kept = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const id = profile.samples[i]!;
  if (!inFilter(id)) continue;
  kept += dt;
  const f = byId.get(id)!.callFrame;
  const fn = label(f);
  selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + dt);
  const where = f.url ? short(f.url) : `(${f.functionName || 'native'})`;
  selfByFile.set(where, (selfByFile.get(where) ?? 0) + dt);
}

const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows)
    console.log(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / kept).toFixed(1).padStart(5)} %  ${name}`,
    );
};
console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled` +
    (filter ? `, ${(kept / 1000).toFixed(0)} ms under frames matching "${filter}"` : ''),
);
print('self time by function', selfByFn);
print('self time by file', selfByFile);

// Inclusive time (self + callees) by function: where each step's time goes, whatever it calls.
const inclusive = new Map<string, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  if (!inFilter(id)) continue;
  const seen = new Set<string>();
  for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
    const l = label(byId.get(p)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
}
inclusive.delete('(root) (native)');
print('inclusive time by function', inclusive);

// `CALLERS=name`: whose calls the self time of functions labelled `name...` comes from.
const callersOf = process.env.CALLERS;
if (callersOf) {
  const byCaller = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (!inFilter(id) || !label(byId.get(id)!.callFrame).startsWith(callersOf)) continue;
    const chain: string[] = [];
    for (let p = parent.get(id); p !== undefined && chain.length < 3; p = parent.get(p))
      chain.push(label(byId.get(p)!.callFrame));
    const key = chain.join(' < ');
    byCaller.set(key, (byCaller.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  print(`callers of ${callersOf}`, byCaller);
}
