import type { RawFrame } from '../capture/types.js';
import { decodeFrame } from '../decode/decode.js';
import { newTcpPacket, type DecodeStatus } from '../decode/packet.js';
import { pairAggregates, serverAggregates } from '../findings/aggregates.js';
import { judgeConnection, type Judgement } from '../findings/judge.js';
import { FloodTracker, type FloodRaw } from '../findings/syn-flood.js';
import type { Connection } from '../tcp/connection.js';
import { FlowTable, type EvictionCounts, type TupleEntry } from '../tcp/flow-table.js';
import { field, TimerHeap } from '../tcp/timers.js';
import { AddressText } from './address-text.js';
import { DiskColdStore } from './cold-store.js';
import { inShard, type Shard } from '../tcp/shard.js';
import { DEFAULT_SETTINGS } from '../model/settings.js';
import { packContribution, unpackContribution, type PackedContribution } from './kept.js';
import { SegmentArena } from './segment-arena.js';
import { ReportSpool, spoolRecord, type SpoolTarget } from './spool.js';
import { reportSummary } from './summary.js';
import { VERSION } from '../model/version.js';
import type { CaptureSummary, ConnectionReport, Evictions, Finding, FindingKind, Report, Settings } from '../model/report.js';
import type { Endpoint } from '../model/endpoint.js';

export interface SessionHooks {
  /** A finding was made (a connection was judged, or a half-close became stuck on the clock). */
  onFinding?(f: Finding): void;
  /** A connection was judged and left the flow table. */
  onConnectionEnd?(c: ConnectionReport): void;
  /**
   * A connection was judged, with its findings: `seq` numbers connections in the order they were first judged,
   * `version` counts its judgements (a connection reopened by late segments is judged again; the latest counts).
   */
  onJudged?(c: ConnectionReport, findings: Finding[], seq: number, version: number): void;
  /** At the end: the findings tied to no connection (syn-flood), in report order. */
  onLoose?(findings: Finding[]): void;
}

export interface SessionOptions {
  /**
   * Bound on connections held at once (and on tuples kept for their tombstone): past it, handshake-only
   * connections are dropped first, then the least recently active are judged early (counted exactly).
   */
  maxConnections?: number;
  /**
   * Which connections keep their packet ladder in the report: 'all', only those with 'findings', or 'auto'
   * (all for the first LADDER_ALL_LIMIT connections, then only those with findings: big captures stay small).
   */
  ladders?: 'all' | 'findings' | 'auto';
  /** Keep only the connections whose 4-tuple hash falls in this shard (src/tcp/shard.ts); the rest are skipped after decode. */
  shard?: Shard;
  /** 'external': no sweeps of its own; the caller calls sweep() (an analysis thread, told by the reader). */
  sweeps?: 'self' | 'external';
  /** Connection ids from ordinals (see FlowTableOptions.idOf). */
  idOf?: (ordinal: number) => string;
  /**
   * Stream the report instead of keeping it: each judged connection goes to the spool (src/analyze/spool.ts) and
   * is not kept; finish() returns the summary (and, unless the spool writes JSON, the aggregates) with empty
   * `connections` and `findings` lists, which the spool gives back in order. Memory then follows the flow table,
   * not the connections ever seen.
   */
  spool?: SpoolTarget;
  /**
   * Capture seconds without a packet after which an open connection rests frozen on its tuple (FlowTableOptions.idleFreeze;
   * default IDLE_FREEZE). Output is the same whatever it is; tests make it tiny to freeze and thaw at every packet.
   */
  idleFreeze?: number;
}

export const LADDER_ALL_LIMIT = 10_000;
/**
 * Connections held at once unless told otherwise (and as many resting tuples): a full table takes ~2 KB per
 * connection, so SYN floods and scans of any length stay within 1 GiB of RSS (bench/hostile.ts, bench/README.md).
 */
export const DEFAULT_MAX_CONNECTIONS = 100_000;
export const CLOSED_LINGER = 5;

export interface Counters {
  packets: number;
  tcpPackets: number;
  undecodable: Record<string, number>;
  firstTime: number | null;
  lastTime: number | null;
  connections: number;
  findings: Partial<Record<FindingKind, number>>;
  /** Connections taken out of the table by the bound (see `Evictions`). */
  evicted: number;
}

/**
 * Sweep after every SWEEP_EVERY TCP segments of the capture (those of other shards count too), at that segment's
 * time: where sweeps fall depends on the capture alone, not on the table, the shard or the threads splitting it
 * (each analysis thread sweeps where one session would: src/analyze/parallel.ts).
 */
export const SWEEP_EVERY = 1 << 16;

