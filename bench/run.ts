/**
 * `npm run bench`: teardown against tshark and tcptrace on one large generated capture (bench/README.md).
 *
 *   npm run bench -- [--packets 3.5M] [--file FILE] [--runs 3] [--warmup 1] [--timeout 600] [--only a,b] [--no-build]
 *
 * Every measured command is a fresh child process: wall time from spawn to exit, peak RSS from
 * `/usr/bin/time -f '%e %M'` (else the child's VmHWM polled from /proc). The in-process row is a child that times
 * analyzeFile() alone (bench/inproc.ts). Results: a table on stdout and bench/data/results.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { benchArgs } from './args.js';
import type { InprocResult } from './inproc.js';
import { DATA_DIR, ROOT, ensureCapture, parseCount } from './make-capture.js';
import type { CaptureMeta, MakeOptions } from './make-capture.js';
import { makeHostile } from './make-hostile.js';

const TIME = '/usr/bin/time';
/** argus writes its flow records here (overwritten every run). */
const ARGUS_OUT = join(DATA_DIR, 'out.argus');

interface Cmd {
  id: string;
  tool: 'teardown' | 'tshark' | 'tcptrace' | 'argus';
  what: string;
  exe: string;
  args: string[];
  /** stdout is parsed (in-process row) instead of going to /dev/null. */
  capture?: boolean;
}

interface Run {
  wallS: number;
  /** For the in-process row: analyzeFile() time; otherwise equal to wallS. */
  measuredS: number;
  /** User + system CPU seconds (of analyzeFile() for the in-process row); null without /usr/bin/time. */
  cpuS: number | null;
  /** 1-minute load average when the run started (others' jobs on the machine skew wall times). */
  load1: number;
  peakRssKiB: number | null;
  exit: number | null;
  signal: string | null;
  timedOut: boolean;
  stderrTail: string;
  inproc?: InprocResult;
}

interface CmdResult {
  id: string;
  tool: string;
  what: string;
  command: string;
  skipped: string | null;
  failed: string | null;
  warmup: Run[];
  runs: Run[];
  medianS: number | null;
  bestS: number | null;
  cpuMedianS: number | null;
  packetsPerSec: number | null;
  peakRssMiB: number | null;
}

function which(exe: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${exe}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Running as user'))?.trim() ?? '?';
}

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newestMtime(p));
    else if (/\.tsx?$/.test(e.name)) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** Builds dist/ when it is missing or older than src/. Returns a note for the results (or null when fresh). */
function ensureBuild(skip: boolean, log: (l: string) => void): string | null {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  const stale = !existsSync(main) || statSync(main).mtimeMs < newestMtime(join(ROOT, 'src'));
  if (!stale) return null;
  if (skip) return existsSync(main) ? 'dist older than src (--no-build)' : 'no dist (--no-build)';
  log('bench: dist is missing or older than src: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status === 0) return null;
  // tsc still emits on type errors (others may be mid-edit): measure what was built, and say so.
  return existsSync(main) ? `npm run build exited ${r.status}: dist built from a src with type errors` : 'build failed';
}

/** Peak RSS of a running process from /proc (fallback when /usr/bin/time is absent). */
function pollHwm(pid: number, into: { kib: number }): NodeJS.Timeout {
  return setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m !== null) into.kib = Math.max(into.kib, Number(m[1]));
    } catch { /* exited */ }
  }, 50);
}

