import type { ConnectionReport, Finding, FindingKind } from '../model/report.js';
import { SEVERITY_RANK } from '../model/severity.js';

/** Connections the text report lists before it lists only those with findings. */
export const CONNECTION_ROWS = 200;

/** A finding kept for the text report, with its connection and its place in the report's order. */
export interface Kept { f: Finding; c: ConnectionReport | undefined; time: number; ff: number; seq: number; idx: number }

/** Report order: time, then connection (first frame, first judged), then the judge's order. */
function reportOrder(a: Kept, b: Kept): number {
  return a.time - b.time || a.ff - b.ff || a.seq - b.seq || a.idx - b.idx;
}
/** The text report's cut: worst first, then report order. */
function worse(a: Kept, b: Kept): number {
  return SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] || reportOrder(a, b);
}
type Row = { c: ConnectionReport; seq: number };

export interface DigestRaw { kept: Kept[]; first: Row[]; firstWithFindings: Row[]; marked: number }
const rowOrder = (a: Row, b: Row): number => a.c.firstFrame - b.c.firstFrame || a.seq - b.seq;

/** Insert into a sorted array keeping at most `cap` items (0: no cap). */
function insertCapped<T>(arr: T[], x: T, cmp: (a: T, b: T) => number, cap: number): void {
  if (cap > 0 && arr.length === cap && cmp(x, arr[cap - 1] as T) >= 0) return;
  let i = arr.length;
  while (i > 0 && cmp(x, arr[i - 1] as T) < 0) i--;
  arr.splice(i, 0, x);
  if (cap > 0 && arr.length > cap) arr.pop();
}

/**
 * What the text report prints of the connections and findings, folded one judged connection at a time: per kind
 * the `maxPerKind` worst findings (severity, then report order) with their connection, and the first connections
 * for the table (all when there are at most CONNECTION_ROWS, else the first CONNECTION_ROWS with findings). Its
 * size is bounded by maxPerKind × kinds + 2 × CONNECTION_ROWS rows whatever the number of connections
 * (maxPerKind 0 keeps every finding, as asked). A connection judged again replaces its earlier judgement; a kept
 * list it leaves is not refilled from findings already cut (a reopened connection among the worst of a full kind).
 */
export class TextDigest {
  private readonly perKind = new Map<FindingKind, Kept[]>();
  private first: Row[] = [];
  private firstWithFindings: Row[] = [];
  private loose = 0;
  private firstKey: [number, number] | null = null;
  /** Connections open while the capture dropped packets (live): marked in their report. */
  marked = 0;

  constructor(readonly maxPerKind = 50) {}

  add(c: ConnectionReport, findings: readonly Finding[], seq: number, version: number): void {
    if (version > 0) this.withdraw(seq);
    if ((c.captureLoss ?? 0) > 0 && version === 0) this.marked++;
    if (this.firstKey === null || c.firstFrame < this.firstKey[0] || (c.firstFrame === this.firstKey[0] && seq < this.firstKey[1])) this.firstKey = [c.firstFrame, seq];
    // Ladders are not printed: not kept.
    const row: Row = { c: c.ladder.length === 0 ? c : { ...c, ladder: [] }, seq };
    insertCapped(this.first, row, rowOrder, CONNECTION_ROWS + 1);
    if (c.findings.length > 0) insertCapped(this.firstWithFindings, row, rowOrder, CONNECTION_ROWS);
    findings.forEach((f, idx) => this.keep({ f, c: row.c, time: f.time, ff: c.firstFrame, seq, idx }));
  }

  /** Findings not tied to a connection (syn-flood): they sort right after the first connection's. */
  addLoose(findings: readonly Finding[]): void {
    const [ff, seq] = this.firstKey ?? [0, 0];
    for (const f of findings) this.keep({ f, c: undefined, time: f.time, ff, seq: seq + 0.5, idx: this.loose++ });
  }

  /** The findings printed in full, in report order. */
  shown(): Kept[] {
    const all: Kept[] = [];
    for (const l of this.perKind.values()) all.push(...l);
    return all.sort(reportOrder);
  }

  /** Kinds in the order the text report names them: by their worst finding. */
  kinds(): FindingKind[] {
    return [...this.perKind].filter(([, l]) => l.length > 0).sort(([, a], [, b]) => worse(a[0] as Kept, b[0] as Kept)).map(([k]) => k);
  }

  /** The connection table: all of `total` connections, or the first with findings past CONNECTION_ROWS. */
  rows(total: number): ConnectionReport[] {
    return (total > CONNECTION_ROWS ? this.firstWithFindings : this.first).map((r) => r.c);
  }

  /** What this digest kept, as plain data (another thread's digest, merged with merge()). */
  raw(): DigestRaw {
    const kept: Kept[] = [];
    for (const l of this.perKind.values()) kept.push(...l);
    return { kept, first: this.first, firstWithFindings: this.firstWithFindings, marked: this.marked };
  }

  /**
   * Fold in another digest (an analysis thread's; `seq` maps its connection numbers into this one's). The kept items
   * of a union are the kept items of the union of kept items: the same as one digest over every connection.
   */
  merge(o: DigestRaw, seq: (local: number) => number): void {
    this.marked += o.marked;
    const rows = new Map<number, Row>();
    const row = (r: Row): Row => {
      let x = rows.get(r.seq);
      if (x === undefined) { x = { c: r.c, seq: seq(r.seq) }; rows.set(r.seq, x); }
      return x;
    };
    for (const r of o.first) {
      const x = row(r);
      insertCapped(this.first, x, rowOrder, CONNECTION_ROWS + 1);
      if (this.firstKey === null || x.c.firstFrame < this.firstKey[0] || (x.c.firstFrame === this.firstKey[0] && x.seq < this.firstKey[1])) this.firstKey = [x.c.firstFrame, x.seq];
    }
    for (const r of o.firstWithFindings) insertCapped(this.firstWithFindings, row(r), rowOrder, CONNECTION_ROWS);
    for (const k of o.kept) this.keep({ ...k, seq: seq(k.seq) });
  }

  private keep(k: Kept): void {
    let l = this.perKind.get(k.f.kind);
    if (l === undefined) { l = []; this.perKind.set(k.f.kind, l); }
    insertCapped(l, k, worse, this.maxPerKind);
  }

  private withdraw(seq: number): void {
    for (const [k, l] of this.perKind) this.perKind.set(k, l.filter((x) => x.seq !== seq));
    this.first = this.first.filter((r) => r.seq !== seq);
    this.firstWithFindings = this.firstWithFindings.filter((r) => r.seq !== seq);
  }
}