/**
 * The one loop: frames in, judged connections and findings out. Synchronous, no I/O, no clock — time is the
 * packet timestamp; live capture calls tick() with its own clock to age state when no packets arrive.
 */
export class AnalysisSession {
  readonly settings: Settings;
  readonly counters: Counters = {
    packets: 0, tcpPackets: 0, undecodable: {}, firstTime: null, lastTime: null, connections: 0, findings: {}, evicted: 0,
  };
  private readonly pkt = newTcpPacket();
  private readonly table: FlowTable;
  private readonly judged: ConnectionReport[] = [];
  /**
   * Findings per judged connection, in the order connections were judged: a connection reopened by late segments
   * replaces its report and its findings in place (no scan of every finding).
   */
  private readonly byConnection = new Map<string, { at: number; findings: Finding[]; version?: number }>();
  private sinceSweep = 0;
  private readonly selfSweeps: boolean;
  private readonly ladders: 'all' | 'findings' | 'auto' | 'none';
  /** The endpoints' addresses as text (judging makes them per connection). */
  private readonly addresses = new AddressText();
  private readonly floods = new FloodTracker();
  private readonly maxConnections: number;
  private readonly shard: Shard | null;
  private readonly spool: SpoolTarget | null;
  /** Where asleep open connections wait when the report is streamed (removed at the end of input). */
  private readonly cold: DiskColdStore | null;
  /** Where judged connections wait out their reopen window when the report is streamed (removed at the end of input). */
  private readonly judgedStore: SegmentArena | null;
  /** A connection's id from its ordinal (as the flow table gives it: SessionOptions.idOf, or 'c' + ordinal). */
  private readonly idOf: (ordinal: number) => string;
  /** TCP segments skipped because their 4-tuple belongs to another shard. */
  otherShardPackets = 0;
  /**
   * Half-closed connections by the time their half-close can first become stuck (live aging, tick()). Kept only
   * once tick() is called (offline analysis never ticks: nothing would take them out).
   */
  private readonly clock = new TimerHeap<TupleEntry>(field<'clockWake', TupleEntry>('clockWake'));
  private clockOn = false;
  private readonly clockDue: TupleEntry[] = [];
  /** Connections examined by tick(): a work count for complexity tests. */
  tickVisits = 0;

  /** Entries in the half-closes' deadline heap, cancelled ones included (bounded by about twice those waiting). */
  get clockEntries(): number {
    return this.clock.size;
  }

  constructor(settings: Partial<Settings> = {}, private readonly hooks: SessionHooks = {}, opts: SessionOptions = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    this.spool = opts.spool ?? null;
    this.idOf = opts.idOf ?? ((n) => `c${n}`);
    // Streamed without JSON and without a hook that is handed the reports: no ladder goes anywhere (the text report
    // shows the findings' evidence), so none is built.
    this.ladders = opts.ladders
      ?? (this.spool !== null && !this.spool.opts.json && hooks.onJudged === undefined && hooks.onConnectionEnd === undefined ? 'none' : 'auto');
    this.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.shard = opts.shard !== undefined && opts.shard.n > 1 ? opts.shard : null;
    this.selfSweeps = opts.sweeps !== 'external';
    this.cold = this.spool !== null ? new DiskColdStore() : null;
    this.judgedStore = this.spool !== null ? new SegmentArena() : null;
    this.table = new FlowTable({
      // Closed connections are judged after a short linger (Zeek tcp_connection_linger, 5 s) so verdicts stream out;
      // a late segment reopens and re-judges them (FlowTable.ingest).
      idleSplit: this.settings.idleSplit, closedLinger: CLOSED_LINGER,
      tombstoneLife: Math.max(this.settings.timeWait, 240), maxConnections: this.maxConnections,
      flowKey: this.settings.flowKey, ...(opts.idOf ? { idOf: opts.idOf } : {}),
      ...(opts.idleFreeze !== undefined ? { idleFreeze: opts.idleFreeze } : {}),
      // Streamed (a capture of any length): asleep connections wait on disk, not on the heap.
      ...(this.cold !== null ? { coldStore: this.cold } : {}),
      ...(this.judgedStore !== null ? { judgedStore: this.judgedStore } : {}),
    }, (c, e, now, atEnd) => this.retire(c, e, now, atEnd), (c, e) => this.floods.observe(c, e));
  }

