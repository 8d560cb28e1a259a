import { aggregateInput, showsReuse, type AggregateInput } from '../findings/aggregates.js';
import { AGG, aggNums, TEARDOWNS } from './agg-numbers.js';
import { JsonBytes, LadderSpans, writeConnectionJson, writeFindingJson } from '../model/json-bytes.js';
import { ladderLeftOut } from '../model/json.js';
import { FINDING_KINDS, type ConnectionReport, type PairAggregate, type ServerAggregate, type Evictions, type Finding, type FindingKind, type Report, type Severity, type Teardown } from '../model/report.js';
import { LinkTable } from './link-table.js';
import { PairSpill } from './pair-spill.js';
import { PairsAside } from './pairs-aside.js';
import { seqTable } from './seq-index.js';
import { recordBound, setRecordKey, SortedSpill, writeRecord, SpillRecord, type Span } from './spill.js';

/** How a finding counts in the summary: its kind, severity, half-close class and place in the findings list. */
export interface SpoolFinding {
  kind: FindingKind;
  severity: Severity;
  /** stuck-half-close only: 1 stuck, 2 legitimate, 3 open at end, 4 other; 0 for other kinds. */
  half: 0 | 1 | 2 | 3 | 4;
  time: number;
  /** Its place among its connection's findings. */
  idx: number;
  /** The finding as JSON (when the spool writes JSON: UTF-8 bytes, valid until the next spoolRecord()), else null. */
  json: Span | null;
}

/**
 * One judged connection as the spool keeps it: its sort key (first frame, then the order connections were first
 * judged), the version (a connection reopened by late segments is judged again: the latest version wins), what the
 * summary and the aggregates need, and its JSON when the spool writes JSON.
 */
export interface SpoolConnection {
  ff: number;
  seq: number;
  version: number;
  teardown: Teardown;
  oneSided: boolean;
  agg: AggregateInput;
  /** Its JSON when the spool writes JSON (UTF-8 bytes, valid until the next spoolRecord()), else null. */
  json: Span | null;
  findings: SpoolFinding[];
}

/** A connection's share of the summary, kept while it may be judged again (json dropped). */
export type Contribution = Omit<SpoolConnection, 'json' | 'agg'>;

export interface SpoolOptions {
  /** Keep each connection's and finding's JSON (for --json); otherwise only what the summary and aggregates need. */
  json: boolean;
  /** With json: ladders of all connections, or only of those with findings (as `jsonChunks` writes them). */
  ladders?: 'all' | 'findings';
  /** Bytes held in memory before a sorted run goes to disk (tests make it small). */
  runBytes?: number;
  /**
   * The pair rows aggregates() gives: all of them (default), or only those the text report lists (showsReuse: on a
   * long capture almost every pair has one connection and no reuse, and is folded but neither kept nor read back).
   */
  pairs?: 'all' | 'reuse';
}

function halfClass(f: Finding): SpoolFinding['half'] {
  if (f.kind !== 'stuck-half-close') return 0;
  const d = f.details;
  return d.stuck === true ? 1 : d.legitimate === true ? 2 : d.openAtEnd === true ? 3 : 4;
}

/** Where spool records write their JSON (one at a time: a record's bytes are copied into a spill before the next). */
const scratch = new JsonBytes();
/** Where the record's ladder packets went in scratch (its findings' evidence packets are copied from there). */
const ladder = new LadderSpans();

