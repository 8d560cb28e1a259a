/**
 * The view's on-disk index of a finished analysis: every connection and finding of the report as a JSON line
 * (written once, in report order, from the analysis spool), their byte offsets as fixed 8-byte records, the
 * connections' timeline moments as fixed records, and a lower-cased search text per finding. In memory it keeps
 * only what sorting and filtering a list need, per finding (kind, severity, time, age, server rank, connection
 * row: 26 bytes) and per connection (its row by ordinal: 4 bytes), plus a bounded cache of the rows last shown.
 * A list page reads its rows from disk; a sort order is a permutation computed once when first asked for; a text
 * filter is one pass over the search text.
 */
import { FINDING_KINDS, type ConnectionReport, type Finding, type FindingKind, type Severity } from '../../model/report.js';
import type { ConnectionJson } from '../../model/json.js';
import { endpointFromText } from '../../decode/format.js';
import { SEVERITY_RANK } from '../../model/severity.js';
import type { FindingRow, KindRow, ListQuery, Timeline } from '../model.js';
import { memoLast, timeline } from '../model.js';
import type { FindingList, LadderReadBack, RowSource } from '../rows.js';
import type { SortKey } from '../view-state.js';
import { F64Reader, F64Writer, LineReader, LineWriter } from './files.js';
import type { TempDir } from '../../analyze/temp-dir.js';

/** Rows parsed and kept for redraws (each kind): a screen shows a few dozen. */
export const ROW_CACHE = 256;

const KIND_INDEX = new Map<FindingKind, number>(FINDING_KINDS.map((k, i) => [k, i]));

/** Reads a connection's ladder back from the capture (src/ui/index/ladder-readback.ts). */
export interface LadderSource {
  read(c: ConnectionReport): LadderReadBack;
  close(): void;
}

export interface BuildOptions {
  /** Lines between two turns of the event loop while building (keys stay live). */
  yieldEvery?: number;
  ladders?: LadderSource | null;
}

/** Least-recently-used map of at most `max` entries. */
class Lru<V> {
  private readonly m = new Map<number, V>();
  constructor(private readonly max: number) {}
  get size(): number { return this.m.size; }
  get(k: number): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) { this.m.delete(k); this.m.set(k, v); }
    return v;
  }
  set(k: number, v: V): void {
    if (this.m.size >= this.max) this.m.delete(this.m.keys().next().value as number);
    this.m.set(k, v);
  }
}

