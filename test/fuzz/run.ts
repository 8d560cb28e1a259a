/**
 * Coverage-guided fuzzing with Jazzer.js (libFuzzer) over the targets in test/fuzz/targets/.
 *
 *   npm run fuzz -- --minutes 30                 # every target, 30 minutes each
 *   npm run fuzz -- --runs 1000000 --target analysis,pcap
 *   npm run fuzz -- --replay                     # only the seeds and the regression inputs, no mutation
 *
 * Options: --target a,b (pcap, pcapng, gzip, decode, analysis; default all), --minutes N or --runs N per target,
 * --max-len BYTES (default 4096), --seed N (libFuzzer seed, for reproducible bounded runs), --jobs N (targets
 * run at once, default 1), --quiet. Seeds: fixtures/*.pcap*, test/fuzz/seeds/, the regression inputs in
 * test/fuzz/regressions/<target>/ and, when present, tcpdump's test captures in ../shared/corpus/tcpdump-tests/
 * (or ../../shared/…). The corpus grows in test/fuzz/corpus/<target>/ and crashes land in test/fuzz/crashes/
 * (both gitignored); a crash is fixed, then its input is copied to test/fuzz/regressions/<target>/ where the
 * test suite replays it. Exit status: 0 when no target failed, 1 otherwise. The last line of each target is
 * `fuzz <target>: <N> executions in <S> s, <C> coverage features, <ok|CRASH …>`; each is also appended to
 * test/fuzz/corpus/campaigns.ndjson with the command and the commit (totals per target in test/fuzz/corpus/stats.json).
 * libFuzzer's own output goes to test/fuzz/corpus/<target>.log. `--runs` and `--minutes` together: whichever comes
 * first ends each target.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PcapParser } from '../../src/capture/pcap.js';
import type { CaptureParser } from '../../src/capture/pcap.js';
import { PcapngParser } from '../../src/capture/pcapng.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
export const TARGETS = ['pcap', 'pcapng', 'gzip', 'decode', 'analysis'] as const;
export type Target = (typeof TARGETS)[number];
/** Targets whose fuzz() returns a promise (Jazzer's async mode); the others run with --sync. */
const ASYNC: ReadonlySet<Target> = new Set(['gzip']);
const CORPUS = join(HERE, 'corpus');
const CRASHES = join(HERE, 'crashes');
export const REGRESSIONS = join(HERE, 'regressions');
const SEED_LIMIT = 64 * 1024;
/** Link type → the decode target's selector byte (see targets/decode.ts). */
const LINK_SELECTOR: Record<number, number> = { 1: 0, 113: 3, 276: 4, 0: 5, 108: 6, 101: 7, 12: 8, 14: 9, 228: 10, 229: 11 };

export interface RunResult { target: Target; executions: number; features: number; ok: boolean; detail: string; seconds: number }

/** tcpdump's test captures beside the repository, if this checkout has them. */
export function tcpdumpCorpus(): string | null {
  for (const up of ['..', join('..', '..')]) {
    const d = resolve(ROOT, up, 'shared', 'corpus', 'tcpdump-tests');
    if (existsSync(d)) return d;
  }
  return null;
}

function captureFiles(): string[] {
  const files: string[] = [];
  const add = (dir: string, all = false) => {
    if (!existsSync(dir)) return;
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      if (!(all || /\.(pcap|pcapng|cap|dmp)(\.gz)?$/i.test(n))) continue;
      if (statSync(p).isFile() && statSync(p).size <= SEED_LIMIT) files.push(p);
    }
  };
  add(join(ROOT, 'fixtures'));
  add(join(HERE, 'seeds'), true);
  const td = tcpdumpCorpus();
  if (td !== null) add(td, true);
  return files;
}

/** Frames of a capture as decode-target inputs (selector byte + frame bytes), at most `max` of them. */
function frameSeeds(data: Uint8Array, max: number): Buffer[] {
  const m = data.length >= 4 ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0 : 0;
  const p: CaptureParser = m === 0x0a0d0d0a ? new PcapngParser('seed') : new PcapParser('seed');
  const out: Buffer[] = [];
  p.push(data, (f) => {
    const sel = LINK_SELECTOR[f.linkType];
    if (sel === undefined || out.length >= max) return;
    out.push(Buffer.concat([Buffer.from([sel]), f.data.subarray(f.dataOffset, f.dataOffset + f.capLength)]));
  });
  return out;
}

