import { FINDING_KINDS } from '../model/report.js';
import type {
  Evictions, CaptureSummary, ConnectionReport, Finding, FindingKind, PairAggregate, Report, ServerAggregate,
} from '../model/report.js';
import { sqlPairAggregates, sqlServerAggregates } from './aggregates.js';
import type { Db } from './duckdb.js';
import { ResultsError } from './error.js';
import { fileList, type ResultFolder } from './read.js';
import type { RunInfo } from './run.js';
import { connectionFromRow, findingFromRow } from './schema.js';
import { createRunTables, FINDINGS_ORDER_BY, FINDINGS_ORDERED, SEVERITY_RANK_SQL } from './tables.js';

/** A capture as `report` found it: one run, or the shards of one capture. */
export interface CaptureEntry {
  label: string;
  capture: string;
  /** The capture's file format and whether it was gzip-compressed (the merged `capture` cannot say it for several). */
  format: CaptureSummary['format'];
  compressed: boolean;
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
 * A merge of result folders, read on demand: the report's head (capture, settings, summary), the aggregates and
 * the breakdowns are computed when it opens (summaries added up from run.json, aggregates by DuckDB); connections
 * and findings are streamed from DuckDB in report order, a batch at a time, with their ids renumbered.
 *
 * Folders of the same capture (same label, path, first packet time and packet count) are shards of it; their
 * connections are disjoint by construction. Connection ids are given anew in (capture, first frame) order — the
 * order analyze numbers them in — and every reference to an id (previous, next, finding.connection,
 * details.previous, ids in notes and texts) follows.
 */
export class Merge {
  private readonly runOfFile: Map<string, number>;

  private constructor(
    private readonly db: Db,
    private readonly folders: ResultFolder[],
    private readonly groups: Group[],
    readonly head: Omit<Report, 'connections' | 'findings'>,
    readonly captures: CaptureEntry[],
    readonly labels: LabelEntry[],
    readonly overTime: OverTime,
    private readonly ids: IdMap,
  ) {
    this.runOfFile = new Map(folders.map((f, i) => [f.connections, i]));
  }

  static async open(db: Db, folders: ResultFolder[]): Promise<Merge> {
    const groups = groupCaptures(folders);
    const first = folders[groups[0]?.folders[0] ?? 0];
    if (first === undefined) throw new ResultsError('report', 'no result folder given');
    const groupOfFolder: number[] = [];
    groups.forEach((g, gi) => { for (const fi of g.folders) groupOfFolder[fi] = gi; });
    await createRunTables(db, folders, groupOfFolder);
    const ids = await IdMap.load(db, folders.length);

    const settings = first.info.settings;
    const capture = groups.length === 1 ? { ...(groups[0] as Group).capture, warnings: [...(groups[0] as Group).capture.warnings] } : combinedCapture(groups);
    for (const g of groups) {
      const n = folders[g.folders[0] as number]?.info.shard?.n ?? 1;
      if (g.folders.length < n) capture.warnings.push(`${g.label}: only ${g.folders.length} of ${n} shards (${shardList(folders, g)}): connections of the others are missing`);
    }
    const versions = [...new Set(folders.map((f) => f.info.tool.version))];
    if (versions.length > 1) capture.warnings.push(`the runs were written by teardown ${versions.join(', ')}: the header shows ${first.info.tool.version}`);
    if (groups.some((g) => JSON.stringify(folders[g.folders[0] as number]?.info.settings) !== JSON.stringify(settings))) {
      capture.warnings.push('the runs used different settings: aggregates use those of the first');
    }
    const labelNames = [...new Set(groups.map((g) => g.label))];
    const servers = await sqlServerAggregates(db, false);
    const pairs = await sqlPairAggregates(db, false);
    // One label: its breakdown is the whole.
    const one = labelNames.length === 1;
    const labelServers = one ? new Map([[labelNames[0] as string, servers.get('') ?? []]]) : await sqlServerAggregates(db, true);
    const labelPairs = one ? new Map([[labelNames[0] as string, pairs.get('') ?? []]]) : await sqlPairAggregates(db, true);
    const infosOf = (label: string) => groups.filter((g) => g.label === label).flatMap((g) => g.folders.map((i) => (folders[i] as ResultFolder).info));
    // Kinds in the order their first finding comes in the report, as analyze lists them (per label too).
    const kindRows = await db.all(`SELECT label, kind FROM (SELECT label, kind, row_number() OVER (ORDER BY ${FINDINGS_ORDER_BY}) AS rn FROM (${FINDINGS_ORDERED}))
      GROUP BY ALL ORDER BY min(rn)`);
    const kindOrder = (label: string | null): FindingKind[] => [...new Set(kindRows.filter((r) => label === null || r.label === label).map((r) => r.kind as FindingKind))];
    const head: Omit<Report, 'connections' | 'findings'> = {
      version: 1, tool: first.info.tool, capture, settings,
      summary: sumSummaries(folders.map((f) => f.info), kindOrder(null)),
      aggregates: { servers: servers.get('') ?? [], pairs: pairs.get('') ?? [] },
    };
    return new Merge(db, folders, groups, head,
      groups.map((g) => {
        const fs = g.folders.map((i) => folders[i] as ResultFolder);
        return {
          label: g.label, capture: g.capture.path, format: g.capture.format, compressed: g.capture.compressed,
          shards: { n: fs[0]?.info.shard?.n ?? 1, present: fs.map((f) => f.info.shard?.k ?? 0) },
          folders: fs.map((f) => f.dir),
          connections: fs.reduce((s, f) => s + f.info.counts.connections, 0),
          findings: fs.reduce((s, f) => s + f.info.counts.findings, 0),
        };
      }),
      labelNames.map((label) => ({
        label, captures: groups.filter((g) => g.label === label).length,
        summary: sumSummaries(infosOf(label), kindOrder(label)),
        aggregates: { servers: labelServers.get(label) ?? [], pairs: labelPairs.get(label) ?? [] },
      })),
      await overTime(db), ids);
  }

