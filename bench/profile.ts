/**
 * CPU profile of one teardown run on the bench capture, summarized by self time.
 *
 *   node --import tsx bench/profile.ts [--packets 3.5M | --file FILE] [--top 10] [--text] [--threads N] [--inproc] [--no-json] [--dir DIR]
 *
 * Default: the built CLI, `node --cpu-prof bin/teardown.js analyze FILE --json --threads 1 > /dev/null` (`--text`: the text
 * report; `--threads N`: N analysis threads, every thread's profile summarized, busiest first). A run that exits non-zero is still summarized (the profile shows where it went). `--inproc`: analyzeFile()
 * only (bench/inproc.ts, from src via tsx; add --no-json to leave out the serialization). The .cpuprofile files stay in
 * a new directory under the system's temporary directory, or in `--dir DIR` (empty or new), printed with the summary
 * (open them in Chrome DevTools → Performance, or speedscope).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.js';
import { ROOT, ensureCapture, parseCount } from './make-capture.js';
import type { MakeOptions } from './make-capture.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface SelfTime {
  name: string;
  where: string;
  ms: number;
  pct: number;
}

function where(url: string, line: number): string {
  if (url === '') return '';
  let p = url;
  if (p.startsWith('file://')) { try { p = fileURLToPath(p); } catch { /* keep */ } }
  if (p.startsWith(ROOT)) p = relative(ROOT, p);
  return `${p}:${line + 1}`;
}

/** Self time per function (name + location) and per file, largest first. */
function summarize(prof: CpuProfile): { total: number; functions: SelfTime[]; files: SelfTime[] } {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample; it is charged to sample i, as DevTools does.
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, prof.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const fn = new Map<string, SelfTime>();
  const files = new Map<string, SelfTime>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    total += us;
    let name = n.callFrame.functionName || '(anonymous)';
    let w = where(n.callFrame.url, n.callFrame.lineNumber);
    // A native frame without a location (a builtin): name it by its nearest caller that has one.
    if (w === '' && !/^\((garbage collector|idle|program|root)\)$/.test(name)) {
      let q = parent.get(n.id);
      while (q !== undefined && q.callFrame.url === '') q = parent.get(q.id);
      if (q !== undefined) {
        name = `${name} ← ${q.callFrame.functionName || '(anonymous)'}`;
        w = where(q.callFrame.url, q.callFrame.lineNumber);
      }
    }
    const key = `${name}@${w}`;
    const e = fn.get(key) ?? { name, where: w, ms: 0, pct: 0 };
    e.ms += us / 1000;
    fn.set(key, e);
    const file = w === '' ? name : w.replace(/:\d+$/, '');
    const f = files.get(file) ?? { name: file, where: '', ms: 0, pct: 0 };
    f.ms += us / 1000;
    files.set(file, f);
  }
  const done = (m: Map<string, SelfTime>): SelfTime[] =>
    [...m.values()].map((e) => ({ ...e, pct: (100 * e.ms * 1000) / total })).sort((a, b) => b.ms - a.ms);
  return { total: total / 1000, functions: done(fn), files: done(files) };
}

function main(): void {
  const { values } = benchArgs('node --import tsx bench/profile.ts [--packets 3.5M | --file FILE] [--top 10] [--text] [--threads N] [--inproc] [--no-json] [--dir DIR]', {
    options: {
      packets: { type: 'string' }, file: { type: 'string' }, top: { type: 'string' },
      inproc: { type: 'boolean' }, 'no-json': { type: 'boolean' }, text: { type: 'boolean' }, threads: { type: 'string' }, dir: { type: 'string' },
    },
  });
  const top = Number(values.top ?? 10);
  const log = (l: string): void => { process.stderr.write(`${l}\n`); };
  let file = values.file;
  if (file === undefined) {
    const o: Partial<MakeOptions> = { log };
    if (values.packets !== undefined) o.packets = parseCount(values.packets);
    file = ensureCapture(o).path;
  }
  // A directory of its own per run: bench/data may be shared by several checkouts, and profiles of another run
  // must neither be read nor deleted here.
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'teardown-prof-'));
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).some((f) => f.endsWith('.cpuprofile'))) throw new Error(`${dir} already holds .cpuprofile files: name an empty directory`);
  const args = values.inproc
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', 'bench/inproc.ts', file, ...(values['no-json'] ? [] : ['--json'])]
    // One thread: the whole analysis in the profiled thread (with workers each thread writes its own profile).
    : ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'bin/teardown.js', 'analyze', file, values.text ? '--text' : '--json', '--threads', values.threads ?? '1'];
  log(`profile: node ${args.join(' ')} > /dev/null`);
  const devnull = openSync('/dev/null', 'w');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', values.inproc ? 'inherit' : devnull, 'inherit'] });
  closeSync(devnull);
  if (r.status !== 0) log(`profile: warning: the profiled run exited ${r.status ?? r.signal}`);
  const wall = (Date.now() - t0) / 1000;
  const profs = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  // One profile per thread (tsx's loader hooks and the launcher run on their own threads): the busiest, or with
  // --threads every busy one.
  const busy = (x: ReturnType<typeof summarize>): number => x.total - (x.functions.find((f) => f.name === '(idle)')?.ms ?? 0);
  const all = profs.map((p) => ({ path: p, s: summarize(JSON.parse(readFileSync(p, 'utf8')) as CpuProfile) })).sort((a, b) => busy(b.s) - busy(a.s));
  if (all.length === 0) throw new Error('no .cpuprofile written');
  const shown = values.threads === undefined ? all.slice(0, 1) : all.filter((x) => busy(x.s) > 1000);
  const line = (e: SelfTime, i: number): string =>
    `${String(i + 1).padStart(3)}. ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}${e.where ? `  ${e.where}` : ''}`;
  for (const { path, s } of shown) {
    process.stdout.write([
      `profile: ${path} (${s.total.toFixed(0)} ms sampled, ${(busy(s) / 1000).toFixed(1)} s busy, ${wall.toFixed(1)} s wall with the profiler on, exit ${r.status ?? r.signal})`,
      '', `top ${top} functions by self time:`, ...s.functions.slice(0, top).map(line),
      '', `top ${top} files by self time:`, ...s.files.slice(0, top).map(line), '',
    ].join('\n'));
  }
}

main();