/** A judged connection and its findings as a spool record (the JSON exactly as `jsonChunks` writes it). */
export function spoolRecord(c: ConnectionReport, findings: readonly Finding[], seq: number, version: number, opts: SpoolOptions): SpoolConnection {
  const w = scratch;
  w.n = 0;
  let json: Span | null = null;
  if (opts.json) {
    ladder.clear();
    writeConnectionJson(w, c, ladderLeftOut(c, opts.ladders === 'all'), ladder);
    json = { buf: w.buf, at: 0, end: w.n };
  }
  const fs: SpoolFinding[] = [];
  for (let idx = 0; idx < findings.length; idx++) {
    const f = findings[idx] as Finding;
    let fj: Span | null = null;
    if (opts.json) { const at = w.n; writeFindingJson(w, f, ladder); fj = { buf: w.buf, at, end: w.n }; }
    fs.push({ kind: f.kind, severity: f.severity, half: halfClass(f), time: f.time, idx, json: fj });
  }
  // The buffer may have grown while the findings were written: every span points into the final one.
  if (json !== null) json.buf = w.buf;
  for (const f of fs) if (f.json !== null) f.json.buf = w.buf;
  return { ff: c.firstFrame, seq, version, teardown: c.teardown, oneSided: c.capture === 'one-sided', agg: aggregateInput(c, findings), json, findings: fs };
}

/** Where a streamed session sends its judged connections: a ReportSpool, or an analysis thread's forwarder. */
export interface SpoolTarget {
  readonly opts: SpoolOptions;
  add(r: SpoolConnection, prev: Contribution | null): void;
  link(seq: number, next: string, start: number): void;
}

type Key = [number, number, number, number];

const SEVERITIES: readonly Severity[] = ['info', 'warn', 'error'];

/** A connection record's text: the client's and the server's addresses (for the aggregates), then its JSON. */
const connHead = (r: SpoolConnection): string => `${r.agg.client.address}\t${r.agg.server.address}\t`;

/** A contribution as numbers (ReportSpool.addBatch reads them back). */
function pushContribution(out: number[], r: Contribution): void {
  out.push(r.ff, r.seq, r.version, TEARDOWNS.indexOf(r.teardown), r.oneSided ? 1 : 0, r.findings.length);
  for (const f of r.findings) out.push(FINDING_KINDS.indexOf(f.kind), SEVERITIES.indexOf(f.severity), f.half, f.time);
}

/**
 * An analysis thread's judged connections on their way to the reader's ReportSpool: the spill records written here
 * as bytes (the JSON encoded once, in this thread) and each connection's share of the totals as numbers, handed over
 * as transferable buffers (no copy of text between threads).
 */
export class SpoolBatch implements SpoolTarget {
  private buf = newBatchBuffer(1 << 20);
  /** Buffers handed back (recycle()), for the next batches. */
  private readonly spares: ArrayBuffer[] = [];
  private used = 0;
  private meta: number[] = [];
  private readonly nums: number[] = [];
  /** Connections in this batch. */
  size = 0;

  constructor(readonly opts: SpoolOptions, private readonly onLink: (seq: number, next: string, start: number) => void) {}

  add(r: SpoolConnection, prev: Contribution | null): void {
    pushContribution(this.meta, r);
    if (prev === null) this.meta.push(0); else { this.meta.push(1); pushContribution(this.meta, prev); }
    const n = aggNums(r.agg, this.nums);
    const head = connHead(r);
    this.room(recordBound(n, head, r.json));
    this.used = writeRecord(this.buf, this.used, r.ff, r.seq, r.version, 0, this.nums, n, head, r.json);
    this.size++;
    if (!this.opts.json) return;
    for (const f of r.findings) {
      this.room(recordBound(1, '', f.json));
      this.nums[0] = r.version;
      this.used = writeRecord(this.buf, this.used, f.time, r.ff, r.seq, f.idx, this.nums, 1, '', f.json);
    }
  }

  link(seq: number, next: string, start: number): void {
    this.onLink(seq, next, start);
  }

  /**
   * The batch so far (its buffers change hands: transfer them), and the next one started in a buffer handed back
   * (recycle()) when there is one, else a fresh one.
   */
  take(): { bytes: ArrayBuffer; used: number; meta: Float64Array } {
    const out = { bytes: this.buf.buffer as ArrayBuffer, used: this.used, meta: Float64Array.from(this.meta) };
    const spare = this.spares.pop();
    this.buf = spare !== undefined ? Buffer.from(spare) : newBatchBuffer(this.buf.length);
    this.used = 0;
    this.meta = [];
    this.size = 0;
    return out;
  }

