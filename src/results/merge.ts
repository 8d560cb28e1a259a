import { pairAggregates, serverAggregates } from '../findings/aggregates.js';
import { reportSummary } from '../analyze/summary.js';
import type {
  Evictions, CaptureSummary, ConnectionReport, Finding, FindingKind, PairAggregate, Report, ServerAggregate,
} from '../model/report.js';
import { sqlString, type Db } from './duckdb.js';
import { ResultsError } from './error.js';
import type { ResultFolder } from './read.js';
import { connectionFromRow, findingFromRow } from './schema.js';

/** A capture as `report` found it: one run, or the shards of one capture. */
export interface CaptureEntry {
  label: string;
  capture: string;
  /** Shards present (N = 1: an unsharded run), in folder order. */
  shards: { n: number; present: number[] };
  folders: string[];
  connections: number;
  findings: number;
}

export interface LabelEntry {
  label: string;
  captures: number;
  summary: Report['summary'];
  aggregates: { servers: ServerAggregate[]; pairs: PairAggregate[] };
}

export interface OverTime {
  bucketSeconds: number;
  buckets: { start: number; connections: number; findings: Partial<Record<FindingKind, number>> }[];
}

/** The report of many result folders: a Report (as analyze gives for one capture) plus the breakdowns. */
export interface MergedReport extends Report {
  captures: CaptureEntry[];
  labels: LabelEntry[];
  overTime: OverTime;
}

interface Group {
  key: string;
  folders: number[];
  capture: CaptureSummary;
  label: string;
}

/**
 * Merges result folders into one report. Folders of the same capture (same label, path, first packet time and
 * packet count) are shards of it; their connections are disjoint by construction. Connection ids are given anew
 * in (capture, first frame) order — the order analyze numbers them in — and every reference to an id (previous,
 * next, finding.connection, details.previous, the id in time-wait-reuse texts) follows. Aggregates are computed
 * from the merged rows with the same functions analyze uses.
 */