async function runOnce(c: Cmd, timeoutS: number, haveTime: boolean): Promise<Run> {
  const timeFile = join(tmpdir(), `teardown-bench-${process.pid}-${Date.now()}.time`);
  const [exe, args] = haveTime ? [TIME, ['-f', '%e %M %U %S', '-o', timeFile, c.exe, ...c.args]] : [c.exe, c.args];
  const devnull = openSync('/dev/null', 'w');
  const load1 = loadavg()[0] ?? 0;
  const started = process.hrtime.bigint();
  // Own process group, so a timeout kills the tool and not only /usr/bin/time.
  const child = spawn(exe, args, { cwd: ROOT, detached: true, stdio: ['ignore', c.capture ? 'pipe' : devnull, 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  const hwm = { kib: 0 };
  const poll = haveTime || child.pid === undefined ? null : pollHwm(child.pid, hwm);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeoutS * 1000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve([code, sig]));
  });
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  clearTimeout(timer);
  if (poll !== null) clearInterval(poll);
  closeSync(devnull);
  let peak: number | null = hwm.kib > 0 ? hwm.kib : null;
  let cpuS: number | null = null;
  if (haveTime && existsSync(timeFile)) {
    // The last line is "%e %M %U %S" (a line before it may say "Command exited with non-zero status N").
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(last.trim());
    if (m !== null) { peak = Number(m[2]); cpuS = Number(m[3]) + Number(m[4]); }
    rmSync(timeFile, { force: true });
  }
  const run: Run = {
    wallS, measuredS: wallS, cpuS, load1, peakRssKiB: peak, exit: code, signal, timedOut,
    stderrTail: err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Running as user')).slice(-6).join('\n'),
  };
  if (c.capture && code === 0) {
    const line = out.trim().split('\n').pop() ?? '';
    try {
      run.inproc = JSON.parse(line) as InprocResult;
      run.measuredS = run.inproc.analyzeMs / 1000;
      run.cpuS = run.inproc.cpuMs / 1000;
    } catch { run.stderrTail += `\nunparsable output: ${line.slice(0, 200)}`; }
  }
  return run;
}