  /**
   * A buffer of an earlier batch, read and handed back: the next batches are written in it instead of a fresh one
   * (a fresh buffer is a MiB of new pages to zero and fault in, and one more for the reading thread to free).
   * Buffers smaller than the one in use are dropped.
   */
  recycle(bytes: ArrayBuffer): void {
    if (bytes.byteLength >= this.buf.length && this.spares.length < MAX_SPARES) this.spares.push(bytes);
  }

  private room(need: number): void {
    if (this.used + need <= this.buf.length) return;
    const grown = newBatchBuffer(Math.max(this.used + need, 2 * this.buf.length));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/** Buffers handed back that a SpoolBatch keeps at most (more in flight are dropped). */
const MAX_SPARES = 4;

/** A buffer of its own ArrayBuffer (transferable; not a slice of node's pool). */
const newBatchBuffer = (n: number): Buffer => Buffer.from(new ArrayBuffer(n));

/** A JSON line read back in place: bytes [at, end) of buf. */
export interface LineBytes { buf: Buffer; at: number; end: number }

const keyBefore = (a: Key, b: Key): boolean =>
  a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && (a[2] < b[2] || (a[2] === b[2] && a[3] < b[3])))));

/**
 * The report of a streamed analysis, without holding it: each judged connection is counted into exact totals and
 * goes, with its findings (when the spool keeps JSON), to sorted spills (src/analyze/spill.ts: memory up to a run,
 * then temporary files), and to the pair spill the aggregates are folded from (src/analyze/pair-spill.ts). At the
 * end the spills are read back merged: connections by first frame, findings by time then connection, exactly the
 * order of a whole report (AnalysisSession.build), with the `next` links and TIME_WAIT ends the later incarnations
 * settled (link()). Memory: a run of each spill, the totals, the server rows, and a link per tuple reused (~30
 * bytes each, outside the heap: LinkTable).
 */
export class ReportSpool implements SpoolTarget {
  /** The connections' records (only when the spool keeps JSON: the aggregates are folded from the pair spill). */
  private readonly conns: SortedSpill | null;
  private readonly finds: SortedSpill | null;
  /** Connections judged more than once: the version that counts. */
  private readonly latest = new Map<number, number>();
  /** Connections followed by a later incarnation: its id and start (the TIME_WAIT ends there). */
  private readonly links = new LinkTable();
  private readonly teardown: Record<Teardown, number> = { fin: 0, rst: 0, 'half-close': 0, refused: 0, open: 0, none: 0 };
  private readonly severity: Record<Severity, number> = { info: 0, warn: 0, error: 0 };
  private readonly kinds = new Map<FindingKind, number>();
  /** Per kind, the place of its first finding in the report's order (the summary lists kinds in that order). */
  private readonly firstOf = new Map<FindingKind, Key>();
  /** A first finding was withdrawn by a new judgement: the order of kinds is read back from the findings spill. */
  private firstsStale = false;
  private readonly halfCloses = { stuck: 0, openAtEnd: 0, legitimate: 0, other: 0 };
  private connections = 0;
  private oneSided = 0;
  /** The connection that comes first in the report (findings not tied to a connection sort right after it). */
  private first: [number, number] | null = null;
  private floodKeys = 0;
  private readonly pairs: PairSpill;
  private aside: PairsAside | null = null;
  /** Put the final connection ids into a JSON line (threads number connections on their own); identity by default. */
  ids: (line: string) => string = (line) => line;
  /** Threads: the final number of thread w's connection `local` (the lines' bytes hold placeholders); null: ids are final. */
  globalId: ((w: number, local: number) => number) | null = null;
  private readonly nums: number[] = [];
  private readonly rec = new SpillRecord();
  private readonly pairText: Span = { buf: Buffer.alloc(0), at: 0, end: 0 };

