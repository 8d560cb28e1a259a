/**
 * Hostile inputs against the memory bound: SYN floods and a port scan (bench/make-hostile.ts), each analyzed by
 * the CLI (`bin/teardown.js`, built `dist/`) with `--json` to /dev/null under `/usr/bin/time -f '%e %U %S %M'`.
 *
 *   npm run build && node --import tsx bench/hostile.ts [--only flood-2M,scan-10M] [--no-make]
 *
 * Rows: flood 2 M, 5 M (default bound), scan 10 M (default bound), and 200 k SYNs with --max-connections 10000
 * against a bound above the input (nothing evicted). Prints wall, CPU, peak RSS, evictions and the syn-flood
 * findings; results go to bench/data/hostile.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { DATA_DIR, hostilePath, makeHostile, type HostileKind } from './make-hostile.js';

interface Row { id: string; kind: HostileKind; syns: number; rate: number; args: string[] }

const ROWS: Row[] = [
  { id: 'flood-200k-bound-10k', kind: 'flood', syns: 200_000, rate: 100_000, args: ['--max-connections', '10000'] },
  { id: 'flood-200k-unbounded', kind: 'flood', syns: 200_000, rate: 100_000, args: ['--max-connections', '1000000'] },
  { id: 'flood-2M', kind: 'flood', syns: 2_000_000, rate: 100_000, args: [] },
  { id: 'flood-5M', kind: 'flood', syns: 5_000_000, rate: 100_000, args: [] },
  { id: 'scan-10M', kind: 'scan', syns: 10_000_000, rate: 200_000, args: [] },
];

const { values } = benchArgs('npm run build && node --import tsx bench/hostile.ts [--only flood-2M,flood-5M,scan-10M] [--no-make]', { options: { only: { type: 'string' }, 'no-make': { type: 'boolean' } } });
const only = values.only?.split(',');
const root = join(import.meta.dirname, '..');
const results: Record<string, unknown>[] = [];
mkdirSync(DATA_DIR, { recursive: true });
for (const r of ROWS) {
  if (only && !only.includes(r.id)) continue;
  const file = values['no-make'] ? hostilePath(r.kind, r.syns) : makeHostile({ kind: r.kind, syns: r.syns, rate: r.rate });
  const out = join(DATA_DIR, `${r.id}.json`);
  const load = loadavg()[0]!;
  const p = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', join(DATA_DIR, 'time.txt'), process.execPath,
    join(root, 'bin', 'teardown.js'), 'analyze', file, '--json', ...r.args], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  writeFileSync(out, p.stdout);
  const [wall, user, sys, rssKiB] = readFileSync(join(DATA_DIR, 'time.txt'), 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  let summary: { evicted?: unknown; connections?: number } = {};
  let floods: unknown[] = [];
  try {
    const rep = JSON.parse(p.stdout.toString());
    summary = rep.summary;
    floods = rep.findings.filter((f: { kind: string }) => f.kind === 'syn-flood').map((f: { summary: string }) => f.summary);
  } catch { /* reported below */ }
  const row = { id: r.id, args: r.args, exit: p.status, wallS: wall, cpuS: Number(((user ?? 0) + (sys ?? 0)).toFixed(2)), peakRssMiB: Math.round((rssKiB ?? 0) / 1024), load1: Number(load.toFixed(1)),
    connections: summary.connections, evicted: summary.evicted, floods, stderr: p.stderr.toString().slice(-300) };
  results.push(row);
  console.log(`${r.id.padEnd(22)} exit ${p.status}  wall ${wall} s  cpu ${row.cpuS} s  peak RSS ${row.peakRssMiB} MiB  load ${row.load1}  ${JSON.stringify(summary.evicted)}  ${floods.length} syn-flood`);
}
writeFileSync(join(DATA_DIR, 'hostile.json'), JSON.stringify({ when: new Date().toISOString(), results }, null, 2) + '\n');