  ingest(frame: RawFrame): void {
    const k = this.counters;
    k.packets++;
    const t = frame.tsSec + frame.tsNsec * 1e-9;
    if (k.firstTime === null) k.firstTime = t;
    if (k.lastTime === null || t > k.lastTime) k.lastTime = t;
    const status: DecodeStatus = decodeFrame(frame, this.pkt);
    if (status !== 'ok') { k.undecodable[status] = (k.undecodable[status] ?? 0) + 1; return; }
    k.tcpPackets++;
    if (this.shard === null || inShard(this.pkt, this.shard)) {
      const c = this.table.ingest(this.pkt, frame.index, t);
      if (this.clockOn && (c.ep[0].fin !== null || c.ep[1].fin !== null)) this.watchHalfClose(this.table.lastEntry as TupleEntry, c);
      this.counters.evicted = this.table.evicted;
    } else this.otherShardPackets++;
    // Another shard's segment is skipped, but still counts towards the sweep.
    if (++this.sinceSweep >= SWEEP_EVERY && this.selfSweeps) { this.sinceSweep = 0; this.table.sweep(t); }
  }

  /** Judge quiet closed connections and drop stale tombstones as of packet time `now` (see SWEEP_EVERY). */
  sweep(now: number): void {
    this.table.sweep(now);
  }


  /** Connections opened so far (ordinals 1…opened). */
  get opened(): number {
    return this.table.ordinal;
  }

  /** What the flow table holds now: connections, and tuples (those plus the resting ones kept for a tombstone). */
  get held(): { connections: number; tuples: number } {
    return { connections: this.table.active, tuples: this.table.entries };
  }

  /**
   * The capture lost `n` frames just now (live: libpcap or ring drops). Every connection being tracked is marked:
   * its verdict may rest on a packet that was never seen, and its report and findings say so.
   */
  captureLoss(n: number): void {
    if (!(n > 0)) return;
    this.table.captureLoss(n);
  }

  /**
   * Age state on a clock (live capture): judge quiet closed connections, announce half-closes that became stuck.
   * Only the connections whose time came are looked at (the flow table's deadlines, and the half-closes' below):
   * O(due), not O(open).
   */
  tick(now: number): void {
    this.table.sweep(now);
    if (!this.clockOn) {
      // The first tick: the half-closes so far wait for their time; from now on ingest() adds them as they come.
      this.clockOn = true;
      for (const { c, e } of this.table.current()) if (c.ep[0].fin !== null || c.ep[1].fin !== null) this.watchHalfClose(e, c);
    }
    const due = this.clockDue;
    this.clock.popDue(now, 1e-3, due);
    for (let i = 0; i < due.length; i++) {
      const e = due[i] as TupleEntry;
      const c = this.table.connectionOf(e); // thawed if it was asleep (it sleeps again at the next sweep)
      // Only half-closes can become stuck on the clock; closed connections are left to the sweep.
      if (c === null || c.announcedStuck || c.isClosed() || (c.ep[0].fin === null && c.ep[1].fin === null)) continue;
      this.tickVisits++;
      const j = this.judgeOnly(c, e, now, true);
      const stuck = j.findings.find((f) => f.kind === 'stuck-half-close' && f.details.stuck === true);
      if (stuck) { c.announcedStuck = true; this.hooks.onFinding?.(stuck); } else this.watchHalfClose(e, c);
    }
    due.length = 0;
  }

  /**
   * A connection with a FIN: when its half-close can first be stuck (findings/half-close.ts: a FIN acknowledged,
   * no FIN or RST back, and both the age and the peer's idle time reach --half-close-timeout). Later packets only
   * move that later: the tuple is then looked at early and waits again.
   */
  private watchHalfClose(e: TupleEntry, c: Connection): void {
    if (c.announcedStuck || c.isClosed()) {
      // Nothing left to wait for (tick() would skip it): the deadline is cancelled, so that the heap lets go of the
      // tuple at its next compaction instead of holding it for --half-close-timeout. A busy capture closes thousands
      // of connections a second after a half-close of a few milliseconds; their deadlines held the tuples for a minute
      // (~10 k a second at 200 k packets/s: 600 k entries and their tuples, alive long after the tuples left the table).
      e.clockWake = Infinity;
      return;
    }
    const T = this.settings.halfCloseTimeout;
    let at = Infinity;
    for (let x = 0; x < 2; x++) {
      const xf = (c.ep[x] as Connection['ep'][0]).fin;
      const y = c.ep[x ^ 1] as Connection['ep'][0];
      if (xf === null || xf.ackFrame === 0 || y.fin !== null) continue;
      at = Math.min(at, Math.max(xf.ackT, y.lastNonKeepaliveT) + T);
    }
    if (at !== Infinity) this.clock.schedule(e, at);
  }