  /**
   * Every connection in report order (merged id order), in batches: captures in order, a few at a time (up to
   * BATCH_CONNECTIONS rows, or one capture), each read in first-frame order — their merged ids are consecutive —
   * so DuckDB never sorts more than those captures' rows.
   */
  async *connections(): AsyncGenerator<ConnectionReport[]> {
    let nid = 0;
    for (let i = 0; i < this.groups.length;) {
      const batch: number[] = [];
      let rows = 0;
      do {
        const g = this.groups[i] as Group;
        rows += g.folders.reduce((s, fi) => s + (this.folders[fi] as ResultFolder).info.counts.connections, 0);
        batch.push(...g.folders);
      } while (++i < this.groups.length && rows < BATCH_CONNECTIONS);
      const files = batch.map((fi) => (this.folders[fi] as ResultFolder).connections);
      const sql = `SELECT p.*, r.run FROM read_parquet(${fileList(files)}, filename = true, union_by_name = true) p JOIN runs r ON r.cfile = p.filename
        ORDER BY r.grp, p.first_frame`;
      for await (const b of this.db.stream(sql)) yield b.map((r) => this.connection(r, r.run as number, ++nid));
    }
  }

  /** Every finding in report order (time, then connection), in batches. */
  async *findings(): AsyncGenerator<Finding[]> {
    for await (const rows of this.db.stream(`SELECT * FROM (${FINDINGS_ORDERED}) ORDER BY ${FINDINGS_ORDER_BY}`)) yield rows.map((r) => this.finding(r));
  }

