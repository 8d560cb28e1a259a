/**
 * Presentation derivations from the Report (or the findings judged so far): which rows a list shows and in what
 * order, the ladder with its evidence marks, timeline bins. No verdict is made here: every judgement comes from
 * the engine; this only selects, orders and counts what the report already says.
 */
import { FINDING_KINDS } from '../model/report.js';
import { linkTypeName } from '../model/link-types.js';
import { SEVERITY_RANK } from '../model/severity.js';
import { endpointText, type Endpoint } from '../model/endpoint.js';
import type { ConnectionReport, Finding, FindingKind, PacketRef, PairAggregate, Report, ServerAggregate, Severity } from '../model/report.js';
import type { KindFilter, SortKey } from './view-state.js';

export function linkNames(linkTypes: readonly number[]): string {
  return linkTypes.map((l) => linkTypeName(l) ?? `linktype ${l}`).join(', ');
}

export { SEVERITY_RANK };

export interface KindRow {
  kind: FindingKind;
  count: number;
  bySeverity: Record<Severity, number>;
  /** The highest severity among this kind's findings (a detector may raise or lower the catalog's). */
  worst: Severity;
}

/** Counts per finding kind that occurs, in the catalog's (stable) order. */
export function kindRows(findings: readonly Finding[]): KindRow[] {
  const m = new Map<FindingKind, KindRow>();
  for (const f of findings) {
    let r = m.get(f.kind);
    if (!r) { r = { kind: f.kind, count: 0, bySeverity: { info: 0, warn: 0, error: 0 }, worst: f.severity }; m.set(f.kind, r); }
    r.count++;
    r.bySeverity[f.severity]++;
    if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[r.worst]) r.worst = f.severity;
  }
  return FINDING_KINDS.flatMap((k) => { const r = m.get(k); return r ? [r] : []; });
}

export function severityCounts(findings: readonly Finding[]): Record<Severity, number> {
  const s: Record<Severity, number> = { info: 0, warn: 0, error: 0 };
  for (const f of findings) s[f.severity]++;
  return s;
}

/** Servers holding half-closed connections (CLOSE_WAIT), largest pile-up first (the engine's order). */
export function closeWaitServers(report: Report): ServerAggregate[] {
  return report.aggregates.servers.filter((a) => a.halfClosed > 0);
}

/** Client→server pairs that reused TIME_WAIT tuples or have a measurable port turnover, closest to exhaustion first. */
export function timeWaitPairs(report: Report): PairAggregate[] {
  return report.aggregates.pairs.filter((p) => p.timeWaitReuses > 0 || p.exhaustionRatio !== null);
}

// ---------------------------------------------------------------------------------------------------------------
// Findings list
// ---------------------------------------------------------------------------------------------------------------

export interface FindingRow {
  finding: Finding;
  connection: ConnectionReport | undefined;
  /** How long the half-close has lasted (CLOSE_WAIT, `details.ageSeconds`); otherwise the connection's lifetime. */
  age: number | null;
}

export interface ListQuery {
  kind: KindFilter;
  sort: SortKey;
  filter: string;
}

/** The kinds offered as tabs above the list: 'all', then every kind present. */
export function kindTabs(findings: readonly Finding[]): KindFilter[] {
  return ['all', ...kindRows(findings).map((r) => r.kind)];
}

export function findingAge(f: Finding, c: ConnectionReport | undefined): number | null {
  const a = f.details.ageSeconds;
  if (typeof a === 'number' && Number.isFinite(a)) return a;
  return c ? Math.max(0, c.end - c.start) : null;
}

/** Lower-cased searchable text per finding, built once (typing a filter re-scans every finding per key). */
const haystacks = new WeakMap<Finding, string>();

function haystack(f: Finding, c: ConnectionReport | undefined): string {
  let h = haystacks.get(f);
  if (h === undefined) {
    h = [f.kind, f.severity, f.connection, c ? endpointText(c.client) : '', c ? endpointText(c.server) : '', f.summary, f.why].join('\n').toLowerCase();
    if (c !== undefined) haystacks.set(f, h);
  }
  return h;
}

/** The filter last split into terms (the findings list asks once per finding with the same filter). */
let lastFilter = '';
let lastTerms: readonly string[] = [];

/** Every whitespace-separated term must occur (case-insensitive) in the finding's addresses, ports, id or text. */
export function matchesFilter(f: Finding, c: ConnectionReport | undefined, filter: string): boolean {
  if (filter !== lastFilter) {
    lastFilter = filter;
    lastTerms = filter.toLowerCase().split(/\s+/).filter((t) => t.length > 0);
  }
  if (lastTerms.length === 0) return true;
  const hay = haystack(f, c);
  return lastTerms.every((t) => hay.includes(t));
}