  /** The report as of now, including provisional verdicts on connections still open. */
  snapshot(capture: CaptureSummary): Report {
    const now = this.counters.lastTime ?? 0;
    const conns = [...this.judged];
    const findings = [...this.allFindings(), ...this.floods.findings()];
    for (const { c, e } of this.table.current()) {
      const j = this.judgeOnly(c, e, now, true);
      conns.push(j.report);
      findings.push(...j.findings);
    }
    return this.build(capture, conns, findings);
  }

  /** End of input at packet time `tEnd`: judge everything still open (finish() does this at the last packet's time). */
  endOfInput(tEnd: number): void {
    try {
      this.table.flushAll(tEnd);
    } finally {
      this.cold?.close(); // its temporary file, also when judging failed
      this.judgedStore?.close();
    }
    this.counters.evicted = this.table.evicted;
  }

  /** The SYN-flood targets seen (an analysis thread's, merged by the reader). */
  floodState(): FloodRaw {
    return this.floods.raw();
  }

  evictionCounts(): EvictionCounts {
    return this.table.evictions;
  }

  /** End of input: judge everything still open at the last packet's time and build the final report. */
  finish(capture: CaptureSummary): Report {
    this.endOfInput(this.counters.lastTime ?? 0);
    if (!(this.spool === null || this.spool instanceof ReportSpool)) throw new Error('a forwarding spool has no report: call endOfInput()');
    const floods = this.floods.findings();
    for (const f of floods) { this.counters.findings[f.kind] = (this.counters.findings[f.kind] ?? 0) + 1; this.hooks.onFinding?.(f); }
    this.hooks.onLoose?.(floods);
    if (this.spool !== null) {
      this.spool.addLoose(floods);
      return {
        version: 1, tool: { name: 'teardown', version: VERSION }, capture, settings: this.settings,
        summary: this.spool.summary(this.evictions()), connections: [], findings: [],
        aggregates: this.spool.opts.json ? { servers: [], pairs: [] } : this.spool.aggregates(),
      };
    }
    return this.build(capture, this.judged, [...this.allFindings(), ...floods]);
  }

  private judgeOnly(c: Connection, e: TupleEntry, now: number, atEnd: boolean): Judgement {
    const v = e.v;
    // Kept on the tuple only while reports are kept (they hold them anyway); streamed, tens of thousands of tuples
    // rest between judgements and the values are made per judgement.
    const keep = this.spool === null;
    const a: Endpoint = e.endA ?? { ipVersion: v, address: this.addresses.of(v, e.a0, e.a1, e.a2, e.a3), port: e.aPort };
    const b: Endpoint = e.endB ?? { ipVersion: v, address: this.addresses.of(v, e.b0, e.b1, e.b2, e.b3), port: e.bPort };
    if (keep) { e.endA = a; e.endB = b; }
    const client = c.clientIsA ? a : b;
    const server = c.clientIsA ? b : a;
    const ladder = this.ladders === 'auto' ? (this.counters.connections < LADDER_ALL_LIMIT ? 'all' : 'findings') : this.ladders;
    const j = judgeConnection({ c, id: c.id, client, server, settings: this.settings, now, atEnd },
      wiresharkFilter(a, b, c), v, ladder);
    j.report.encapsulation = c.path.report();
    const lost = this.table.lossOf(c);
    if (lost > 0) {
      j.report.captureLoss = lost;
      for (const f of j.findings) {
        f.details.captureLoss = lost;
        f.why += ` The capture dropped ${lost} packet${lost === 1 ? '' : 's'} while this connection was open: a packet it never saw may change this verdict.`;
      }
    }
    return j;
  }

  private retire(c: Connection, e: TupleEntry, now: number, atEnd: boolean) {
    const j = this.judgeOnly(c, e, now, atEnd);
    if (this.spool !== null) return this.retireStreamed(c, e, j, this.spool);
    const prev = this.byConnection.get(c.id);
    if (prev !== undefined) {
      // Reopened by late segments: the new judgement replaces the old one; only new findings are announced.
      this.judged[prev.at] = j.report;
      this.hooks.onJudged?.(j.report, j.findings, prev.at, (prev.version = (prev.version ?? 0) + 1));
      const earlier = prev.findings;
      prev.findings = j.findings;
      return this.announce(c, j, earlier);
    }
    this.byConnection.set(c.id, { at: this.judged.length, findings: j.findings });
    this.hooks.onJudged?.(j.report, j.findings, this.judged.length, 0);
    this.judged.push(j.report);
    this.counters.connections++;
    this.floods.observe(c, e);
    return this.announce(c, j, null);
  }