  constructor(readonly opts: SpoolOptions) {
    this.conns = opts.json ? new SortedSpill('connections', opts.runBytes) : null;
    this.finds = opts.json ? new SortedSpill('findings', opts.runBytes) : null;
    // Every judgement goes to the pair spill as it comes; the version that counts and the TIME_WAIT cut by a later
    // incarnation are settled when the rows are asked for.
    this.pairs = new PairSpill(opts.runBytes, opts.pairs === 'reuse' ? showsReuse : null, {
      version: (seq) => this.latest.get(seq),
      nextStart: (seq) => this.links.start(seq),
    });
  }

  /** A judged connection; `prev`: its share from an earlier judgement of the same connection (withdrawn). */
  add(r: SpoolConnection, prev: Contribution | null): void {
    this.account(r, prev);
    if (this.finds !== null) {
      for (const f of r.findings) { this.nums[0] = r.version; this.finds.add(f.time, r.ff, r.seq, f.idx, this.nums, 1, '', f.json); }
    }
    const n = aggNums(r.agg, this.nums);
    this.pairs.addNums(r.ff, r.seq, r.version, this.nums, n, `${r.agg.client.address}\t${r.agg.server.address}`);
    this.conns?.add(r.ff, r.seq, r.version, 0, this.nums, n, connHead(r), r.json);
  }

  /**
   * Judged connections from an analysis thread (SpoolBatch): their shares as numbers (`meta`) and their records as
   * bytes, copied into the spills as they are; `seq` maps the thread's connection numbers to this spool's.
   */
  addBatch(bytes: Buffer, meta: Float64Array, seq: (local: number) => number): void {
    let m = 0;
    let at = 0;
    const contribution = (): Contribution => {
      const ff = meta[m++] as number;
      const s = seq(meta[m++] as number);
      const version = meta[m++] as number;
      const teardown = TEARDOWNS[meta[m++] as number] as Teardown;
      const oneSided = meta[m++] === 1;
      const findings: SpoolFinding[] = [];
      for (let k = meta[m++] as number, idx = 0; k > 0; k--, idx++) {
        findings.push({ kind: FINDING_KINDS[meta[m++] as number] as FindingKind, severity: SEVERITIES[meta[m++] as number] as Severity, half: meta[m++] as SpoolFinding['half'], time: meta[m++] as number, idx, json: null });
      }
      return { ff, seq: s, version, teardown, oneSided, findings };
    };
    while (m < meta.length) {
      const r = contribution();
      const prev = meta[m++] === 1 ? contribution() : null;
      this.account(r, prev);
      setRecordKey(bytes, at, 1, r.seq);
      this.pairFrom(bytes, at, r);
      at += this.conns !== null ? this.conns.addRecord(bytes, at) : bytes.readUInt32LE(at);
      if (this.finds !== null) {
        for (let k = 0; k < r.findings.length; k++) { setRecordKey(bytes, at, 2, r.seq); at += this.finds.addRecord(bytes, at); }
      }
    }
  }

  /** A connection record of a thread's batch (its aggregate numbers, its addresses) to the pair spill. */
  private pairFrom(bytes: Buffer, at: number, r: Contribution): void {
    const rec = this.rec;
    rec.read(bytes, at);
    const x = this.nums;
    for (let i = 0; i < rec.count; i++) x[i] = rec.num(i);
    const t0 = bytes.indexOf(9, rec.textAt);
    const text = this.pairText;
    text.buf = bytes; text.at = rec.textAt; text.end = bytes.indexOf(9, t0 + 1);
    this.pairs.addNums(r.ff, r.seq, r.version, x, rec.count, text);
  }

