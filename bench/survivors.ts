/**
 * What outlives the young generation during `analyze --json` (one thread, in process): V8's sampling heap profiler
 * over the whole analysis, keeping the samples of objects that survived a scavenge (promoted, whether a later full GC
 * freed them or not) and dropping those a scavenge freed. Prints the allocation sites by sampled bytes, each with its
 * two callers. What survives a scavenge is what a smaller young generation copies more often and what the old
 * generation's collections then mark and sweep (bench/README.md, "Young generation size").
 *
 *   node --max-old-space-size=1536 --import tsx bench/survivors.ts FILE [--top 30] [--all]
 *
 * `--all` keeps the objects scavenges freed too (everything allocated, sampled). Sizes are estimates from samples
 * every 16 KiB of allocation.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { analyzeFile } from '../src/analyze/analyze.js';
import { ReportSpool } from '../src/analyze/spool.js';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, all: { type: 'boolean', default: false } } });
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: node --max-old-space-size=1536 --import tsx bench/survivors.ts FILE [--top 30] [--all]\n');
  process.exit(2);
}

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: values.all,
});
const spool = new ReportSpool({ json: true, ladders: 'findings' });
const { report } = await analyzeFile(file, { spool });
const { profile } = await session.post('HeapProfiler.stopSampling') as { profile: { head: SamplingNode } };
spool.close();

const name = (n: SamplingNode): string => n.callFrame.functionName || '(anonymous)';
const bySite = new Map<string, number>();
const walk = (n: SamplingNode, callers: string[]): void => {
  if (n.selfSize > 0) {
    const cf = n.callFrame;
    // By function and file: through tsx the line numbers are not the source's.
    const site = `${name(n)} ${cf.url.replace(/^.*\/src\//, 'src/')}`;
    const key = `${site}  ← ${callers.slice(-2).reverse().join(' ← ')}`;
    bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, [...callers.slice(-2), name(n)]);
};
walk(profile.head, []);

const total = [...bySite.values()].reduce((a, b) => a + b, 0);
const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
const conns = report.summary.connections;
console.log(`${values.all ? 'allocated' : 'survived a scavenge'}: ${mib(total)} MiB sampled over ${report.capture.packets} packets, ${conns} connections (${Math.round(total / Math.max(conns, 1))} bytes per connection)`);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${mib(bytes).padStart(8)} MiB  ${site}`);
}