function readSidecar(file: string): CaptureMeta | null {
  try {
    return JSON.parse(readFileSync(`${file}.json`, 'utf8')) as CaptureMeta;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A row that ran to completion. */
function byIdEarly(results: { id: string; runs: unknown[]; failed: string | null }[], id: string): boolean {
  return results.some((r) => r.id === id && r.runs.length > 0 && r.failed === null);
}

const fmtS = (s: number | null): string => (s === null ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1));
const fmtRate = (r: number | null): string => (r === null ? '—' : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);
const fmtMiB = (m: number | null): string => (m === null ? '—' : m.toFixed(0));

function pad(cells: string[][]): string {
  const w = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  const { values } = benchArgs(`npm run bench -- [--packets 3.5M] [--seed 1] [--file FILE] [--runs 3] [--warmup 1] [--timeout 600]
                        [--only teardown-cli,teardown-cli-t1,teardown-cli-text,teardown-cli-text-t1,teardown-inproc,tshark-conv,tshark-expert,tcptrace,argus]
                        [--syn-flood 2M] [--flat] [--no-build]
  --syn-flood N: also a flood of N SYNs (bench/make-hostile.ts flood, 100 k/s) for teardown, tcptrace and argus
  --flat: also teardown-cli on a capture 10× longer at the same rate (the flat-memory figure)`, {
    options: {
      packets: { type: 'string' }, file: { type: 'string' }, seed: { type: 'string' },
      runs: { type: 'string' }, warmup: { type: 'string' }, timeout: { type: 'string' },
      only: { type: 'string' }, 'no-build': { type: 'boolean' },
      'syn-flood': { type: 'string' }, flat: { type: 'boolean' },
    },
  });
  const runs = Math.max(1, Number(values.runs ?? 3));
  const warmup = Math.max(0, Number(values.warmup ?? 1));
  const timeoutS = Number(values.timeout ?? 600);
  const only = values.only?.split(',').map((s) => s.trim());
  const log = (l: string): void => { process.stderr.write(`${l}\n`); };

  let file: string;
  let meta: CaptureMeta | null = null;
  if (values.file !== undefined) {
    file = values.file;
  } else {
    const o: Partial<MakeOptions> = { log };
    if (values.packets !== undefined) o.packets = parseCount(values.packets);
    if (values.seed !== undefined) o.seed = Number(values.seed);
    const r = ensureCapture(o);
    file = r.path;
    meta = r.meta;
    log(`bench: capture ${relative(ROOT, file)}${r.reused ? ' (reused)' : ''}: ${meta.packets} packets, ${meta.connections} connections, `
      + `${(meta.bytes / 2 ** 20).toFixed(0)} MiB, ${meta.spanSeconds} s of traffic`);
  }
  const buildNote = ensureBuild(values['no-build'] === true, log);
  if (buildNote !== null) log(`bench: warning: ${buildNote}`);
  // What was built and measured (others commit to src/ while benches run).
  const git = (args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const srcDirty = git(['status', '--porcelain', '--', 'src']) !== '';
  const haveTime = existsSync(TIME);
  if (!haveTime) log(`bench: ${TIME} not found: peak RSS is VmHWM polled from /proc every 50 ms (approximate)`);

  const node = process.execPath;
  // The headline rows as a user runs them (--threads defaults to every core); --threads 1 next to them.
  const cores = cpus().length;
  const cmds: Cmd[] = [
    { id: 'teardown-cli', tool: 'teardown', what: `teardown analyze --json (built CLI, whole process, default --threads ${cores})`, exe: node, args: ['bin/teardown.js', 'analyze', file, '--json'] },
    { id: 'teardown-cli-text', tool: 'teardown', what: `teardown analyze --text (built CLI, whole process, default --threads ${cores})`, exe: node, args: ['bin/teardown.js', 'analyze', file, '--text'] },
    { id: 'teardown-inproc', tool: 'teardown', what: 'analyzeFile() in process, one thread, report streamed and folded (no start-up, no output)', exe: node, args: ['--import', 'tsx', 'bench/inproc.ts', file], capture: true },
    { id: 'tshark-conv', tool: 'tshark', what: 'tshark -q -z conv,tcp (one pass, conversation table)', exe: 'tshark', args: ['-r', file, '-q', '-z', 'conv,tcp'] },
    { id: 'tshark-expert', tool: 'tshark', what: 'tshark -q -z expert (one pass, TCP analysis, full tree)', exe: 'tshark', args: ['-r', file, '-q', '-z', 'expert'] },
    { id: 'tcptrace', tool: 'tcptrace', what: 'tcptrace -n -l (per-connection long stats)', exe: 'tcptrace', args: ['-n', '-l', file] },
    { id: 'argus', tool: 'argus', what: 'argus -r FILE -w OUT (flow records written)', exe: 'argus', args: ['-r', file, '-w', ARGUS_OUT] },
  ];
  // --threads 1 next to every core; the bench checks their JSON is the same.
  cmds.splice(1, 0, { id: 'teardown-cli-t1', tool: 'teardown', what: 'teardown analyze --json --threads 1 (one thread)', exe: node, args: ['bin/teardown.js', 'analyze', file, '--json', '--threads', '1'] });
  cmds.splice(3, 0, { id: 'teardown-cli-text-t1', tool: 'teardown', what: 'teardown analyze --text --threads 1 (one thread)', exe: node, args: ['bin/teardown.js', 'analyze', file, '--text', '--threads', '1'] });
  if (values['syn-flood'] !== undefined) {
    const flood = makeHostile({ kind: 'flood', syns: parseCount(values['syn-flood']), rate: 100_000 });
    cmds.push(
      { id: 'flood-teardown', tool: 'teardown', what: `SYN flood: teardown analyze --json (${relative(ROOT, flood)})`, exe: node, args: ['bin/teardown.js', 'analyze', flood, '--json'] },
      { id: 'flood-tcptrace', tool: 'tcptrace', what: 'SYN flood: tcptrace -n -l', exe: 'tcptrace', args: ['-n', '-l', flood] },
      { id: 'flood-argus', tool: 'argus', what: 'SYN flood: argus -r -w', exe: 'argus', args: ['-r', flood, '-w', ARGUS_OUT] },
    );
  }
  if (values.flat === true) {
    const long = ensureCapture({ log, packets: (meta?.packets ?? 3_500_000) * 10, ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}) });
    cmds.push({ id: 'flat-teardown', tool: 'teardown', what: `10× longer capture: teardown analyze --json (${relative(ROOT, long.path)})`, exe: node, args: ['bin/teardown.js', 'analyze', long.path, '--json'] });
  }
  const results: CmdResult[] = [];
  const active: [Cmd, CmdResult][] = [];
  for (const c of cmds) {
    const res: CmdResult = {
      id: c.id, tool: c.tool, what: c.what, command: [c.exe === node ? 'node' : c.exe, ...c.args].join(' '),
      skipped: null, failed: null, warmup: [], runs: [], medianS: null, bestS: null, cpuMedianS: null, packetsPerSec: null, peakRssMiB: null,
    };
    results.push(res);
    if (only !== undefined && !only.includes(c.id) && !only.includes(c.tool)) { res.skipped = 'not selected (--only)'; continue; }
    if (c.tool !== 'teardown' && c.tool !== 'argus' && which(c.exe) === null) {
      res.skipped = `${c.exe} is not installed (apt-get install ${c.exe})`;
      log(`bench: skipping ${c.id}: ${res.skipped}`);
      continue;
    }
    if (c.tool === 'argus' && which('argus') === null) { res.skipped = 'argus is not installed (apt-get install argus-server)'; continue; }
    if (c.tool === 'teardown' && c.id !== 'teardown-inproc' && buildNote === 'build failed') { res.skipped = 'no dist: build failed'; continue; }
    active.push([c, res]);
  }
  // Rounds: every command once per round, so a change in machine load hits all of them alike.
  for (let i = 0; i < warmup + runs; i++) {
    const isWarm = i < warmup;
    for (const [c, res] of active) {
      if (res.failed !== null) continue;
      log(`bench: ${c.id} ${isWarm ? `warm-up ${i + 1}/${warmup}` : `run ${i - warmup + 1}/${runs}`}…`);
      const r = await runOnce(c, timeoutS, haveTime);
      (isWarm ? res.warmup : res.runs).push(r);
      const rss = r.peakRssKiB === null ? '?' : `${(r.peakRssKiB / 1024).toFixed(0)} MiB`;
      log(`bench:   ${r.wallS.toFixed(2)} s${r.cpuS === null ? '' : ` (cpu ${r.cpuS.toFixed(2)} s)`}${r.inproc ? ` (analyzeFile ${r.measuredS.toFixed(2)} s)` : ''}, peak RSS ${rss}, exit ${r.exit ?? r.signal}, load ${r.load1.toFixed(1)}`);
      if (r.timedOut || r.exit !== 0) {
        const at = `after ${r.wallS.toFixed(1)} s${r.peakRssKiB === null ? '' : `, peak RSS ${(r.peakRssKiB / 1024).toFixed(0)} MiB`}`;
        res.failed = r.timedOut ? `killed after the ${timeoutS} s time bound` : `exit ${r.exit ?? r.signal} ${at}: ${r.stderrTail}`;
        log(`bench:   ${c.id} failed (not run again): ${res.failed}`);
      }
    }
  }
  // Packet count: the generator's sidecar, else what the in-process run counted.
  meta ??= readSidecar(file);
  const packets = meta?.packets ?? results.flatMap((r) => r.runs).find((r) => r.inproc !== undefined)?.inproc?.packets ?? null;
  for (const res of results) {
    if (res.failed !== null || res.runs.length === 0) continue;
    const ts = res.runs.map((r) => r.measuredS);
    res.medianS = median(ts);
    res.bestS = Math.min(...ts);
    const cs = res.runs.map((r) => r.cpuS).filter((x): x is number => x !== null);
    res.cpuMedianS = cs.length > 0 ? median(cs) : null;
    res.packetsPerSec = packets === null ? null : packets / res.medianS;
    const rs = res.runs.map((r) => r.peakRssKiB).filter((x): x is number => x !== null);
    res.peakRssMiB = rs.length > 0 ? median(rs) / 1024 : null;
  }

  // --threads 1 and the default (every core) must write the same bytes: compared by SHA-256 of the whole output.
  let identical: { same: boolean; t1: string; tn: string } | null = null;
  if (byIdEarly(results, 'teardown-cli') && byIdEarly(results, 'teardown-cli-t1')) {
    const sum = (extra: string[]) => spawnSync('sh', ['-c', `${JSON.stringify(node)} bin/teardown.js analyze ${JSON.stringify(file)} --json ${extra.join(' ')} | sha256sum`], { cwd: ROOT, encoding: 'utf8' }).stdout.split(' ')[0] ?? '';
    log('bench: comparing the JSON of --threads 1 and the default…');
    const t1 = sum(['--threads', '1']);
    const tn = sum(['--threads', String(cores)]);
    identical = { same: t1 === tn && t1.length === 64, t1, tn };
  }

  // ---- report
  const rows: string[][] = [['command', 'wall s (median)', 'best s', 'cpu s', 'packets/s', 'peak RSS MiB', 'what']];
  for (const r of results) {
    if (r.skipped !== null && r.skipped.startsWith('not selected')) continue;
    const status = r.skipped ?? (r.failed !== null ? `FAILED: ${r.failed.split('\n')[0]}` : r.what);
    rows.push([r.id, fmtS(r.medianS), fmtS(r.bestS), fmtS(r.cpuMedianS), fmtRate(r.packetsPerSec), fmtMiB(r.peakRssMiB), status]);
  }
  const byId = new Map(results.map((r) => [r.id, r]));
  // Ratios against the JSON run of the CLI; against the text run when the JSON one did not finish.
  const base = ['teardown-cli', 'teardown-cli-text'].map((id) => byId.get(id)).find((r) => r?.medianS != null);
  const ratios: Record<string, { wall: number; cpu: number | null; rss: number | null }> = {};
  const ratioLines: string[] = [];
  for (const id of ['tshark-conv', 'tshark-expert', 'tcptrace', 'argus', 'teardown-cli-t1']) {
    const r = byId.get(id);
    if (r === undefined || base === undefined || r.medianS === null || base.medianS === null) continue;
    const wall = r.medianS / base.medianS;
    const rss = r.peakRssMiB !== null && base.peakRssMiB !== null ? r.peakRssMiB / base.peakRssMiB : null;
    const cpu = r.cpuMedianS !== null && base.cpuMedianS !== null ? r.cpuMedianS / base.cpuMedianS : null;
    ratios[`${id}/${base.id}`] = { wall, cpu, rss };
    ratioLines.push(`  ${`${id} / ${base.id}`.padEnd(34)} wall ×${wall.toFixed(2)}${cpu === null ? '' : `   cpu ×${cpu.toFixed(2)}`}`
      + `${rss === null ? '' : `   peak RSS ×${rss.toFixed(2)}`}`);
  }
  if (identical !== null) {
    ratioLines.push(`  --threads 1 vs default JSON: ${identical.same ? 'byte-identical' : 'DIFFERENT'} (sha256 ${identical.t1.slice(0, 16)}…${identical.same ? '' : ` vs ${identical.tn.slice(0, 16)}…`})`);
  }
  const flat = byId.get('flat-teardown');
  const cli = byId.get('teardown-cli');
  if (flat?.peakRssMiB != null && cli?.peakRssMiB != null) {
    ratioLines.push(`  flat memory: peak RSS 10× longer capture ÷ bench capture ×${(flat.peakRssMiB / cli.peakRssMiB).toFixed(2)} (goal ≤ ×1.20)`);
  }
  const inproc = byId.get('teardown-inproc')?.runs.at(-1)?.inproc;
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const versions = {
    node: process.version,
    tshark: which('tshark') !== null ? firstLine('tshark', ['--version']) : null,
    tcptrace: which('tcptrace') !== null ? firstLine('tcptrace', ['-v']) : null,
  };
  const out: string[] = [];
  out.push('', `teardown bench — ${relative(ROOT, file) || file}${meta ? `: ${meta.packets} packets, ${meta.connections} connections, ${(meta.bytes / 2 ** 20).toFixed(0)} MiB` : ''}`);
  out.push(`machine: ${machine}; ${warmup} warm-up + ${runs} run(s) each, median shown; time bound ${timeoutS} s per run`);
  out.push(`teardown: ${commit}${srcDirty ? ' + uncommitted changes in src/' : ''}; ${versions.tshark ?? 'no tshark'}; ${versions.tcptrace ?? 'no tcptrace'}`);
  if (buildNote !== null) out.push(`note: ${buildNote}`);
  out.push('', pad(rows), '');
  if (ratioLines.length > 0 && base !== undefined) {
    out.push(`ratios (competitor ÷ ${base.id}, medians; > 1 means teardown is faster / smaller):`, ...ratioLines, '');
  }
  const loads = results.flatMap((r) => [...r.warmup, ...r.runs]).map((r) => r.load1);
  const maxLoad = loads.length > 0 ? Math.max(...loads) : 0;
  if (maxLoad > cpus().length) {
    out.push(`warning: the machine was busy (1-min load up to ${maxLoad.toFixed(1)} on ${cpus().length} CPUs at run starts): `
      + 'wall times are inflated; cpu s is the steadier comparison', '');
  }
  if (inproc !== undefined) {
    out.push(`in-process: ${inproc.packets} packets, ${inproc.connections} connections, ${inproc.findings} findings; `
      + `heap after analysis ${inproc.heapUsedMiB} MiB${inproc.captureError ? `; capture error: ${inproc.captureError}` : ''}`);
  }
  out.push(`results: ${relative(ROOT, join(DATA_DIR, 'results.json'))}`);
  process.stdout.write(`${out.join('\n')}\n`);

  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(join(DATA_DIR, 'results.json'), `${JSON.stringify({
    date: new Date().toISOString(), machine, versions, git: { commit, srcDirty }, file, capture: meta, runs, warmup, timeoutS, buildNote,
    peakRssSource: haveTime ? '/usr/bin/time %M' : '/proc VmHWM polled', results, ratios, identical,
  }, null, 2)}\n`);
}

await main();