  /** A judged connection's share of the totals (`prev`: its earlier judgement's, withdrawn). */
  private account(r: Contribution, prev: Contribution | null): void {
    if (prev !== null) this.withdraw(prev);
    else this.connections++;
    if (r.version > 0) this.latest.set(r.seq, r.version);
    if (this.first === null || r.ff < this.first[0] || (r.ff === this.first[0] && r.seq < this.first[1])) this.first = [r.ff, r.seq];
    this.teardown[r.teardown]++;
    if (r.oneSided) this.oneSided++;
    for (const f of r.findings) this.count(f, 1, [f.time, r.ff, r.seq, f.idx]);
  }

  /** Connection `seq` is followed on its tuple by connection `next`, which starts at `start`. */
  link(seq: number, next: string, start: number): void {
    this.links.set(seq, next, start);
  }

  /** Findings not tied to a connection (syn-flood), in their order: after the first connection's findings at the same time. */
  addLoose(findings: readonly Finding[]): void {
    const [ff, seq] = this.first ?? [0, 0];
    for (const f of findings) {
      const idx = this.floodKeys++;
      this.count({ kind: f.kind, severity: f.severity, half: halfClass(f), time: f.time, idx, json: null }, 1, [f.time, ff, seq + 0.5, idx]);
      this.nums[0] = -1;
      this.finds?.add(f.time, ff, seq + 0.5, idx, this.nums, 1, JSON.stringify(f));
    }
  }

  summary(evicted: Evictions): Report['summary'] {
    if (this.firstsStale && this.finds !== null) this.readFirsts();
    const kinds: Partial<Record<FindingKind, number>> = {};
    const order = [...this.firstOf].filter(([k]) => (this.kinds.get(k) ?? 0) > 0).sort(([, a], [, b]) => (keyBefore(a, b) ? -1 : keyBefore(b, a) ? 1 : 0));
    for (const [k] of order) kinds[k] = this.kinds.get(k) as number;
    return {
      connections: this.connections, teardown: { ...this.teardown }, oneSided: this.oneSided, halfCloses: { ...this.halfCloses },
      findings: kinds, severity: { ...this.severity }, evicted,
    };
  }

  /**
   * The final connections in report order, as JSON lines (none when the spool keeps no JSON), with their
   * final ids.
   */
  *connectionLines(): Generator<string> {
    for (const x of this.connectionBytes()) yield typeof x === 'string' ? x : this.ids(x.buf.toString('utf8', x.at, x.end));
  }

  /** The findings in report order, as JSON lines (the spool keeps JSON). */
  *findingLines(): Generator<string> {
    for (const x of this.findingBytes()) yield typeof x === 'string' ? x : this.ids(x.buf.toString('utf8', x.at, x.end));
  }

  /**
   * connectionLines() without making strings: a line the spool did not have to change comes as its bytes in place
   * (valid until the next one; thread id placeholders still in them: see globalId).
   */
  *connectionBytes(): Generator<string | LineBytes> {
    const bytes: LineBytes = { buf: Buffer.alloc(0), at: 0, end: 0 };
    if (this.conns === null) return;
    for (const r of this.conns.sorted()) {
      const latest = this.latest.get(r.k1);
      if (latest !== undefined && latest !== r.k2) continue;
      const t0 = r.buf.indexOf(9, r.textAt);
      const t1 = r.buf.indexOf(9, t0 + 1);
      const link = this.links.get(r.k1);
      if (link !== undefined) {
        let json = r.buf.toString('utf8', t1 + 1, r.textEnd);
        const [next, start] = link;
        if (json !== '') json = json.replace('"next":null', `"next":${JSON.stringify(next)}`);
        const tw = r.num(AGG.timeWaitUntil);
        if (json !== '' && !Number.isNaN(tw) && tw > start) json = json.replace(`"timeWaitUntil":${JSON.stringify(tw)}`, `"timeWaitUntil":${JSON.stringify(start)}`);
        yield json === '' ? json : this.ids(json);
        continue;
      }
      bytes.buf = r.buf; bytes.at = t1 + 1; bytes.end = r.textEnd;
      yield bytes.at === bytes.end ? '' : bytes;
    }
  }

