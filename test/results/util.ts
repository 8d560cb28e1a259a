import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import type { Report } from '../../src/model/report.js';
import { jsonChunks } from '../../src/report/json.js';
import type { Db } from '../../src/results/duckdb.js';
import { Merge, mergeFolders, type MergedReport } from '../../src/results/merge.js';
import { mergedJsonChunks } from '../../src/results/json.js';
import { mergedText } from '../../src/results/text.js';
import { TABLE_ROWS } from '../../src/report/text.js';
import { checkParquet, readFolders } from '../../src/results/read.js';
import { ResultsSink } from '../../src/results/sink.js';
import type { Shard } from '../../src/tcp/shard.js';

/** Every capture under fixtures/ (the recorded scenarios and the field corpus). */
export function allFixtures(dir = 'fixtures'): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'record') out.push(...allFixtures(p)); } else if (/\.pcap(ng)?(\.gz)?$/.test(name)) out.push(p);
  }
  return out;
}

/** `analyze CAPTURE [--shard K/N] [--label L] --out DIR`, in process, as the CLI does it. */
export async function analyzeTo(db: Db, capture: string, dir: string, opts: { shard?: Shard; label?: string } = {}): Promise<Report> {
  const sink = new ResultsSink({ dir, db, ...opts });
  await sink.open();
  const { report } = await streamAnalysis(await openCapture(capture), {
    sink: { progress: (s) => sink.progress(s) }, packetTickSeconds: null, shard: opts.shard,
  });
  await sink.end(report);
  return report;
}

/** `report DIR...` (the merged report object). */
export async function reportOf(db: Db, dirs: string[]): Promise<MergedReport> {
  const folders = await readFolders(dirs);
  await checkParquet(db, folders);
  return mergeFolders(db, folders);
}

/**
 * What `report DIR... --json` prints (streamed from DuckDB) as a digest of the analyze --json part and the merge's
 * own fields (`tail`: captures, labels, overTime) — a 100 000-connection report is never held as a string — and
 * `report --text`'s text.
 */
export async function reportOutputs(db: Db, dirs: string[], maxPerKind = 50): Promise<{ body: string; tail: string; text: string }> {
  const folders = await readFolders(dirs);
  await checkParquet(db, folders);
  const m = await Merge.open(db, folders);
  const h = createHash('sha256');
  let tail = '';
  for await (const c of mergedJsonChunks(m)) {
    h.update(tail);
    tail = c;
  }
  const { findings, connections } = await m.textParts(maxPerKind, TABLE_ROWS);
  const text = mergedText({ ...m.head, connections, findings, captures: m.captures, labels: m.labels, overTime: m.overTime }, { maxPerKind });
  return { body: h.digest('hex'), tail, text };
}

/** The digest of analyze --json's output up to its closing brace (what `body` of reportOutputs covers). */
export function analyzeDigest(r: Report): string {
  const h = createHash('sha256');
  let last = '';
  for (const c of jsonChunks(r)) { h.update(last); last = c; }
  assert.equal(last, '\n}\n');
  return h.digest('hex');
}

/** What `analyze --json` prints, parsed. */
export function analyzeJson(r: Report): unknown {
  return JSON.parse([...jsonChunks(r)].join(''));
}

/** JSON with object keys sorted: equal reports give equal strings. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** The Report part of a merged report, as analyze --json shows it (JSON round trip: undefined fields drop out). */
export function reportPart(m: MergedReport): unknown {
  const { captures: _c, labels: _l, overTime: _o, ...r } = m;
  return analyzeJson(r);
}
