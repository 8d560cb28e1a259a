/**
 * Where the heap goes during `analyze --json` (one thread): heap and RSS every 256 k frames, and at frame AT the
 * flow table's parts released one after another (after a full GC each), the heap drop naming what each held.
 *
 *   node --max-old-space-size=1536 --expose-gc --import tsx bench/memory-probe.ts FILE [AT]
 */
import { openCapture } from '../src/capture/open.js';
import { streamAnalysis } from '../src/analyze/stream.js';
import { ReportSpool } from '../src/analyze/spool.js';
import type { AnalysisSession } from '../src/analyze/session.js';

const file = process.argv[2] as string;
const at = Number(process.argv[3] ?? 0);
const gc = (globalThis as { gc?: () => void }).gc as () => void;
const mib = (n: number) => (n / 2 ** 20).toFixed(1);
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };

function attribute(s: AnalysisSession): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const table = (s as any).table;
  const entries: any[] = [];
  let parked = 0;
  // Tuples by slot: an object each, but for the parked ones (asleep in the cold store, no object: src/tcp/flow-table.ts).
  for (const slot of table.slots()) { const e = table.objs[slot]; if (e) entries.push(e); else parked++; }
  let cur = 0, ret = 0, tomb = 0, asleep = 0, asleepBytes = 0;
  for (const e of entries) {
    if (e.current) cur++;
    if (e.asleep !== null) { asleep++; if (typeof e.asleep === 'string') asleepBytes += e.asleep.length; }
    if (e.retired !== -1) ret++;
    if (e.tomb !== -1) tomb++;
  }
  console.log(`tuples ${entries.length + parked}: open connections ${cur} + ${asleep} asleep (${asleepBytes} bytes frozen on the heap) + ${parked} parked, judged at rest ${ret}, tombstones ${tomb}; outside the heap: frozen records ${table.restingBytes} bytes, tuple rows ${table.tupleBytes} bytes`);
  const steps: [string, () => void][] = [
    ['open connections', () => { for (const e of entries) e.current = null; }],
    ['open connections asleep (frozen)', () => { for (const e of entries) e.asleep = null; }],
    ['report spool (runs in memory, links)', () => { const sp = (s as any).spool; for (const k of Object.keys(sp)) if (typeof sp[k] === 'object') sp[k] = null; }],
    ['syn-flood tracker', () => { (s as any).floods = null; }],
    ['deadline heaps', () => { table.timers = null; (s as any).clock = null; }],
    ['tuples (objects, hash buckets)', () => { entries.length = 0; table.buckets.clear(); table.objs.length = 0; table.lastEntry = null; }],
  ];
  let h = heap();
  console.log(`heap at frame ${at}: ${mib(h)} MiB, rss ${mib(process.memoryUsage().rss)} MiB`);
  for (const [name, f] of steps) {
    f();
    const h2 = heap();
    console.log(`${name.padEnd(36)} ${mib(h - h2).padStart(8)} MiB`);
    h = h2;
  }
  console.log(`remaining heap ${mib(h)} MiB`);
  process.exit(0);
}

const source = await openCapture(file);
const spool = new ReportSpool({ json: true, ladders: 'findings' });
let n = 0;
let peakHeap = 0;
const { session } = await streamAnalysis(source, {
  spool, packetTickSeconds: null, memoryGuard: null,
  sink: {
    progress: (s) => {
      n += 0x4000;
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      if ((n & 0x3ffff) === 0) console.log(`frame ${n} heapUsed ${mib(m.heapUsed)} rss ${mib(m.rss)} held ${JSON.stringify(s.held)}`);
      if (at > 0 && n >= at) attribute(s);
    },
  },
});
console.log(`end: peak heapUsed ${mib(peakHeap)} MiB, maxRSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB, held ${JSON.stringify(session.held)}`);
