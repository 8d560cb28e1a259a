/**
 * Where the views read findings and connections: a RowSource. While a capture is read, and for a report held whole
 * (`teardown report`, `teardown live`, tests), it is the lists in memory (MemoryRows). After `teardown analyze` it is
 * the on-disk index (src/ui/index/row-index.ts), which answers the same questions reading only the rows shown.
 * Both give the same rows in the same order.
 */
import type { ConnectionReport, Finding, PacketRef, Severity } from '../model/report.js';
import { findingRows, kindRows, memoLast, severityCounts, timeline, type FindingRow, type KindRow, type ListQuery, type Timeline } from './model.js';

/** One findings list (a kind, a sort, a filter): its length and the rows of a page. */
export interface FindingList {
  readonly length: number;
  /** Rows [from, to) of the list. */
  rows(from: number, to: number): FindingRow[];
}

/** A ladder the report did not keep, read back from the capture by its frames' byte offsets when opened. */
export type LadderReadBack =
  | { state: 'reading' }
  | { state: 'done'; ladder: PacketRef[]; elided: number; how: string }
  | { state: 'failed'; why: string };

export interface RowSource {
  readonly findingCount: number;
  /** Counts per finding kind (catalog order). */
  kinds(): KindRow[];
  severities(): Record<Severity, number>;
  list(q: ListQuery): FindingList;
  connection(id: string): ConnectionReport | undefined;
  /** A connection's findings in report order. */
  findingsOf(id: string): Finding[];
  timeline(start: number, end: number, bins: number): Timeline;
  /** Present when ladders not kept in the report can be read back from the capture. */
  readLadder?(c: ConnectionReport): LadderReadBack;
}

/** The findings and connections held in memory (the report's own lists, or those judged so far). */
export class MemoryRows implements RowSource {
  private readonly kindsOf = memoLast(kindRows);
  private readonly sevOf = memoLast(severityCounts);
  private readonly listOf = memoLast((kind: ListQuery['kind'], sort: ListQuery['sort'], filter: string): FindingList => {
    const rows = findingRows(this.findings, this.connections, { kind, sort, filter });
    return { length: rows.length, rows: (from, to) => rows.slice(from, to) };
  });
  private readonly binned = memoLast((start: number, end: number, bins: number) => timeline(this.connections.values(), start, end, bins));
  private byConnection: Map<string, Finding[]> | null = null;

  constructor(readonly findings: readonly Finding[], readonly connections: ReadonlyMap<string, ConnectionReport>) {}

  get findingCount(): number { return this.findings.length; }
  kinds(): KindRow[] { return this.kindsOf(this.findings); }
  severities(): Record<Severity, number> { return this.sevOf(this.findings); }
  list(q: ListQuery): FindingList { return this.listOf(q.kind, q.sort, q.filter); }
  connection(id: string): ConnectionReport | undefined { return this.connections.get(id); }

  findingsOf(id: string): Finding[] {
    if (this.byConnection === null) {
      const m = new Map<string, Finding[]>();
      for (const f of this.findings) { let l = m.get(f.connection); if (!l) m.set(f.connection, (l = [])); l.push(f); }
      this.byConnection = m;
    }
    return this.byConnection.get(id) ?? [];
  }

  timeline(start: number, end: number, bins: number): Timeline { return this.binned(start, end, bins); }
}

/** The RowSource of a snapshot's lists, made once per pair of lists. */
export const memoryRows = memoLast((findings: readonly Finding[], connections: ReadonlyMap<string, ConnectionReport>): RowSource => new MemoryRows(findings, connections));