/** A server endpoint as a string that sorts numerically by plain comparison (digit runs zero-padded). */
const serverKeys = new WeakMap<Endpoint, string>();
function serverKey(server: Endpoint | undefined): string {
  if (server === undefined) return '';
  let k = serverKeys.get(server);
  if (k === undefined) {
    k = endpointText(server).replace(/\d+/g, (d) => d.padStart(10, '0'));
    serverKeys.set(server, k);
  }
  return k;
}

export function findingRows(findings: readonly Finding[], connections: ReadonlyMap<string, ConnectionReport>, q: ListQuery): FindingRow[] {
  const rows: FindingRow[] = [];
  for (const f of findings) {
    if (q.kind !== 'all' && f.kind !== q.kind) continue;
    const c = connections.get(f.connection);
    if (!matchesFilter(f, c, q.filter)) continue;
    rows.push({ finding: f, connection: c, age: findingAge(f, c) });
  }
  const byTime = (a: FindingRow, b: FindingRow) => a.finding.time - b.finding.time;
  switch (q.sort) {
    case 'time': return rows.sort(byTime);
    case 'age': return rows.sort((a, b) => (b.age ?? -1) - (a.age ?? -1) || byTime(a, b));
    case 'severity': return rows.sort((a, b) => SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || byTime(a, b));
    case 'server': {
      const keyed = rows.map((r) => ({ r, k: serverKey(r.connection?.server) }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : byTime(a.r, b.r)));
      return keyed.map((x) => x.r);
    }
  }
}

export function findingsOf(findings: readonly Finding[], connection: string): Finding[] {
  return findings.filter((f) => f.connection === connection);
}

// ---------------------------------------------------------------------------------------------------------------
// Ladder
// ---------------------------------------------------------------------------------------------------------------

export type LadderRow =
  | { type: 'packet'; p: PacketRef; evidence: boolean }
  | { type: 'elided'; count: number }
  /** Evidence outside this connection (the previous incarnation's close, for TIME_WAIT reuse) is set apart. */
  | { type: 'divider'; text: string };

/**
 * The connection's recorded packets in frame order, evidence packets marked (those of `focus` findings when a
 * kind is focused and has evidence, else of every finding), and one "… N packets …" row for what the engine left
 * out. The report gives only the number left out, not where: the row goes at the widest frame gap.
 */
