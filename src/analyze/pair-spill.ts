import { byPileUp, foldPair, foldServer, newPairAcc, newServerRow, pairRow, type AggregateInput, type PairAcc } from '../findings/aggregates.js';
import { fmix32 } from '../model/hash.js';
import type { PairAggregate, ServerAggregate, Teardown } from '../model/report.js';
import { AGG, aggNums, TEARDOWNS } from './agg-numbers.js';
import { JsonBytes, writePairAggregate } from '../model/json-bytes.js';
import { SortedSpill, SpillRecord, type Span, type SpillRuns } from './spill.js';

/** A text's hash with a seed (two seeds: 64 bits to group a pair's connections; equal texts are still compared). */
function textHash(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h ^ s.length) >>> 0;
}

/** textHash() of a text given as its bytes (the same for ASCII, which addresses are). */
function bytesHash(b: Uint8Array, at: number, end: number, seed: number): number {
  let h = seed;
  for (let i = at; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return fmix32(h ^ (end - at)) >>> 0;
}

/** A connection without reuses or half-closes (the folds only read them). */
const NONE: [boolean, number][] = [];

/** Null fields of a row, as bits of its first number. */
const NO_RATE = 1;
const NO_FASTEST = 2;
const NO_PEAK = 4;
const NO_RATIO = 8;

/**
 * What settles a connection's numbers once every judgement is in: the version of it that counts (undefined: it was
 * judged once), and the start of the next incarnation on its tuple (its TIME_WAIT ends there; undefined: none).
 */
export interface PairFinals {
  version(seq: number): number | undefined;
  nextStart(seq: number): number | undefined;
}

/** Bytes of pair records held in memory before a run goes to disk (~25 k connections). */
const PAIR_RUN_BYTES = 4 << 20;

/** Every connection judged once, none followed by another incarnation. */
const AS_ADDED: PairFinals = { version: () => undefined, nextStart: () => undefined };

/**
 * The per-pair (client address → server endpoint) and per-server aggregates of a streamed report, exactly as
 * AggregateAccumulator.pairRows() and serverRows() give them, in bounded memory: a long capture has a pair for almost
 * every connection (a million pairs is ~500 MB as rows and running totals). Each judgement of a connection, as it
 * comes (any order, every version), goes to a sorted spill keyed by its pair's hash, then its place in the report
 * (first frame, connection number). Read back, each pair's connections come together and in the report's order;
 * the version that counts is folded (foldPair, foldServer, as the accumulator does) with its TIME_WAIT cut where the
 * tuple's next incarnation starts (PairFinals), and the pair's row goes to a second spill keyed by the rows' order
 * (byPressure, ties by the pair's first connection: the accumulator's first-appearance order). The server rows
 * (one per server, in memory) are sums and maxima over the pairs' connections, ordered by each server's first
 * connection. Memory: the spills' runs, one pair at a time and the server rows.
 */
export class PairSpill {
  private readonly input: SortedSpill;
  private output: SortedSpill | null = null;
  private serverRows: ServerAggregate[] | null = null;
  private n = 0;
  private readonly nums: number[] = [];

  /**
   * `keep`: only the rows it keeps are spilled and read back (every pair is still folded); null: all.
   * `finals`: consulted when the rows are first asked for.
   */
  constructor(private readonly runBytes?: number, private readonly keep: ((row: PairAggregate) => boolean) | null = null, private readonly finals: PairFinals = AS_ADDED, input?: SortedSpill) {
    // Its runs fill while the connections' spill fills too (with threads, while they run): a smaller run each.
    this.input = input ?? new SortedSpill('pairs', runBytes ?? PAIR_RUN_BYTES);
  }

  /** Whether the judgements outgrew memory (a run went to disk): folding them takes long enough to be worth a thread. */
  get spilled(): boolean {
    return this.input.runCount > 0;
  }

  /** The judgements added, as sorted runs on disk, for another thread to fold (ofRuns()): nothing may be added after. */
  handOff(): SpillRuns {
    return this.input.handOff();
  }

  /** A PairSpill of the judgements another one handed off, its rows as that one's would be (the same runBytes, keep and finals). */
  static ofRuns(runs: SpillRuns, runBytes: number | undefined, keep: ((row: PairAggregate) => boolean) | null, finals: PairFinals): PairSpill {
    return new PairSpill(runBytes, keep, finals, SortedSpill.ofRuns(runs));
  }

  /** A judged connection: by default the next in the report's order, judged once. */
  add(c: AggregateInput, ff: number = this.n, seq = 0, version = 0): void {
    const x: number[] = [];
    const count = aggNums(c, x);
    this.addNums(ff, seq, version, x, count, `${c.client.address}\t${c.server.address}`);
  }

  /**
   * A judged connection as its place in the report (first frame `ff`, connection number `seq`), its version, its
   * aggregate numbers (src/analyze/agg-numbers.ts) and its pair's text (client and server addresses, a tab between;
   * as a string or as its bytes).
   */
  addNums(ff: number, seq: number, version: number, nums: ArrayLike<number>, count: number, text: string | Span): void {
    const x = this.nums;
    x[0] = version;
    for (let i = 0; i < count; i++) x[i + 1] = nums[i] as number;
    // The pair's text (client and server addresses; the server's port is among the numbers): hashed with the port.
    const port = nums[AGG.serverPort] as number;
    if (typeof text === 'string') this.input.add(textHash(text, 0x811c9dc5 ^ port), textHash(text, 0x9747b28c ^ port), ff, seq, x, count + 1, text);
    else this.input.add(bytesHash(text.buf, text.at, text.end, 0x811c9dc5 ^ port), bytesHash(text.buf, text.at, text.end, 0x9747b28c ^ port), ff, seq, x, count + 1, '', text);
    this.n++;
  }

  /** The pair rows in the accumulator's order (read back from disk as they go out). */
  *rows(): Generator<PairAggregate> {
    for (const r of this.rowRecords()) yield rowOf(r);
  }

  /**
   * rows() as the JSON writePairAggregate() writes for each (bytes valid until the next), written from the spilled
   * records without making the rows.
   */
  *rowJson(): Generator<Span> {
    const w = new JsonBytes(256);
    const out: Span = { buf: w.buf, at: 0, end: 0 };
    for (const r of this.rowRecords()) {
      w.n = 0;
      writeRowJson(w, r);
      out.buf = w.buf; out.end = w.n;
      yield out;
    }
  }

  /** The spilled rows in the accumulator's order: rows with equal keys (the same first frame) by their first connection's number. */
  private *rowRecords(): Generator<SpillRecord> {
    const out = this.output ??= this.fold();
    // The last record read, copied (it goes out once the next one's keys differ), and any tied with it.
    let held: SpillRecord[] = [];
    for (const r of out.sorted()) {
      const h = held[0];
      if (h !== undefined && (r.k0 !== h.k0 || r.k1 !== h.k1 || r.k2 !== h.k2 || r.k3 !== h.k3)) {
        if (held.length > 1) held.sort((a, b) => a.num(11) - b.num(11));
        yield* held;
        held = [];
      }
      held.push(copyRecord(r));
    }
    if (held.length > 1) held.sort((a, b) => a.num(11) - b.num(11));
    yield* held;
  }

  /** The server rows in the accumulator's order (byPileUp, ties by first appearance). */
  servers(): ServerAggregate[] {
    this.output ??= this.fold();
    return this.serverRows as ServerAggregate[];
  }

  close(): void {
    this.input.close();
    this.output?.close();
  }

  /** Every pair's connections folded, its row spilled in row order; the server rows. */
  private fold(): SortedSpill {
    const out = new SortedSpill('pair-rows', this.runBytes);
    const servers = new ServerTable();
    /**
     * The pairs of one hash (almost always one): told apart by their server port and text, compared as bytes (the
     * texts of the hash's pairs are copied into `texts`; no string per connection).
     */
    const group: Group[] = [];
    let bytes = Buffer.allocUnsafe(1024);
    const texts: Span = { buf: bytes, at: 0, end: 0 };
    let used = 0;
    let h0 = NaN;
    let h1 = NaN;
    const x = this.nums;
    const flush = (): void => {
      for (const g of group) {
        const a = pairRow(g.acc);
        if (this.keep !== null && !this.keep(a)) continue;
        x[0] = (a.ratePerSecond === null ? NO_RATE : 0) | (a.fastestReuseSeconds === null ? NO_FASTEST : 0)
          | (a.portsInUsePeak === null ? NO_PEAK : 0) | (a.exhaustionRatio === null ? NO_RATIO : 0);
        x[1] = a.connections; x[2] = a.distinctClientPorts; x[3] = a.ratePerSecond ?? 0; x[4] = a.timeWaitReuses;
        x[5] = a.rejectedReuses; x[6] = a.fastestReuseSeconds ?? 0; x[7] = a.portsInUsePeak ?? 0; x[8] = a.exhaustionRatio ?? 0;
        x[9] = g.server.server.ipVersion; x[10] = g.port; x[11] = g.seq;
        texts.at = g.at; texts.end = g.end;
        // byPressure as keys: larger ratio, reuses, connections first; then the order of first appearance.
        out.add(-(a.exhaustionRatio ?? 0), -a.timeWaitReuses, -a.connections, g.ff, x, 12, '', texts);
      }
      group.length = 0;
      used = 0;
    };
    // What the folds read of a connection (newPairAcc keeps its server: the server row's endpoint).
    const c: AggregateInput = {
      client: { ipVersion: 4, address: '', port: 0 }, server: { ipVersion: 4, address: '', port: 0 },
      teardown: 'none', start: 0, end: 0, timeWaitUntil: null, halfCloses: [], reuses: [],
    };
    const client = c.client as { ipVersion: 4 | 6; address: string; port: number };
    const finals = this.finals;
    for (const r of this.input.sorted()) {
      const version = r.num(0);
      const counts = finals.version(r.k3);
      if (counts !== undefined && counts !== version) continue;
      if (r.k0 !== h0 || r.k1 !== h1) { flush(); h0 = r.k0; h1 = r.k1; }
      const b = r.buf;
      const at = r.textAt;
      const end = r.textEnd;
      const port = r.num(1 + AGG.serverPort);
      client.port = r.num(1 + AGG.clientPort);
      c.teardown = TEARDOWNS[r.num(1 + AGG.teardown)] as Teardown;
      c.start = r.num(1 + AGG.start); c.end = r.num(1 + AGG.end);
      const tw = r.num(1 + AGG.timeWaitUntil);
      c.timeWaitUntil = Number.isNaN(tw) ? null : tw;
      const next = finals.nextStart(r.k3);
      if (next !== undefined && c.timeWaitUntil !== null && c.timeWaitUntil > next) c.timeWaitUntil = next;
      let k = 1 + AGG.lists;
      let n = r.num(k++);
      if (n === 0) c.halfCloses = NONE;
      else for (c.halfCloses = []; n > 0; n--, k += 2) c.halfCloses.push([r.num(k) === 1, r.num(k + 1)]);
      n = r.num(k++);
      if (n === 0) c.reuses = NONE;
      else for (c.reuses = []; n > 0; n--, k += 2) c.reuses.push([r.num(k) === 1, r.num(k + 1)]);
      let g: Group | undefined;
      for (const e of group) if (e.port === port && sameBytes(b, at, end, bytes, e.at, e.end)) { g = e; break; }
      if (g === undefined) {
        if (used + end - at > bytes.length) {
          const grown = Buffer.allocUnsafe(Math.max(2 * bytes.length, used + end - at));
          bytes.copy(grown, 0, 0, used);
          bytes = grown;
          texts.buf = grown;
        }
        b.copy(bytes, used, at, end);
        let tab = at;
        while (tab < end && b[tab] !== 9) tab++;
        const s = servers.get(b, tab + 1, end, port, r.num(1 + AGG.serverVersion) as 4 | 6, r.k2, r.k3);
        client.ipVersion = r.num(1 + AGG.clientVersion) as 4 | 6;
        c.server = s.row.server;
        g = { acc: newPairAcc(c), ff: r.k2, seq: r.k3, port, at: used, end: used + end - at, server: s.row };
        used = g.end;
        group.push(g);
      }
      foldPair(g.acc, c);
      foldServer(g.server, c);
    }
    flush();
    this.input.close();
    this.serverRows = servers.rows();
    return out;
  }
}

/** A pair being folded: its totals, its first connection's place, its server port and text (bytes [at, end) of the group's texts). */
interface Group { acc: PairAcc; ff: number; seq: number; port: number; at: number; end: number; server: ServerAggregate }

/** Bytes [a, aEnd) of x equal to bytes [b, bEnd) of y. */
function sameBytes(x: Uint8Array, a: number, aEnd: number, y: Uint8Array, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  while (a < aEnd) if (x[a++] !== y[b++]) return false;
  return true;
}

/** A server row with its address as bytes and its first connection's place. */
interface ServerEntry { row: ServerAggregate; address: Buffer; port: number; ff: number; seq: number }

/** The server rows by address (as bytes) and port: made when first met (one address string per server, not per connection). */
class ServerTable {
  private readonly byHash = new Map<number, ServerEntry[]>();
  private readonly list: ServerEntry[] = [];

  /** The row of the server whose address is bytes [at, end) of b, on `port`, met at (ff, seq): the earliest place is kept. */
  get(b: Buffer, at: number, end: number, port: number, ipVersion: 4 | 6, ff: number, seq: number): ServerEntry {
    const h = bytesHash(b, at, end, 0x811c9dc5 ^ port);
    let list = this.byHash.get(h);
    if (list === undefined) { list = []; this.byHash.set(h, list); }
    for (const s of list) {
      if (s.port === port && sameBytes(b, at, end, s.address, 0, s.address.length)) {
        if (ff < s.ff || (ff === s.ff && seq < s.seq)) { s.ff = ff; s.seq = seq; }
        return s;
      }
    }
    const s: ServerEntry = { row: newServerRow({ ipVersion, address: b.toString('utf8', at, end), port }), address: Buffer.from(b.subarray(at, end)), port, ff, seq };
    list.push(s);
    this.list.push(s);
    return s;
  }

  /** First appearance, then the pile-up (a stable sort). */
  rows(): ServerAggregate[] {
    return [...this.list].sort((a, b) => a.ff - b.ff || a.seq - b.seq).map((s) => s.row).sort(byPileUp);
  }
}

/** A record read in place, copied (its own bytes). */
function copyRecord(r: SpillRecord): SpillRecord {
  const start = r.textAt - 8 * r.count - HEAD_BYTES;
  const c = new SpillRecord();
  c.read(Buffer.from(r.buf.subarray(start, r.textEnd)), 0);
  return c;
}

/** Bytes before a record's numbers (src/analyze/spill.ts). */
const HEAD_BYTES = 40;

/** A spilled pair row as the accumulator gives it. */
function rowOf(r: SpillRecord): PairAggregate {
  const m = r.num(0);
  const text = r.text();
  const tab = text.indexOf('\t');
  return {
    client: text.slice(0, tab), server: { ipVersion: r.num(9) as 4 | 6, address: text.slice(tab + 1), port: r.num(10) },
    connections: r.num(1), distinctClientPorts: r.num(2), ratePerSecond: (m & NO_RATE) !== 0 ? null : r.num(3),
    timeWaitReuses: r.num(4), rejectedReuses: r.num(5), fastestReuseSeconds: (m & NO_FASTEST) !== 0 ? null : r.num(6),
    portsInUsePeak: (m & NO_PEAK) !== 0 ? null : r.num(7), exhaustionRatio: (m & NO_RATIO) !== 0 ? null : r.num(8),
  };
}

/** Keys of a pair row's JSON before each number (writePairAggregate's, from `connections` on). */
const ROW_KEYS = [',"connections":', ',"distinctClientPorts":', ',"ratePerSecond":', ',"timeWaitReuses":', ',"rejectedReuses":', ',"fastestReuseSeconds":', ',"portsInUsePeak":', ',"exhaustionRatio":'];
/** Of the numbers above, those that may be null: the flag of each in the row's first number. */
const ROW_NULLS = [0, 0, NO_RATE, 0, 0, NO_FASTEST, NO_PEAK, NO_RATIO];

/** writePairAggregate(w, rowOf(r)), from the record's bytes (its text is the client's and the server's address, a tab between). */
function writeRowJson(w: JsonBytes, r: SpillRecord): void {
  const b = r.buf;
  let tab = -1;
  for (let i = r.textAt; i < r.textEnd; i++) {
    const c = b[i] as number;
    if (c === 9 && tab < 0) { tab = i; continue; }
    // Anything JSON would escape or UTF-8 past ASCII (never in a printed address): the rows' way.
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) { writePairAggregate(w, rowOf(r)); return; }
  }
  if (tab < 0) { writePairAggregate(w, rowOf(r)); return; }
  const v6 = r.num(9) === 6;
  w.room(2 * (r.textEnd - r.textAt) + 64);
  w.lit('{"client":"');
  w.copy(b, r.textAt, tab);
  w.lit(v6 ? '","server":"[' : '","server":"');
  w.copy(b, tab + 1, r.textEnd);
  w.lit(v6 ? ']:' : ':');
  w.num(r.num(10));
  w.ascii('"');
  const m = r.num(0);
  for (let k = 0; k < ROW_KEYS.length; k++) {
    w.ascii(ROW_KEYS[k] as string);
    w.num((m & (ROW_NULLS[k] as number)) !== 0 ? null : r.num(k + 1));
  }
  w.ascii('}');
}