/** Growable Int32Array (connection rows by ordinal). */
class Ints {
  a = new Int32Array(1024).fill(-1);
  set(i: number, v: number): void {
    if (i >= this.a.length) {
      const b = new Int32Array(Math.max(i + 1, this.a.length * 2)).fill(-1);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
  get(i: number): number { return i >= 0 && i < this.a.length ? this.a[i]! : -1; }
}

/** A server endpoint's text as a key that sorts numerically by plain comparison (as the in-memory list sorts). */
const serverKey = (text: string): string => text.replace(/\d+/g, (d) => d.padStart(10, '0'));

const turn = () => new Promise<void>((r) => setImmediate(r));

type KeyFields = Pick<ConnectionJson, 'id' | 'client' | 'server' | 'start' | 'end' | 'findings' | 'times'>;

/**
 * What the index needs from a connection's JSON line, read without parsing the whole line (its ladder can be long):
 * the fields come before any nested list, in the order judgeConnection writes them. Anything unexpected: a full parse.
 */
export function keyFields(line: string): KeyFields {
  const text = (key: string, from: number): [string, number] | null => {
    const k = line.indexOf(`"${key}":"`, from);
    if (k < 0) return null;
    const a = k + key.length + 4;
    const b = line.indexOf('"', a);
    return b < 0 || line.lastIndexOf('\\', b) > a ? null : [line.slice(a, b), b];
  };
  const raw = (key: string, from: number, close: string): [string, number] | null => {
    const k = line.indexOf(`"${key}":`, from);
    if (k < 0) return null;
    const a = k + key.length + 3;
    const b = line.indexOf(close, a);
    return b < 0 ? null : [line.slice(a, close === ',' ? b : b + 1), b];
  };
  if (line.startsWith('{"id":"')) {
    const id = text('id', 0);
    const client = id && text('client', id[1]);
    const server = client && text('server', client[1]);
    const start = server && raw('start', server[1], ',');
    const end = start && raw('end', start[1], ',');
    const findings = end && raw('findings', end[1], ']');
    const times = findings && raw('times', findings[1], '}');
    if (times) {
      return {
        id: id![0], client: client![0], server: server![0], start: +start![0], end: +end![0],
        findings: JSON.parse(findings![0]) as ConnectionJson['findings'], times: JSON.parse(times[0]) as ConnectionJson['times'],
      };
    }
  }
  return JSON.parse(line) as ConnectionJson;
}

function toReport(j: ConnectionJson): ConnectionReport {
  const client = endpointFromText(j.client);
  const server = endpointFromText(j.server);
  if (client === null || server === null) throw new Error(`index: connection ${j.id} has unreadable endpoints`);
  return { ...j, client, server };
}

export class RowIndex implements RowSource {
  private readonly connLines: LineReader;
  private readonly connOff: F64Reader;
  private readonly times: F64Reader;
  private readonly findLines: LineReader;
  private readonly findOff: F64Reader;
  private readonly conns = new Lru<ConnectionReport>(ROW_CACHE);
  private readonly finds = new Lru<Finding>(ROW_CACHE);
  private readonly orders = new Map<SortKey, Uint32Array>();
  private lastMask: { filter: string; mask: Uint8Array | null } = { filter: '', mask: null };
  private readonly listOf = memoLast((kind: ListQuery['kind'], sort: SortKey, filter: string) => this.makeList(kind, sort, filter));
  private readonly binned = memoLast((start: number, end: number, bins: number) => timeline(this.allTimes(), start, end, bins));
  private closed = false;

  private constructor(
    private readonly dir: TempDir,
    readonly connectionCount: number,
    readonly findingCount: number,
    private readonly rowByOrdinal: Ints,
    private readonly rowById: Map<string, number>,
    private readonly fKind: Uint8Array,
    private readonly fSev: Uint8Array,
    private readonly fTime: Float64Array,
    private readonly fAge: Float64Array,
    private readonly fServer: Uint32Array,
    private readonly fConn: Int32Array,
    private readonly kindRowsList: KindRow[],
    private readonly sevCounts: Record<Severity, number>,
    private readonly ladders: LadderSource | null,
  ) {
    this.connLines = new LineReader(dir.file('connections.jsonl'));
    this.connOff = new F64Reader(dir.file('connections.off'), connectionCount + 1);
    this.times = new F64Reader(dir.file('connections.times'), connectionCount * 4);
    this.findLines = new LineReader(dir.file('findings.jsonl'));
    this.findOff = new F64Reader(dir.file('findings.off'), findingCount + 1);
    if (ladders !== null) this.readLadder = (c) => ladders.read(c);
  }

  readLadder?: (c: ConnectionReport) => LadderReadBack;

  /**
   * Writes the index from the report's connections and findings as JSON lines, each in report order (a streamed
   * analysis's spool gives them so: ReportSpool.connectionLines() then findingLines()).
   */
  static async build(dir: TempDir, connections: Iterable<string>, findings: Iterable<string>, opts: BuildOptions = {}): Promise<RowIndex> {
    const every = opts.yieldEvery ?? 4096;
    const cw = new LineWriter(dir.file('connections.jsonl'));
    const co = new F64Writer(dir.file('connections.off'));
    const tw = new F64Writer(dir.file('connections.times'));
    const rowByOrdinal = new Ints();
    const rowById = new Map<string, number>();
    // What a finding needs from its connection (only connections with findings; dropped after the build).
    const withFindings = new Map<number, { client: string; server: string; life: number }>();
    let n = 0;
    try {
      for (const line of connections) {
        co.add(cw.add(line));
        const c = keyFields(line);
        const m = /^c(\d+)$/.exec(c.id);
        if (m !== null) rowByOrdinal.set(+m[1]!, n); else rowById.set(c.id, n);
        const t = c.times;
        tw.add(t.halfClosed ?? NaN); tw.add(t.closed ?? NaN); tw.add(t.timeWaitUntil ?? NaN); tw.add(t.reset ?? NaN);
        if (c.findings.length > 0) withFindings.set(n, { client: c.client, server: c.server, life: Math.max(0, c.end - c.start) });
        if (++n % every === 0) await turn();
      }
      co.add(cw.offset);
    } finally {
      cw.close(); co.close(); tw.close();
    }
    const rowOf = (id: string): number => {
      const m = /^c(\d+)$/.exec(id);
      return m !== null ? rowByOrdinal.get(+m[1]!) : rowById.get(id) ?? -1;
    };

    const fw = new LineWriter(dir.file('findings.jsonl'));
    const fo = new F64Writer(dir.file('findings.off'));
    const hw = new LineWriter(dir.file('findings.search'));
    let cap = 1024;
    let fKind = new Uint8Array(cap); let fSev = new Uint8Array(cap); let fTime = new Float64Array(cap);
    let fAge = new Float64Array(cap); let fServerKey = new Uint32Array(cap); let fConn = new Int32Array(cap);
    const grow = () => {
      cap *= 2;
      const g = <T extends Uint8Array | Float64Array | Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => { const b = make(cap); b.set(a as never); return b; };
      fKind = g(fKind, (k) => new Uint8Array(k)); fSev = g(fSev, (k) => new Uint8Array(k)); fTime = g(fTime, (k) => new Float64Array(k));
      fAge = g(fAge, (k) => new Float64Array(k)); fServerKey = g(fServerKey, (k) => new Uint32Array(k)); fConn = g(fConn, (k) => new Int32Array(k));
    };
    const keys = new Map<string, number>([['', 0]]);
    const perKind = new Map<FindingKind, KindRow>();
    const sev: Record<Severity, number> = { info: 0, warn: 0, error: 0 };
    let k = 0;
    try {
      for (const line of findings) {
        if (k === cap) grow();
        fo.add(fw.add(line));
        const f = JSON.parse(line) as Finding;
        const row = f.connection === '' ? -1 : rowOf(f.connection);
        const c = row < 0 ? undefined : withFindings.get(row);
        const a = f.details.ageSeconds;
        fKind[k] = KIND_INDEX.get(f.kind) ?? 255;
        fSev[k] = SEVERITY_RANK[f.severity];
        fTime[k] = f.time;
        fAge[k] = typeof a === 'number' && Number.isFinite(a) ? a : c ? c.life : NaN;
        fConn[k] = row;
        const sk = c ? serverKey(c.server) : '';
        let id = keys.get(sk);
        if (id === undefined) keys.set(sk, (id = keys.size));
        fServerKey[k] = id;
        hw.add([f.kind, f.severity, f.connection, c ? c.client : '', c ? c.server : '', f.summary, f.why].join('\x00').toLowerCase().replace(/\n/g, ' '));
        let r = perKind.get(f.kind);
        if (!r) { r = { kind: f.kind, count: 0, bySeverity: { info: 0, warn: 0, error: 0 }, worst: f.severity }; perKind.set(f.kind, r); }
        r.count++;
        r.bySeverity[f.severity]++;
        if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[r.worst]) r.worst = f.severity;
        sev[f.severity]++;
        if (++k % every === 0) await turn();
      }
      fo.add(fw.offset);
    } finally {
      fw.close(); fo.close(); hw.close();
    }
    // Server keys by rank, so that a sort by server compares numbers.
    const sorted = [...keys.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rank = new Uint32Array(keys.size);
    sorted.forEach((key, i) => { rank[keys.get(key)!] = i; });
    const fServer = new Uint32Array(k);
    for (let i = 0; i < k; i++) fServer[i] = rank[fServerKey[i]!]!;
    const kindRowsList = FINDING_KINDS.flatMap((x) => { const r = perKind.get(x); return r ? [r] : []; });
    return new RowIndex(dir, n, k, rowByOrdinal, rowById, fKind.slice(0, k), fSev.slice(0, k), fTime.slice(0, k), fAge.slice(0, k),
      fServer, fConn.slice(0, k), kindRowsList, sev, opts.ladders ?? null);
  }

  /** Rows parsed and held in memory now (bounded by ROW_CACHE each for connections and findings). */
  get cachedRows(): number {
    return this.conns.size + this.finds.size;
  }

  /** The directory holding the index files. */
  get path(): string {
    return this.dir.path;
  }

  kinds(): KindRow[] {
    return this.kindRowsList;
  }

  severities(): Record<Severity, number> {
    return this.sevCounts;
  }

  list(q: ListQuery): FindingList {
    return this.listOf(q.kind, q.sort, q.filter);
  }

  connection(id: string): ConnectionReport | undefined {
    const row = this.rowOf(id);
    return row < 0 ? undefined : this.connectionAt(row);
  }

  /** The connection at `row` of the report's order. */
  connectionAt(row: number): ConnectionReport | undefined {
    if (row < 0 || row >= this.connectionCount) return undefined;
    let c = this.conns.get(row);
    if (c === undefined) {
      c = toReport(JSON.parse(this.connLines.read(this.connOff.get(row), this.connOff.get(row + 1) - 1)) as ConnectionJson);
      this.conns.set(row, c);
    }
    return c;
  }

  /** The finding at `i` of the report's order. */
  findingAt(i: number): Finding | undefined {
    if (i < 0 || i >= this.findingCount) return undefined;
    let f = this.finds.get(i);
    if (f === undefined) {
      f = JSON.parse(this.findLines.read(this.findOff.get(i), this.findOff.get(i + 1) - 1)) as Finding;
      this.finds.set(i, f);
    }
    return f;
  }

  findingsOf(id: string): Finding[] {
    const row = this.rowOf(id);
    if (row < 0) return [];
    const out: Finding[] = [];
    for (let i = 0; i < this.findingCount; i++) if (this.fConn[i] === row) out.push(this.findingAt(i)!);
    return out;
  }

  timeline(start: number, end: number, bins: number): Timeline {
    return this.binned(start, end, bins);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ladders?.close();
    for (const r of [this.connLines, this.connOff, this.times, this.findLines, this.findOff]) r.close();
    this.dir.remove();
  }

  private rowOf(id: string): number {
    const m = /^c(\d+)$/.exec(id);
    return m !== null ? this.rowByOrdinal.get(+m[1]!) : this.rowById.get(id) ?? -1;
  }

  private *allTimes(): Generator<Pick<ConnectionReport, 'times'>> {
    const v = (x: number) => (Number.isNaN(x) ? null : x);
    const t = { times: { halfClosed: null as number | null, closed: null as number | null, timeWaitUntil: null as number | null, reset: null as number | null } };
    for (const block of this.times.range(0, this.connectionCount * 4)) {
      for (let i = 0; i + 3 < block.length; i += 4) {
        t.times.halfClosed = v(block[i]!); t.times.closed = v(block[i + 1]!); t.times.timeWaitUntil = v(block[i + 2]!); t.times.reset = v(block[i + 3]!);
        yield t;
      }
    }
  }

  /** The findings in `sort` order (as the in-memory list sorts: stable, ties in report order). */
  private order(sort: SortKey): Uint32Array {
    let o = this.orders.get(sort);
    if (o !== undefined) return o;
    o = new Uint32Array(this.findingCount);
    for (let i = 0; i < o.length; i++) o[i] = i;
    const t = this.fTime;
    const byTime = (a: number, b: number) => t[a]! - t[b]! || a - b;
    const age = (i: number) => (Number.isNaN(this.fAge[i]!) ? -1 : this.fAge[i]!);
    switch (sort) {
      case 'time': o.sort(byTime); break;
      case 'age': o.sort((a, b) => age(b) - age(a) || byTime(a, b)); break;
      case 'severity': o.sort((a, b) => this.fSev[b]! - this.fSev[a]! || byTime(a, b)); break;
      case 'server': o.sort((a, b) => this.fServer[a]! - this.fServer[b]! || byTime(a, b)); break;
    }
    this.orders.set(sort, o);
    return o;
  }

  /** Which findings match a text filter (every term in the search text), one pass over it; null: no terms. */
  private mask(filter: string): Uint8Array | null {
    if (this.lastMask.filter === filter) return this.lastMask.mask;
    const terms = filter.toLowerCase().split(/\s+/).filter((x) => x.length > 0);
    let mask: Uint8Array | null = null;
    if (terms.length > 0) {
      mask = new Uint8Array(this.findingCount);
      const r = new LineReader(this.dir.file('findings.search'));
      try {
        let i = 0;
        for (const hay of r.lines()) { if (terms.every((x) => hay.includes(x))) mask[i] = 1; i++; }
      } finally {
        r.close();
      }
    }
    this.lastMask = { filter, mask };
    return mask;
  }

  private makeList(kind: ListQuery['kind'], sort: SortKey, filter: string): FindingList {
    const order = this.order(sort);
    const mask = this.mask(filter);
    const want = kind === 'all' ? -1 : KIND_INDEX.get(kind) ?? -2;
    let picked: Uint32Array = order;
    if (want !== -1 || mask !== null) {
      const out = new Uint32Array(order.length);
      let n = 0;
      for (let j = 0; j < order.length; j++) {
        const i = order[j]!;
        if ((want === -1 || this.fKind[i] === want) && (mask === null || mask[i] === 1)) out[n++] = i;
      }
      picked = out.slice(0, n);
    }
    return {
      length: picked.length,
      rows: (from, to) => {
        const rows: FindingRow[] = [];
        for (let j = Math.max(0, from); j < Math.min(to, picked.length); j++) {
          const i = picked[j]!;
          const finding = this.findingAt(i)!;
          rows.push({ finding, connection: this.connectionAt(this.fConn[i]!), age: Number.isNaN(this.fAge[i]!) ? null : this.fAge[i]! });
        }
        return rows;
      },
    };
  }
}