export function ladderRows(c: ConnectionReport, findings: readonly Finding[], focus: FindingKind | null): LadderRow[] {
  const focused = focus === null ? [] : findings.filter((f) => f.kind === focus && f.evidence.length > 0);
  const marking = focused.length > 0 ? focused : findings;
  const evidence = new Set<number>();
  for (const f of marking) for (const p of f.evidence) evidence.add(p.frame);
  const own = new Map<number, PacketRef>();
  for (const p of c.ladder) own.set(p.frame, p);
  const foreign = new Map<number, PacketRef>();
  for (const f of findings) {
    for (const p of f.evidence) {
      if (own.has(p.frame)) continue;
      if (p.frame >= c.firstFrame && p.frame <= c.lastFrame) own.set(p.frame, p);
      else foreign.set(p.frame, p);
    }
  }
  const packets = [...own.values()].sort((a, b) => a.frame - b.frame);
  const rows: LadderRow[] = packets.map((p) => ({ type: 'packet', p, evidence: evidence.has(p.frame) }));
  if (c.elided > 0 && packets.length > 0) {
    let at = packets.length;
    let widest = 0;
    for (let i = 1; i < packets.length; i++) {
      const gap = packets[i]!.frame - packets[i - 1]!.frame;
      if (gap > widest) { widest = gap; at = i; }
    }
    rows.splice(at, 0, { type: 'elided', count: c.elided });
  }
  if (foreign.size === 0) return rows;
  const other = (list: PacketRef[]): LadderRow[] => list.sort((a, b) => a.frame - b.frame).map((p) => ({ type: 'packet', p, evidence: evidence.has(p.frame) }));
  const before = other([...foreign.values()].filter((p) => p.frame < c.firstFrame));
  const after = other([...foreign.values()].filter((p) => p.frame > c.lastFrame));
  const prev = c.previous ? `${c.previous}, previous incarnation` : 'another connection';
  const next = c.next ? `${c.next}, next incarnation` : 'another connection';
  return [
    ...(before.length ? [{ type: 'divider' as const, text: prev }, ...before, { type: 'divider' as const, text: `${c.id}, this connection` }] : []),
    ...rows,
    ...(after.length ? [{ type: 'divider' as const, text: next }, ...after] : []),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------------------------------------------

export interface Timeline {
  start: number;
  end: number;
  binSeconds: number;
  /** The most connections half-closed at the same instant within each bin (a sweep, not a count of overlaps). */
  halfClosed: number[];
  /** The most connections held in TIME_WAIT at the same instant within each bin. */
  timeWait: number[];
  /** Resets accepted within each bin. */
  reset: number[];
}

/** Bin the connections' timeline moments (`connections[].times`) over [start, end] into `bins` columns. */
export function timeline(connections: Iterable<Pick<ConnectionReport, 'times'>>, start: number, end: number, bins: number): Timeline {
  const n = Math.max(1, Math.floor(bins));
  const span = Math.max(0, end - start);
  const binOf = (t: number) => (span === 0 ? 0 : Math.min(n - 1, Math.max(0, Math.floor(((t - start) / span) * n))));
  // Interval ends as [from, to) pairs, flat (a capture of many connections: no object per interval).
  const half: number[] = [];
  const tw: number[] = [];
  const reset = new Array<number>(n).fill(0);
  for (const c of connections) {
    const t = c.times;
    if (t.halfClosed !== null) half.push(t.halfClosed, t.closed ?? end);
    if (t.closed !== null && t.timeWaitUntil !== null) tw.push(t.closed, t.timeWaitUntil);
    if (t.reset !== null && t.reset >= start && t.reset <= end) reset[binOf(t.reset)]! += 1;
  }
  /**
   * Concurrency per bin by a sweep over [from, to) intervals clipped to the capture: an interval that ends at the
   * instant another starts does not overlap it, so the peak is the most held at one instant, never a count of
   * every interval touching a column. Starts and ends are sorted apart and merged, an end first at one instant.
   */
  const sweep = (spans: number[]): number[] => {
    const out = new Array<number>(n).fill(0);
    const starts: number[] = [];
    const ends: number[] = [];
    for (let x = 0; x < spans.length; x += 2) {
      const f = spans[x]!;
      const t = spans[x + 1]!;
      if (t < start || f > end) continue;
      if (span === 0) { out[0]! += 1; continue; } // a zero-length capture: everything at one instant
      const a = Math.max(f, start);
      const b = Math.min(t, end);
      if (b > a) { starts.push(a); ends.push(b); }
    }
    if (span === 0) return out;
    const S = Float64Array.from(starts).sort();
    const E = Float64Array.from(ends).sort();
    let i = 0;
    let j = 0;
    let v = 0;
    const endNext = () => j < E.length && (i >= S.length || E[j]! <= S[i]!);
    const next = () => (endNext() ? E[j]! : i < S.length ? S[i]! : Infinity);
    const take = () => { if (endNext()) { j++; v--; } else { i++; v++; } };
    for (let k = 0; k < n; k++) {
      const b0 = start + (span * k) / n;
      const b1 = k === n - 1 ? Infinity : start + (span * (k + 1)) / n;
      while (next() <= b0) take();
      let m = v;
      while (next() < b1) { take(); if (v > m) m = v; }
      out[k] = m;
    }
    return out;
  };
  return { start, end, binSeconds: span / n, halfClosed: sweep(half), timeWait: sweep(tw), reset };
}

// ---------------------------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------------------------

/** Fraction read (null without a known size: stdin) and a linear estimate of the seconds left. */
export function readFraction(bytesRead: number, totalBytes: number | null, elapsed: number): { fraction: number | null; left: number | null } {
  if (totalBytes === null || totalBytes <= 0) return { fraction: null, left: null };
  const fraction = Math.min(1, bytesRead / totalBytes);
  const left = fraction > 0.01 && elapsed > 0.5 ? (elapsed / fraction) * (1 - fraction) : null;
  return { fraction, left };
}

/** Remember the last result (arguments compared by identity): screens are built per key press and per render. */
export function memoLast<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  let lastArgs: A | null = null;
  let last: R | undefined;
  return (...args: A): R => {
    const prev = lastArgs;
    if (prev !== null && prev.length === args.length && args.every((x, i) => Object.is(x, prev[i]))) return last as R;
    last = fn(...args);
    lastArgs = args;
    return last;
  };
}