  /**
   * The end of retiring a judged connection, whole or streamed: its findings counted and announced, then the
   * connection. `earlier`: the findings of the judgement a reopen replaces (uncounted here; their kinds are not
   * announced again), or null for a first judgement.
   */
  private announce(c: Connection, j: Judgement, earlier: readonly { kind: Finding['kind'] }[] | null) {
    let before: Set<string> | null = null;
    if (earlier !== null) {
      before = new Set(earlier.map((f) => f.kind));
      for (const f of earlier) this.counters.findings[f.kind] = (this.counters.findings[f.kind] ?? 1) - 1;
    }
    for (const f of j.findings) {
      // A stuck half-close already announced on the clock, or a finding announced before a reopen, is not repeated.
      const told = (c.announcedStuck && f.kind === 'stuck-half-close') || (before !== null && before.has(f.kind));
      if (!told) this.hooks.onFinding?.(f);
      this.counters.findings[f.kind] = (this.counters.findings[f.kind] ?? 0) + 1;
    }
    this.hooks.onConnectionEnd?.(j.report);
    return j.closing;
  }

  /** retire() of a streamed session: the judgement goes to the spool, linked to the tuple's previous incarnation. */
  private retireStreamed(c: Connection, e: TupleEntry, j: Judgement, spool: SpoolTarget) {
    // Its share of the report from an earlier judgement, kept on the connection (packed) while it may be judged again.
    const prev = c.kept === null ? null : unpackContribution(c.kept as PackedContribution);
    const seq = prev?.seq ?? this.counters.connections;
    const rec = spoolRecord(j.report, j.findings, seq, prev === null ? 0 : prev.version + 1, spool.opts);
    spool.add(rec, prev);
    c.kept = packContribution(rec);
    this.hooks.onJudged?.(j.report, j.findings, seq, rec.version);
    // Reopened by late segments: the new judgement replaces the old one; only new findings are announced.
    if (prev !== null) return this.announce(c, j, prev.findings);
    // The previous incarnation's `next`, and its TIME_WAIT cut at this one's start (as build() does).
    const prevOrdinal = e.judgedOrdinal;
    if (prevOrdinal !== 0 && c.previousId === this.idOf(prevOrdinal)) spool.link(e.judgedSeq, c.id, j.report.start);
    e.judgedOrdinal = c.ordinal;
    e.judgedSeq = seq;
    this.counters.connections++;
    this.floods.observe(c, e);
    return this.announce(c, j, null);
  }

  private evictions(): Evictions {
    const x = this.table.evictions;
    return {
      maxConnections: Number.isFinite(this.maxConnections) ? this.maxConnections : null,
      total: x.handshakeOnly + x.judgedEarly, handshakeOnly: x.handshakeOnly, judgedEarly: x.judgedEarly, tombstones: x.tombstones,
    };
  }

  private allFindings(): Finding[] {
    const out: Finding[] = [];
    for (const e of this.byConnection.values()) for (const f of e.findings) out.push(f);
    return out;
  }

  private build(capture: CaptureSummary, conns: ConnectionReport[], findings: Finding[]): Report {
    const connections = [...conns].sort((a, b) => a.firstFrame - b.firstFrame);
    const byId = new Map(connections.map((c) => [c.id, c]));
    for (const c of connections) {
      const p = c.previous ? byId.get(c.previous) : undefined;
      if (!p) continue;
      p.next = c.id;
      // A reused tuple ends the previous incarnation's TIME_WAIT (accepted by the holder, or assassinated by RST).
      if (p.times.timeWaitUntil !== null && p.times.timeWaitUntil > c.start) p.times.timeWaitUntil = c.start;
    }
    const order = new Map(connections.map((c, i) => [c.id, i]));
    const sorted = [...findings].sort((a, b) => a.time - b.time || (order.get(a.connection) ?? 0) - (order.get(b.connection) ?? 0));
    const evicted = this.evictions();
    return {
      version: 1, tool: { name: 'teardown', version: VERSION }, capture, settings: this.settings,
      summary: reportSummary(connections, sorted, evicted),
      connections, findings: sorted,
      aggregates: {
        servers: serverAggregates(connections, sorted),
        pairs: pairAggregates(connections, sorted, this.settings.timeWait),
      },
    };
  }
}

/** A Wireshark display filter isolating one incarnation: its 4-tuple (a = first packet's source) and its frame range. */
function wiresharkFilter(a: Endpoint, b: Endpoint, c: Connection): string {
  const ip = a.ipVersion === 4 ? 'ip' : 'ipv6';
  return `${ip}.addr==${a.address} && ${ip}.addr==${b.address} && tcp.port==${a.port} && tcp.port==${b.port}`
    + ` && frame.number>=${c.firstFrame} && frame.number<=${c.lastFrame}`;
}
