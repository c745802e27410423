/**
 * Reads a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF=<dir> npm run bench) and prints where the
 * time went: self time per function and per package/source file.
 *   npx tsx tools/bench/profile.ts <file.cpuprofile> [top]
 */
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const url = n.callFrame.url;
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\//, '');
  fn.set(
    `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber}`,
    (fn.get(`${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber}`) ?? 0) + us,
  );
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  const key = m
    ? m[1]!
    : url.startsWith('node:')
      ? 'node:' + url.slice(5).split('/')[0]
      : url
        ? url.split('/').slice(-2).join('/')
        : n.callFrame.functionName;
  pkg.set(key, (pkg.get(key) ?? 0) + us);
}
const top = Number(topArg ?? 25);
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`,
    );
};
print('self time by function', fn);
print('self time by file or package', pkg);