/** A fresh seed directory for one target (inputs shaped for it). */
export function prepareSeeds(target: Target): string {
  const dir = join(CORPUS, `.seeds-${target}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let i = 0;
  for (const f of captureFiles()) {
    const data = readFileSync(f);
    const gz = data[0] === 0x1f && data[1] === 0x8b;
    if (target === 'decode') {
      if (gz) continue;
      for (const s of frameSeeds(data, 8)) writeFileSync(join(dir, `${i++}`), s);
    } else if (target === 'gzip') {
      writeFileSync(join(dir, `${i++}`), gz ? data : gzipSync(data, { level: 1 }));
    } else if (!gz) {
      writeFileSync(join(dir, `${i++}`), data);
    }
  }
  const reg = join(REGRESSIONS, target);
  if (existsSync(reg)) for (const n of readdirSync(reg)) writeFileSync(join(dir, `r-${n}`), readFileSync(join(reg, n)));
  return dir;
}

/** Make sure Jazzer.js's native addon loads on this machine (test/fuzz/jazzer-glibc.mjs). */
export function ensureJazzer(): void {
  const r = spawnSync(process.execPath, [join(HERE, 'jazzer-glibc.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Jazzer.js cannot run here: ${r.stderr.trim()}`);
}

export interface FuzzOptions {
  runs?: number; minutes?: number; maxLen?: number; seed?: number; replay?: boolean; quiet?: boolean;
  /** Where the corpus grows and the log goes (default test/fuzz/corpus/<target>, test/fuzz/corpus/<target>.log). */
  corpusDir?: string;
}

/**
 * What Jazzer instruments for coverage: the product (src/), not the harness (targets and invariant checks run on
 * every case all the same; their branches are not behaviour to explore). The targets running the whole analysis
 * leave out the output formatters too (src/report/): every case still builds the JSON, text and NDJSON outputs
 * and checks them, but their branches only follow the findings already counted as coverage (inputs differing in
 * formatting alone would crowd the corpus). Measured CPU per case did not change beyond noise either way.
 */
export function instrumentation(target: Target): string[] {
  return ['-i', '/src/', ...(target === 'analysis' || target === 'gzip' ? ['-e', '/src/report/'] : [])];
}

/** The last 20,000 bytes of a log file. */
function logTail(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 20000));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString();
  } finally {
    closeSync(fd);
  }
}