export async function mergeFolders(db: Db, folders: ResultFolder[]): Promise<MergedReport> {
  const groups = groupCaptures(folders);
  const groupOf = new Map<string, number>();
  const runOf = new Map<string, number>();
  groups.forEach((g, gi) => g.folders.forEach((fi) => {
    const f = folders[fi] as ResultFolder;
    groupOf.set(f.connections, gi); groupOf.set(f.findings, gi);
    runOf.set(f.connections, fi); runOf.set(f.findings, fi);
  }));

  // One query per file: DuckDB's result and its JS conversion stay the size of one run.
  const tagged: { g: number; run: number; c: ConnectionReport }[] = [];
  for (const f of folders) {
    const g = groupOf.get(f.connections) ?? 0;
    const run = runOf.get(f.connections) ?? 0;
    for (const r of await db.all(`SELECT * FROM read_parquet(${sqlString(f.connections)})`)) tagged.push({ g, run, c: connectionFromRow(r) });
  }
  tagged.sort((a, b) => a.g - b.g || a.c.firstFrame - b.c.firstFrame);
  const ids = new Map<string, string>();
  tagged.forEach((t, i) => ids.set(`${t.run}:${t.c.id}`, `c${i + 1}`));
  const remapText = (run: number, s: string): string => s.replace(/\bc\d+\b/g, (id) => ids.get(`${run}:${id}`) ?? id);
  const remap = (run: number, id: string | null): string | null => (id === null ? null : ids.get(`${run}:${id}`) ?? id);
  const connections: ConnectionReport[] = [];
  const groupOfConn = new Map<string, number>();
  for (const t of tagged) {
    const c = t.c;
    c.id = remap(t.run, c.id) as string;
    c.previous = remap(t.run, c.previous);
    c.next = remap(t.run, c.next);
    for (const p of c.ladder) if (p.note !== undefined) p.note = remapText(t.run, p.note);
    connections.push(c);
    groupOfConn.set(c.id, t.g);
  }

  const order = new Map(connections.map((c, i) => [c.id, i]));
  const findRows: { run: number; r: Record<string, unknown> }[] = [];
  for (const f of folders) {
    const run = runOf.get(f.findings) ?? 0;
    for (const r of await db.all(`SELECT * FROM read_parquet(${sqlString(f.findings)})`)) findRows.push({ run, r });
  }
  const findings: Finding[] = findRows.map(({ run, r }) => {
    const f = findingFromRow(r);
    f.connection = remap(run, f.connection) as string;
    f.summary = remapText(run, f.summary);
    f.why = remapText(run, f.why);
    for (const p of f.evidence) if (p.note !== undefined) p.note = remapText(run, p.note);
    if (typeof f.details.previous === 'string') f.details.previous = remap(run, f.details.previous);
    return f;
  });
  findings.sort((a, b) => a.time - b.time || (order.get(a.connection) ?? 0) - (order.get(b.connection) ?? 0));

  const first = folders[groups[0]?.folders[0] ?? 0];
  if (first === undefined) throw new ResultsError('report', 'no result folder given');
  const settings = first.info.settings;
  const capture = groups.length === 1 ? { ...(groups[0] as Group).capture, warnings: [...(groups[0] as Group).capture.warnings] } : combinedCapture(groups);
  for (const g of groups) {
    const n = folders[g.folders[0] as number]?.info.shard?.n ?? 1;
    if (g.folders.length < n) capture.warnings.push(`${g.label}: only ${g.folders.length} of ${n} shards (${shardList(folders, g)}): connections of the others are missing`);
  }
  if (groups.some((g) => JSON.stringify(folders[g.folders[0] as number]?.info.settings) !== JSON.stringify(settings))) {
    capture.warnings.push('the runs used different settings: aggregates use those of the first');
  }
  const labels = new Map<string, { captures: number; conns: ConnectionReport[]; findings: Finding[] }>();
  const labelOfGroup = groups.map((g) => g.label);
  for (const g of groups) {
    const l = labels.get(g.label) ?? { captures: 0, conns: [], findings: [] };
    l.captures++;
    labels.set(g.label, l);
  }
  for (const c of connections) labels.get(labelOfGroup[groupOfConn.get(c.id) ?? 0] as string)?.conns.push(c);
  for (const f of findings) labels.get(labelOfGroup[groupOfConn.get(f.connection) ?? 0] as string)?.findings.push(f);

  return {
    version: 1, tool: first.info.tool, capture, settings,
    summary: reportSummary(connections, findings, sumEvictions(folders.map((f) => f.info))),
    connections, findings,
    aggregates: { servers: serverAggregates(connections, findings), pairs: pairAggregates(connections, findings, settings.timeWait) },
    captures: groups.map((g) => {
      const fs = g.folders.map((i) => folders[i] as ResultFolder);
      return {
        label: g.label, capture: g.capture.path,
        shards: { n: fs[0]?.info.shard?.n ?? 1, present: fs.map((f) => f.info.shard?.k ?? 0) },
        folders: fs.map((f) => f.dir),
        connections: fs.reduce((s, f) => s + f.info.counts.connections, 0),
        findings: fs.reduce((s, f) => s + f.info.counts.findings, 0),
      };
    }),
    labels: [...labels].map(([label, l]) => ({
      label, captures: l.captures,
      summary: reportSummary(l.conns, l.findings, sumEvictions(groups.filter((g) => g.label === label).flatMap((g) => g.folders.map((i) => (folders[i] as ResultFolder).info)))),
      aggregates: { servers: serverAggregates(l.conns, l.findings), pairs: pairAggregates(l.conns, l.findings, settings.timeWait) },
    })),
    overTime: overTime(connections, findings),
  };
}

function shardList(folders: ResultFolder[], g: Group): string {
  return g.folders.map((i) => { const s = folders[i]?.info.shard; return s ? `${s.k}/${s.n}` : 'all'; }).join(', ');
}

