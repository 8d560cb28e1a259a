/**
 * Fleet benchmark: `teardown report` over the result folders of many generated captures, and `analyze --shard`
 * on the bench capture. Wall time, CPU time and peak RSS per command from /usr/bin/time -f '%e %M %U %S'.
 *
 *   node --import tsx bench/fleet.ts [--captures 1000] [--packets-each 2000] [--packets 1M] [--shards 4]
 *
 * The small captures are made by make-capture.ts with seeds 1…N (labels host-000…: ten captures per host) and
 * written to result folders in process (one DuckDB for all), under bench/data/fleet/ (kept and reused).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { streamAnalysis } from '../src/analyze/stream.js';
import { openCapture } from '../src/capture/open.js';
import { openDb } from '../src/results/duckdb.js';
import { ResultsSink } from '../src/results/sink.js';
import { benchArgs } from './args.js';
import { DATA_DIR, ROOT, ensureCapture, parseCount } from './make-capture.js';

const { values: a } = benchArgs('node --import tsx bench/fleet.ts [--captures 1000] [--packets-each 2000] [--packets 1M] [--shards 4]', {
  options: {
    captures: { type: 'string', default: '1000' },
    'packets-each': { type: 'string', default: '2000' },
    packets: { type: 'string', default: '1M' },
    shards: { type: 'string', default: '4' },
  },
});
const captures = Number(a.captures);
const each = parseCount(a['packets-each'] as string);
const dir = join(DATA_DIR, 'fleet');
const node = process.execPath;
const cli = [node, '--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

function timed(what: string, argv: string[]): { wall: number; rssMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', ...argv], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, kb, user, sys] = last.split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  const out = { wall: wall ?? NaN, rssMiB: (kb ?? NaN) / 1024 };
  // CPU time (user + system) beside the wall time: on a shared machine the wall time says more about the load.
  console.log(`${what.padEnd(58)} ${out.wall.toFixed(2).padStart(8)} s wall ${((user ?? 0) + (sys ?? 0)).toFixed(2).padStart(8)} s CPU  ${out.rssMiB.toFixed(0).padStart(6)} MiB peak RSS`);
  return out;
}

async function makeFolders(): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const db = await openDb('bench');
  const dirs: string[] = [];
  let made = 0;
  try {
    for (let i = 1; i <= captures; i++) {
      const out = join(dir, `run-${String(i).padStart(4, '0')}`);
      dirs.push(out);
      if (existsSync(join(out, 'run.json'))) continue;
      const cap = ensureCapture({ packets: each, seed: i, out: join(dir, 'pcap', `c${i}.pcap`), bulkShare: 0, log: () => {} });
      const sink = new ResultsSink({ dir: out, db, label: `host-${String(Math.floor((i - 1) / 10)).padStart(3, '0')}` });
      await sink.open();
      const { report } = await streamAnalysis(await openCapture(cap.path), { sink: {}, packetTickSeconds: null });
      await sink.end(report);
      made++;
    }
  } finally {
    db.close();
  }
  console.log(`${captures} result folders under ${dir} (${made} made now, ${each} packets per capture)`);
  return dirs;
}

const dirs = await makeFolders();
timed(`report ${captures} folders --text`, [...cli, 'report', ...dirs, '--text', '--max-per-kind', '5']);
timed(`report ${captures} folders --json`, [...cli, 'report', ...dirs, '--json']);
timed(`report ${captures} folders --sql (findings by label and kind)`, [...cli, 'report', ...dirs, '--sql', 'SELECT label, kind, count(*) FROM findings GROUP BY ALL']);

const packets = parseCount(a.packets as string);
const shards = Number(a.shards);
const big = ensureCapture({ packets });
console.log(`bench capture ${big.path}: ${big.meta.packets} packets, ${big.meta.connections} connections`);
const outs = join(dir, 'shards');
rmSync(outs, { recursive: true, force: true });
timed(`analyze --out (whole capture)`, [...cli, 'analyze', big.path, '--out', join(outs, 'all')]);
const parts: string[] = [];
for (let k = 0; k < shards; k++) {
  parts.push(join(outs, `${k}of${shards}`));
  timed(`analyze --shard ${k}/${shards} --out`, [...cli, 'analyze', big.path, '--shard', `${k}/${shards}`, '--out', parts[k]!]);
}
timed(`report ${shards} shards --json`, [...cli, 'report', ...parts, '--json']);