/** One target in a child process; resolves with its counts. */
export function fuzzTarget(target: Target, o: FuzzOptions): Promise<RunResult> {
  const seeds = prepareSeeds(target);
  const corpus = o.corpusDir ?? join(CORPUS, target);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(CRASHES, { recursive: true });
  const lf = [`-max_len=${o.maxLen ?? 4096}`, `-artifact_prefix=${CRASHES}/${target}-`, '-print_final_stats=1', '-rss_limit_mb=4096'];
  if (o.seed !== undefined) lf.push(`-seed=${o.seed}`);
  if (o.replay) lf.push('-runs=0');
  else if (o.runs !== undefined) lf.push(`-runs=${o.runs}`);
  if (o.minutes !== undefined) lf.push(`-max_total_time=${Math.round(o.minutes * 60)}`);
  const args = [
    '--import', 'tsx', join(ROOT, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    join(HERE, 'targets', target), ...(o.replay ? [] : [corpus]), seeds, '--timeout=60000', ...instrumentation(target),
    ...(ASYNC.has(target) ? [] : ['--sync']), '--', ...lf,
  ];
  const started = Date.now();
  return new Promise((res) => {
    const log = o.corpusDir === undefined ? join(CORPUS, `${target}.log`) : join(o.corpusDir, 'fuzz.log');
    writeFileSync(log, `${new Date().toISOString()} ${args.join(' ')}\n`);
    // Quiet (the tests): the child writes into the log file itself. Through pipes, on a loaded machine, a child that
    // exited 0 had lost its last lines, libFuzzer's final counts among them (test/fuzz/fuzz.test.ts beside two busy
    // loops: 2 runs of 3 failed so; none of 4 with the file), presumably libFuzzer's C writes on descriptors that
    // node makes non-blocking in the child. Shown as it runs (npm run fuzz): through pipes.
    const fd = o.quiet ? openSync(log, 'a') : null;
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: fd === null ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd] });
    if (fd !== null) closeSync(fd);
    const keep = (b: Buffer) => {
      const s = b.toString();
      appendFileSync(log, s);
      process.stderr.write(s.replace(/^INFO: Loaded.*\n/gm, ''));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('close', (code) => {
      rmSync(seeds, { recursive: true, force: true });
      // Everything the child wrote is in the log, either way.
      const tail = logTail(log);
      // The final stats may be cut off when the process exits (sync mode); libFuzzer's last status line counts too.
      const runs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(tail)?.[1] ?? /Done (\d+) runs/.exec(tail)?.[1]
        ?? [...tail.matchAll(/^#(\d+)\s/gm)].pop()?.[1] ?? 0);
      const features = Number([...tail.matchAll(/\bft: (\d+)/g)].pop()?.[1] ?? 0);
      const crash = /(==\d+== ERROR: .*|Test unit written to .*|Error: .*)/.exec(tail)?.[1];
      const ok = code === 0;
      const seconds = Math.round((Date.now() - started) / 1000);
      res({ target, executions: runs, features, ok, seconds, detail: ok ? 'ok' : `CRASH (exit ${code}) ${crash ?? tail.slice(-400)}` });
    });
  });
}

/** The commit this checkout is at, marked when the product or the tests differ from it. */
function checkout(): string | null {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (head.status !== 0) return null;
  const dirty = git('status', '--porcelain', '--', 'src', 'test', 'package.json', 'package-lock.json').stdout.trim() !== '';
  return head.stdout.trim() + (dirty ? ' (modified)' : '');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' }, minutes: { type: 'string' }, runs: { type: 'string' }, 'max-len': { type: 'string' },
      seed: { type: 'string' }, jobs: { type: 'string' }, replay: { type: 'boolean' }, quiet: { type: 'boolean' },
    },
  });
  const targets = (values.target?.split(',') ?? [...TARGETS]) as Target[];
  for (const t of targets) if (!TARGETS.includes(t)) { console.error(`fuzz: unknown target '${t}' (targets: ${TARGETS.join(', ')})`); return 2; }
  const o: FuzzOptions = {
    runs: values.runs === undefined ? undefined : Number(values.runs),
    minutes: values.minutes === undefined ? undefined : Number(values.minutes),
    maxLen: values['max-len'] === undefined ? undefined : Number(values['max-len']),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    replay: values.replay ?? false, quiet: values.quiet ?? false,
  };
  if (o.runs === undefined && o.minutes === undefined && !o.replay) o.minutes = 1;
  ensureJazzer();
  const jobs = Math.max(1, Number(values.jobs ?? 1));
  const queue = [...targets];
  const results: RunResult[] = [];
  mkdirSync(CORPUS, { recursive: true });
  const command = ['npm', 'run', 'fuzz', '--', ...process.argv.slice(2)].join(' ');
  const commit = checkout();
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const r = await fuzzTarget(t, o);
      results.push(r);
      console.log(`fuzz ${r.target}: ${r.executions} executions in ${r.seconds} s, ${r.features} coverage features, ${r.detail}`);
      const record = { at: new Date().toISOString(), commit, command, ...r, crashes: r.ok ? 0 : 1 };
      appendFileSync(join(CORPUS, 'campaigns.ndjson'), JSON.stringify(record) + '\n');
    }
  }));
  const statsFile = join(CORPUS, 'stats.json');
  const prev = existsSync(statsFile) ? JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, { executions: number; runs: number }> : {};
  for (const r of results) {
    const p = prev[r.target] ?? { executions: 0, runs: 0 };
    prev[r.target] = { executions: p.executions + r.executions, runs: p.runs + 1 };
  }
  writeFileSync(statsFile, JSON.stringify(prev, null, 2) + '\n');
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