/** Folders → captures: the shards of one capture share label, path, first packet time and packet count. */
function groupCaptures(folders: ResultFolder[]): Group[] {
  const m = new Map<string, Group>();
  folders.forEach((f, i) => {
    const c = f.info.capture;
    const key = JSON.stringify([f.info.label, c.path, c.firstTime, c.packets]);
    let g = m.get(key);
    if (g === undefined) { g = { key, folders: [], capture: c, label: f.info.label }; m.set(key, g); }
    g.folders.push(i);
  });
  for (const g of m.values()) {
    const seen = new Map<string, string>();
    const ns = new Set<number>();
    for (const i of g.folders) {
      const f = folders[i] as ResultFolder;
      const s = f.info.shard;
      ns.add(s?.n ?? 1);
      const k = s === null ? 'all' : `${s.k}/${s.n}`;
      const other = seen.get(k);
      if (other !== undefined) throw new ResultsError(f.dir, `the same capture and shard (${k}) as ${other}: each shard once`);
      seen.set(k, f.dir);
    }
    if (ns.size > 1) throw new ResultsError(folders[g.folders[0] as number]?.dir ?? '', `shards of ${g.capture.path} split ${[...ns].join(' and ')} ways: merge shards of one --shard K/N split`);
  }
  return [...m.values()].sort((a, b) => (a.capture.firstTime ?? Infinity) - (b.capture.firstTime ?? Infinity)
    || a.label.localeCompare(b.label) || a.capture.path.localeCompare(b.capture.path));
}

function combinedCapture(groups: Group[]): CaptureSummary {
  const caps = groups.map((g) => g.capture);
  const formats = new Set(caps.map((c) => c.format));
  const undecodable: Record<string, number> = {};
  for (const c of caps) for (const [k, v] of Object.entries(c.undecodable)) undecodable[k] = (undecodable[k] ?? 0) + v;
  const times = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const firsts = times(caps.map((c) => c.firstTime));
  const lasts = times(caps.map((c) => c.lastTime));
  const damaged = groups.filter((g) => g.capture.error !== null);
  return {
    path: `${groups.length} captures`, format: formats.size === 1 ? caps[0]?.format ?? null : null,
    compressed: caps.some((c) => c.compressed),
    linkTypes: [...new Set(caps.flatMap((c) => c.linkTypes))].sort((a, b) => a - b),
    packets: caps.reduce((s, c) => s + c.packets, 0), tcpPackets: caps.reduce((s, c) => s + c.tcpPackets, 0), undecodable,
    firstTime: firsts.length ? Math.min(...firsts) : null, lastTime: lasts.length ? Math.max(...lasts) : null,
    truncated: caps.some((c) => c.truncated),
    error: damaged.length ? `${damaged.length} damaged: ${damaged.map((g) => `${g.label}: ${g.capture.error}`).join('; ')}` : null,
    warnings: groups.flatMap((g) => g.capture.warnings.map((w) => `${g.label}: ${w}`)),
    drops: caps.some((c) => c.drops !== null) ? caps.reduce((s, c) => s + (c.drops ?? 0), 0) : null,
    interrupted: caps.some((c) => c.interrupted),
  };
}

/** Evictions add up over runs (each run's table had its own bound: the largest is shown). */
export function sumEvictions(runs: Array<{ summary?: Partial<Report['summary']> }>): Evictions {
  const e: Evictions = { maxConnections: null, total: 0, handshakeOnly: 0, judgedEarly: 0, tombstones: 0 };
  for (const r of runs) {
    const x = r.summary?.evicted;
    if (!x) continue;
    if (x.maxConnections !== null) e.maxConnections = Math.max(e.maxConnections ?? 0, x.maxConnections);
    e.total += x.total; e.handshakeOnly += x.handshakeOnly; e.judgedEarly += x.judgedEarly; e.tombstones += x.tombstones;
  }
  return e;
}

const BUCKETS = [1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400];

/** Connections started and findings made per time bucket (at most about 48 buckets over the span). */
export function overTime(connections: ConnectionReport[], findings: Finding[]): OverTime {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of connections) { if (c.start < lo) lo = c.start; if (c.start > hi) hi = c.start; }
  for (const f of findings) { if (f.time < lo) lo = f.time; if (f.time > hi) hi = f.time; }
  if (lo === Infinity) return { bucketSeconds: 1, buckets: [] };
  const size = BUCKETS.find((b) => (hi - lo) / b <= 48) ?? 30 * 86400;
  const m = new Map<number, OverTime['buckets'][number]>();
  const at = (t: number) => {
    const start = Math.floor(t / size) * size;
    let b = m.get(start);
    if (b === undefined) { b = { start, connections: 0, findings: {} }; m.set(start, b); }
    return b;
  };
  for (const c of connections) at(c.start).connections++;
  for (const f of findings) { const b = at(f.time); b.findings[f.kind] = (b.findings[f.kind] ?? 0) + 1; }
  return { bucketSeconds: size, buckets: [...m.values()].sort((a, b) => a.start - b.start) };
}