  /** findingLines() as bytes in place (thread id placeholders still in them: see globalId). */
  *findingBytes(): Generator<string | LineBytes> {
    if (this.finds === null) return;
    const bytes: LineBytes = { buf: Buffer.alloc(0), at: 0, end: 0 };
    for (const r of this.finds.sorted()) {
      const version = r.num(0);
      if (version >= 0) { const latest = this.latest.get(r.k2); if (latest !== undefined && latest !== version) continue; }
      bytes.buf = r.buf; bytes.at = r.textAt; bytes.end = r.textEnd;
      yield bytes;
    }
  }

  /** Per-server and per-pair rows (folded from the pair spill: the connections are not read back). */
  aggregates(): Report['aggregates'] {
    const a = this.aggregateRows();
    return { servers: a.servers, pairs: [...a.pairs] };
  }

  /** aggregates() with the pair rows read back one at a time (a row per client → server pair: --json writes them as they come). */
  aggregateRows(): { servers: ServerAggregate[]; pairs: Iterable<PairAggregate> } {
    return { servers: this.pairs.servers(), pairs: this.pairs.rows() };
  }

  /** aggregateRows() with each pair row as its JSON (bytes valid until the next: see PairSpill.rowJson). */
  aggregateJsonRows(): { servers: ServerAggregate[]; pairs: Iterable<Span> } {
    return { servers: this.pairs.servers(), pairs: this.pairs.rowJson() };
  }

  /**
   * The aggregates folded on another thread from here on (PairsAside), once every judgement is in: the pair spill's
   * runs go to it, and nothing more may be added. close() ends it. Null when the pair spill never outgrew memory
   * (up to ~25 k connections): folded here, it takes less than a thread takes to start.
   */
  foldPairsAside(): PairsAside | null {
    if (!this.pairs.spilled) return null;
    this.aside?.close();
    this.aside = new PairsAside(this.pairs.handOff(), this.opts.runBytes, this.opts.pairs === 'reuse', seqTable(this.latest), this.links.startTable());
    return this.aside;
  }

  close(): void {
    this.conns?.close();
    this.finds?.close();
    this.aside?.close();
    this.pairs.close();
  }

  private count(f: SpoolFinding, d: 1 | -1, key: Key): void {
    this.kinds.set(f.kind, (this.kinds.get(f.kind) ?? 0) + d);
    this.severity[f.severity] += d;
    if (f.half === 1) this.halfCloses.stuck += d;
    else if (f.half === 2) this.halfCloses.legitimate += d;
    else if (f.half === 3) this.halfCloses.openAtEnd += d;
    else if (f.half === 4) this.halfCloses.other += d;
    const first = this.firstOf.get(f.kind);
    if (d > 0) { if (first === undefined || keyBefore(key, first)) this.firstOf.set(f.kind, key); }
    else if (first !== undefined && !keyBefore(first, key) && !keyBefore(key, first)) this.firstsStale = true;
  }

  private withdraw(p: Contribution): void {
    this.teardown[p.teardown]--;
    if (p.oneSided) this.oneSided--;
    for (const f of p.findings) this.count(f, -1, [f.time, p.ff, p.seq, f.idx]);
  }

  /** The first finding of each kind, from the findings spill (after a withdrawn first). */
  private readFirsts(): void {
    this.firstOf.clear();
    for (const r of (this.finds as SortedSpill).sorted()) {
      const version = r.num(0);
      if (version >= 0) { const latest = this.latest.get(r.k2); if (latest !== undefined && latest !== version) continue; }
      const kind = /"kind":"([a-z-]+)"/.exec(r.text())?.[1] as FindingKind;
      if (!this.firstOf.has(kind)) this.firstOf.set(kind, [r.k0, r.k1, r.k2, r.k3]);
    }
    this.firstsStale = false;
  }
}