  /**
   * What the text report prints: per kind the `maxPerKind` worst findings (severity, then report order; 0 = all),
   * in report order, and the connections it names — those of these findings, and the table's rows (every
   * connection when there are at most `tableRows`, else the first `tableRows` with findings). Only the files that
   * hold them are read.
   */
  async textParts(maxPerKind: number, tableRows: number): Promise<{ findings: Finding[]; connections: ConnectionReport[] }> {
    await this.db.run(`CREATE OR REPLACE TEMP TABLE shown_f AS SELECT * FROM (
      SELECT *, row_number() OVER (PARTITION BY kind ORDER BY ${SEVERITY_RANK_SQL} DESC, ${FINDINGS_ORDER_BY}) AS k FROM (${FINDINGS_ORDERED}))
      ${maxPerKind > 0 ? `WHERE k <= ${maxPerKind}` : ''}`);
    const findings: Finding[] = [];
    for await (const rows of this.db.stream(`SELECT * FROM shown_f ORDER BY ${FINDINGS_ORDER_BY}`)) for (const r of rows) findings.push(this.finding(r));
    const table = this.head.summary.connections <= tableRows ? 'TRUE' : `nid IN (SELECT nid FROM conn_ids WHERE has_findings ORDER BY nid LIMIT ${tableRows})`;
    await this.db.run(`CREATE OR REPLACE TEMP TABLE shown_c AS SELECT i.run, i.id, i.nid, r.cfile AS file FROM conn_ids i JOIN runs r ON r.run = i.run
      WHERE ${table} OR (i.run, i.id) IN (SELECT (run, connection) FROM shown_f)`);
    const files = (await this.db.all('SELECT DISTINCT file FROM shown_c ORDER BY file')).map((r) => r.file as string);
    const connections: ConnectionReport[] = [];
    if (files.length === 0) return { findings, connections };
    const sql = `SELECT p.*, s.run, s.nid FROM read_parquet(${fileList(files)}, filename = true, union_by_name = true) p JOIN shown_c s ON s.file = p.filename AND s.id = p.id ORDER BY s.nid`;
    for await (const rows of this.db.stream(sql)) for (const r of rows) connections.push(this.connection(r, r.run as number, Number(r.nid)));
    return { findings, connections };
  }

  private connection(r: Record<string, unknown>, run: number, nid: number): ConnectionReport {
    const c = connectionFromRow(r, r.filename as string);
    c.id = `c${nid}`;
    c.previous = this.ids.id(run, c.previous);
    c.next = this.ids.id(run, c.next);
    for (const p of c.ladder) if (p.note !== undefined) p.note = this.ids.text(run, p.note);
    return c;
  }

  private finding(r: Record<string, unknown>): Finding {
    const run = r.run as number;
    const f = findingFromRow(r);
    f.connection = this.ids.id(run, f.connection) as string;
    f.summary = this.ids.text(run, f.summary);
    f.why = this.ids.text(run, f.why);
    for (const p of f.evidence) if (p.note !== undefined) p.note = this.ids.text(run, p.note);
    if (typeof f.details.previous === 'string') f.details.previous = this.ids.id(run, f.details.previous);
    return f;
  }
}

/** Connections read by one query of `Merge.connections` (whole captures: a capture is never split). */
const BATCH_CONNECTIONS = 50_000;

/** Per run, old connection number → merged number (4 bytes per connection; ids are c<N> within a run). */
class IdMap {
  private constructor(private readonly byRun: Int32Array[]) {}

  static async load(db: Db, runs: number): Promise<IdMap> {
    const sizes = new Map<number, number>();
    for (const r of await db.all(`SELECT run, max(TRY_CAST(substr(id, 2) AS INTEGER)) AS m FROM conn_ids GROUP BY run`)) sizes.set(r.run as number, Number(r.m ?? 0));
    const byRun = Array.from({ length: runs }, (_, i) => new Int32Array((sizes.get(i) ?? 0) + 1));
    for await (const rows of db.stream(`SELECT run, TRY_CAST(substr(id, 2) AS INTEGER) AS old, nid FROM conn_ids WHERE id SIMILAR TO 'c[0-9]+'`)) {
      for (const r of rows) (byRun[r.run as number] as Int32Array)[r.old as number] = Number(r.nid);
    }
    return new IdMap(byRun);
  }

  /** The merged id of run `run`'s connection `id` (unchanged when it is not one: '' for a server finding). */
  id(run: number, id: string | null): string | null {
    if (id === null) return null;
    const n = /^c(\d+)$/.exec(id);
    const to = n === null ? 0 : this.byRun[run]?.[Number(n[1])] ?? 0;
    return to > 0 ? `c${to}` : id;
  }

  /** A text with every connection id of the run renumbered. */
  text(run: number, s: string): string {
    return s.replace(/\bc\d+\b/g, (id) => this.id(run, id) as string);
  }
}

/** Every connection and finding of the folders in one report object (the UI and tests; text and JSON stream). */
export async function mergeFolders(db: Db, folders: ResultFolder[]): Promise<MergedReport> {
  const m = await Merge.open(db, folders);
  const connections: ConnectionReport[] = [];
  for await (const b of m.connections()) for (const c of b) connections.push(c);
  const findings: Finding[] = [];
  for await (const b of m.findings()) for (const f of b) findings.push(f);
  const { version, tool, capture, settings, summary, aggregates } = m.head;
  return { version, tool, capture, settings, summary, connections, findings, aggregates, captures: m.captures, labels: m.labels, overTime: m.overTime };
}

/**
 * The summaries of runs added up: every figure of a summary is a count over its runs' connections and findings
 * (run.json keeps them as mergeable state). `kinds`: the order of the finding kinds.
 */
export function sumSummaries(runs: RunInfo[], kinds: readonly FindingKind[] = []): Report['summary'] {
  const s: Report['summary'] = {
    connections: 0, teardown: { fin: 0, rst: 0, 'half-close': 0, refused: 0, open: 0, none: 0 }, oneSided: 0,
    halfCloses: { stuck: 0, openAtEnd: 0, legitimate: 0, other: 0 }, findings: Object.fromEntries(kinds.map((k) => [k, 0])), severity: { info: 0, warn: 0, error: 0 },
    evicted: sumEvictions(runs),
  };
  const add = <K extends string>(to: Record<K, number>, from: Partial<Record<K, number>>) => {
    for (const [k, v] of Object.entries(from) as [K, number][]) to[k] = (to[k] ?? 0) + v;
  };
  for (const r of runs) {
    const x = r.summary;
    s.connections += x.connections;
    s.oneSided += x.oneSided;
    add(s.teardown, x.teardown);
    add(s.halfCloses, x.halfCloses);
    add(s.findings as Record<FindingKind, number>, x.findings);
    add(s.severity, x.severity);
  }
  return s;
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

/**
 * The format of the merged captures in words: 'pcap', 'pcapng, gzip' when they agree, else what each is
 * ('mixed: 2 pcap, 1 pcapng (gzip)' counts captures, not folders).
 */
export function formatsText(captures: readonly Pick<CaptureEntry, 'format' | 'compressed'>[]): string {
  const name = (c: Pick<CaptureEntry, 'format' | 'compressed'>) => `${c.format ?? 'unknown format'}${c.compressed ? ', gzip' : ''}`;
  const counts = new Map<string, number>();
  for (const c of captures) counts.set(name(c), (counts.get(name(c)) ?? 0) + 1);
  if (counts.size <= 1) return [...counts.keys()][0] ?? 'unknown format';
  return `mixed: ${[...counts].map(([k, n]) => `${n} ${k.replace(', gzip', ' (gzip)')}`).join(', ')}`;
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
async function overTime(db: Db): Promise<OverTime> {
  const span = (await db.all(`SELECT min(t) AS lo, max(t) AS hi FROM (SELECT start_time AS t FROM conn_ids UNION ALL SELECT time AS t FROM f_all)`))[0];
  const lo = span?.lo as number | null;
  const hi = span?.hi as number | null;
  if (lo === null || hi === null || lo === undefined || hi === undefined) return { bucketSeconds: 1, buckets: [] };
  const size = BUCKETS.find((b) => (hi - lo) / b <= 48) ?? 30 * 86400;
  const m = new Map<number, OverTime['buckets'][number]>();
  const at = (start: number) => {
    let b = m.get(start);
    if (b === undefined) { b = { start, connections: 0, findings: {} }; m.set(start, b); }
    return b;
  };
  for (const r of await db.all(`SELECT floor(start_time / ${size}) * ${size} AS s, count(*) AS n FROM conn_ids GROUP BY s`)) at(r.s as number).connections = Number(r.n);
  const kinds = await db.all(`SELECT floor(time / ${size}) * ${size} AS s, kind, count(*) AS n FROM f_all GROUP BY ALL`);
  for (const k of FINDING_KINDS) for (const r of kinds) if (r.kind === k) at(r.s as number).findings[k] = Number(r.n);
  return { bucketSeconds: size, buckets: [...m.values()].sort((a, b) => a.start - b.start) };
}
