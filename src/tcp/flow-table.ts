import type { Endpoint as ReportEndpoint } from '../model/endpoint.js';
import type { FlowKey } from '../model/report.js';
import { fmix32 } from '../model/hash.js';
import { ACK, RST, SYN, type TcpPacket } from '../decode/packet.js';
import { Connection } from './connection.js';
import { freeze, freezeTo, freezeTombstoneTo, thaw, thawFrom } from './frozen.js';
import { ByteArena, type RecordArena } from './byte-arena.js';
import { addFrame } from './frame-list.js';
import { packTombstone, Tombstone, tombstoneBits, tombstoneSize, type TombstoneFacts } from './tombstone.js';
import type { Endpoint } from './endpoint.js';
import { RecencyLists } from './lru.js';
import { ROW_WIDTH } from './packet-log.js';
import { PathDescriptions } from './path.js';
import { TimerHeap } from './timers.js';
import { D_JUDGED_SEQ, D_PARKED, D_RETIRED, D_WAKE, D_RETIRED_T, D_TOMB, D_TOMB_T, DOUBLES, END, F_HAS_SIG_A, F_HAS_SIG_B, F_TOMB_CLOSED, F_V6, GONE, NONE, TupleStore, W_A, W_B, W_FLAGS, W_HASH, W_INCARNATIONS, W_JUDGED, W_KEY, W_NEXT, W_PORTS, W_SIG_A, W_SIG_B, WORDS } from './tuple-store.js';

const FROM_A = 0;
const FROM_B = 1;
const NOT_THIS_TUPLE = -1;

/** The recency lists (src/tcp/lru.ts): tuples with a connection (expendable ones, the others), tuples at rest. */
const L_HANDSHAKES = 1;
const L_OTHERS = 2;
const L_RESTING = 3;

/** Which side of tuple `s` sent the packet: FROM_A, FROM_B, or NOT_THIS_TUPLE (a hash collision). */
function sideOf(u: Uint32Array, s: number, p: TcpPacket): number {
  const w = s * WORDS;
  const ports = u[w + W_PORTS] as number;
  const a = p.src;
  const d = p.dst;
  if (ports === ((p.srcPort | (p.dstPort << 16)) >>> 0)
    && u[w] === a[0] && u[w + 1] === a[1] && u[w + 2] === a[2] && u[w + 3] === a[3]
    && u[w + 4] === d[0] && u[w + 5] === d[1] && u[w + 6] === d[2] && u[w + 7] === d[3]) return FROM_A;
  if (ports === ((p.dstPort | (p.srcPort << 16)) >>> 0)
    && u[w + 4] === a[0] && u[w + 5] === a[1] && u[w + 6] === a[2] && u[w + 7] === a[3]
    && u[w] === d[0] && u[w + 1] === d[1] && u[w + 2] === d[2] && u[w + 3] === d[3]) return FROM_B;
  return NOT_THIS_TUPLE;
}

/**
 * A 4-tuple (unordered) and the paths its packets came by: side a is the source of the first packet seen on it.
 * Two entries hold the same 4-tuple when sequence numbers show two different connections on different paths
 * (overlapping address spaces in different VLANs, VRFs or tunnels); see FlowTable.ingest.
 */
export class TupleEntry {
  /** Further path signatures as pairs [side (0 a, 1 b), signature, …]; null while each side kept to one path. */
  moreSigs: number[] | null = null;
  /** The open connection, as objects while it is active; null while it rests frozen in `asleep` (or there is none). */
  current: Connection | null = null;
  /**
   * The open connection while it is idle (no packet for FlowTable's idleFreeze of capture time): frozen
   * (src/tcp/frozen.ts), thawed exactly when a packet comes or whatever must look at it (judging, eviction, live
   * aging, snapshots). It still counts as open: in `active`, in its recency list, under the bound. With a ColdStore,
   * its reference there instead of the string.
   */
  asleep: string | number | null = null;
  /**
   * The report's endpoints, shared by the reports of its incarnations when reports are kept (a streamed analysis
   * makes them per judgement: the tuple may rest long between judgements).
   */
  endA: ReportEndpoint | null = null;
  endB: ReportEndpoint | null = null;
  /**
   * When live aging (AnalysisSession.tick) next looks at its connection; Infinity: nothing pending. A field: a tuple
   * that left the table keeps it (Infinity) for the entries still queued. (The table's own deadline is in the row,
   * D_WAKE: its heap holds slots.)
   */
  clockWake = Infinity;

  /**
   * `slot`: this tuple's row in the table's store (src/tcp/tuple-store.ts): its numbers, its links in the table's hash
   * chain and recency list; GONE once it left the table (or was parked: another object stands for it then).
   */
  constructor(readonly store: TupleStore, public slot: number) {}

  // Its numbers, in its row. Address words (a = source of the first packet), ports, the IP version.
  get hash(): number { return this.store.i32[this.slot * WORDS + W_HASH] as number; }
  get a0(): number { return this.store.u32[this.slot * WORDS + W_A] as number; }
  get a1(): number { return this.store.u32[this.slot * WORDS + W_A + 1] as number; }
  get a2(): number { return this.store.u32[this.slot * WORDS + W_A + 2] as number; }
  get a3(): number { return this.store.u32[this.slot * WORDS + W_A + 3] as number; }
  get b0(): number { return this.store.u32[this.slot * WORDS + W_B] as number; }
  get b1(): number { return this.store.u32[this.slot * WORDS + W_B + 1] as number; }
  get b2(): number { return this.store.u32[this.slot * WORDS + W_B + 2] as number; }
  get b3(): number { return this.store.u32[this.slot * WORDS + W_B + 3] as number; }
  get aPort(): number { return (this.store.u32[this.slot * WORDS + W_PORTS] as number) & 0xffff; }
  get bPort(): number { return (this.store.u32[this.slot * WORDS + W_PORTS] as number) >>> 16; }
  get v(): 4 | 6 { return ((this.store.u32[this.slot * WORDS + W_FLAGS] as number) & F_V6) !== 0 ? 6 : 4; }
  /** The strict part of the flow key (--flow-key tuple+vlan / tuple+interface); 0 with 'tuple'. */
  get key(): number { return this.store.i32[this.slot * WORDS + W_KEY] as number; }

  /** Sets the tuple's identity from its first packet (side a = its source). */
  setTuple(p: TcpPacket, key: number, sig: number): void {
    const u = this.store.u32;
    const w = this.slot * WORDS;
    const sa = p.src;
    const da = p.dst;
    for (let k = 0; k < 4; k++) { u[w + W_A + k] = sa[k] as number; u[w + W_B + k] = da[k] as number; }
    u[w + W_PORTS] = (p.srcPort | (p.dstPort << 16)) >>> 0;
    this.store.i32[w + W_KEY] = key;
    this.store.i32[w + W_SIG_A] = sig;
    u[w + W_FLAGS] = F_HAS_SIG_A | (p.ipVersion === 6 ? F_V6 : 0);
  }

  /** Path signatures (TcpPacket.pathSig) seen from side a and side b: the first of each here, any more in `moreSigs`. */
  get sigA(): number { return this.store.i32[this.slot * WORDS + W_SIG_A] as number; }
  get sigB(): number { return this.store.i32[this.slot * WORDS + W_SIG_B] as number; }
  get hasSigA(): boolean { return ((this.store.u32[this.slot * WORDS + W_FLAGS] as number) & F_HAS_SIG_A) !== 0; }
  get hasSigB(): boolean { return ((this.store.u32[this.slot * WORDS + W_FLAGS] as number) & F_HAS_SIG_B) !== 0; }

  get incarnations(): number { return this.store.u32[this.slot * WORDS + W_INCARNATIONS] as number; }
  set incarnations(n: number) { this.store.u32[this.slot * WORDS + W_INCARNATIONS] = n; }

  /**
   * The last judged connection, kept for REOPEN_WINDOW after its last packet (frozen: src/tcp/frozen.ts, a record in
   * the table's arena of them; NONE without): late packets (a FIN retransmission) reopen it. `retiredLastT`: its last
   * packet's time.
   */
  get retired(): number { return this.store.f64[this.slot * DOUBLES + D_RETIRED] as number; }
  set retired(r: number) { this.store.f64[this.slot * DOUBLES + D_RETIRED] = r; }
  get retiredLastT(): number { return this.store.f64[this.slot * DOUBLES + D_RETIRED_T] as number; }
  set retiredLastT(t: number) { this.store.f64[this.slot * DOUBLES + D_RETIRED_T] = t; }
  /**
   * What the last judged connection left for judging a reuse of the tuple (frozen, a record in the table's arena of
   * tombstones; NONE without), its last packet's time, and whether it was closed.
   */
  get tomb(): number { return this.store.f64[this.slot * DOUBLES + D_TOMB] as number; }
  set tomb(r: number) { this.store.f64[this.slot * DOUBLES + D_TOMB] = r; }
  get tombLastT(): number { return this.store.f64[this.slot * DOUBLES + D_TOMB_T] as number; }
  set tombLastT(t: number) { this.store.f64[this.slot * DOUBLES + D_TOMB_T] = t; }
  get tombClosed(): boolean { return ((this.store.u32[this.slot * WORDS + W_FLAGS] as number) & F_TOMB_CLOSED) !== 0; }
  set tombClosed(b: boolean) {
    const i = this.slot * WORDS + W_FLAGS;
    const f = this.store.u32[i] as number;
    this.store.u32[i] = b ? f | F_TOMB_CLOSED : f & ~F_TOMB_CLOSED;
  }
  /** When the table's expiry next looks at this tuple (FlowTable.dueOf); Infinity: nothing pending. */
  get wake(): number { return this.store.f64[this.slot * DOUBLES + D_WAKE] as number; }
  set wake(t: number) { this.store.f64[this.slot * DOUBLES + D_WAKE] = t; }
  /**
   * The judge's record of the last connection judged on this tuple, which a later incarnation links to: its ordinal
   * (Connection.ordinal; 0: none), and the number the judge gave it (judgedSeq).
   */
  get judgedOrdinal(): number { return this.store.u32[this.slot * WORDS + W_JUDGED] as number; }
  set judgedOrdinal(n: number) { this.store.u32[this.slot * WORDS + W_JUDGED] = n; }
  get judgedSeq(): number { return this.store.f64[this.slot * DOUBLES + D_JUDGED_SEQ] as number; }
  set judgedSeq(n: number) { this.store.f64[this.slot * DOUBLES + D_JUDGED_SEQ] = n; }
  /** The tuple left the table: its row goes back to the store (its numbers read undefined from now on). */
  leave(): void {
    if (this.slot === GONE) return;
    this.store.release(this.slot);
    this.slot = GONE;
  }

  /** Address words for output (allocates: not for the per-packet path). */
  get a(): number[] { return [this.a0, this.a1, this.a2, this.a3]; }
  get b(): number[] { return [this.b0, this.b1, this.b2, this.b3]; }

  /** Which side of this tuple sent the packet: FROM_A, FROM_B, or NOT_THIS_TUPLE (a hash collision). */
  sideOf(p: TcpPacket): number {
    return sideOf(this.store.u32, this.slot, p);
  }

  /**
   * This tuple's traffic from side a (or b) already came by path `sig`. A side with no packet yet takes the other
   * side's path without question (the usual case: both directions through the same tags and tunnels).
   */
  knows(fromA: boolean, sig: number): boolean {
    if (fromA ? this.hasSigA : this.hasSigB) {
      if ((fromA ? this.sigA : this.sigB) === sig) return true;
      const m = this.moreSigs;
      if (m === null) return false;
      const side = fromA ? 0 : 1;
      for (let i = 0; i < m.length; i += 2) if (m[i] === side && m[i + 1] === sig) return true;
      return false;
    }
    if ((fromA ? this.hasSigB : this.hasSigA) && (fromA ? this.sigB : this.sigA) === sig) {
      this.learn(fromA, sig);
      return true;
    }
    return false;
  }

  learn(fromA: boolean, sig: number): void {
    const w = this.slot * WORDS;
    const f = this.store.u32[w + W_FLAGS] as number;
    if (fromA && (f & F_HAS_SIG_A) === 0) { this.store.i32[w + W_SIG_A] = sig; this.store.u32[w + W_FLAGS] = f | F_HAS_SIG_A; return; }
    if (!fromA && (f & F_HAS_SIG_B) === 0) { this.store.i32[w + W_SIG_B] = sig; this.store.u32[w + W_FLAGS] = f | F_HAS_SIG_B; return; }
    const m = this.moreSigs ??= [];
    if (m.length < 64) m.push(fromA ? 0 : 1, sig); // bounded: an entry never grows with the packets
  }
}

/**
 * How far (mod 2^32) a sequence or acknowledgment number may be from what the connection has shown and still be
 * taken as its own: 16 MiB, more than any window in flight a capture would miss. A number from an unrelated
 * connection (random ISN, RFC 9293 §3.4.1) falls inside by chance with probability 2^25 / 2^32 = 1/128 per check.
 */
const SEQ_EVIDENCE_SLACK = 1 << 24;

function near(x: number, y: number): boolean {
  const d = (x - y) | 0;
  return d <= SEQ_EVIDENCE_SLACK && d >= -SEQ_EVIDENCE_SLACK;
}

/**
 * Sequence evidence that a segment from S to R belongs to their connection although it came by a path not seen on
 * it before: its ACK acknowledges what R sent (R's ISN/SND.NXT), and its sequence number continues what S sent (or
 * what R acknowledged of S). Every check that can be made must hold, and at least one must be possible: a SYN with a
 * new ISN from a side never seen proves nothing.
 */
function fitsEndpoints(S: Endpoint, R: Endpoint, p: TcpPacket): boolean {
  let checks = 0;
  if ((p.flags & ACK) !== 0 && R.seen) {
    checks++;
    if (!near(p.ack, R.sndMax)) return false;
  }
  if (S.seen) {
    checks++;
    if (!near(p.seq, S.sndMax)) return false;
  } else if (R.hasAck) {
    checks++;
    if (!near(p.seq, R.ackMax)) return false;
  }
  return checks > 0;
}

/** The same evidence against the last connection on the tuple when only its tombstone is left. */
function fitsTombstone(t: Tombstone, srcIsClient: boolean, p: TcpPacket): boolean {
  const s = srcIsClient ? 0 : 1;
  if (!near(p.seq, t.sndMaxOf(s))) return false;
  return (p.flags & ACK) === 0 || near(p.ack, t.sndMaxOf(s ^ 1));
}

export interface FlowTableOptions {
  /** A SYN after this much silence starts a new incarnation whatever the state (docs/rules.md §6.4 case 4; Zeek 300 s). */
  idleSplit: number;
  /** Closed connections quiet for this long are judged and leave the table (their tombstone stays). */
  closedLinger: number;
  /** Tombstones older than this are dropped (the longest TIME_WAIT profile of interest). */
  tombstoneLife: number;
  /**
   * Bound on connections held at once. Past it, the least recently active handshake-only connection is dropped
   * (counted, handed to `onDrop`, not judged); when there is none, the least recently active other one is judged
   * early.
   */
  maxConnections: number;
  /** What besides the 4-tuple keeps connections apart (default 'tuple'). */
  flowKey?: FlowKey;
  /** Bound on tuples kept only for their tombstone (reuse detection); the oldest go first. Default maxConnections. */
  maxResting?: number;
  /**
   * Capture time without a packet after which an open connection is frozen on its tuple (default IDLE_FREEZE);
   * Infinity: never.
   */
  idleFreeze?: number;
  /** Where asleep connections are kept (default: their strings on the tuples). */
  coldStore?: ColdStore;
  /**
   * Where the frozen copies of judged connections are kept for their reopen window (default: an arena in memory,
   * src/tcp/byte-arena.ts).
   */
  judgedStore?: RecordArena;
  /** A connection's id from its ordinal (default 'c' + ordinal); an analysis thread uses a placeholder the reader renumbers. */
  idOf?: (ordinal: number) => string;
}

/**
 * Keeps the frozen strings of asleep connections away from the heap (src/analyze/cold-store.ts: a temporary file),
 * synchronously: put() returns a reference, take() the string put there.
 */
export interface ColdStore {
  put(frozen: string): number;
  /** The string put at `ref` (each reference is taken once: its record is dead afterwards). */
  take(ref: number): string;
  /** Enough of the store is dead that compact() pays. */
  wasteful(): boolean;
  /** Keeps only the records at `refs`; returns their new references in the same order. */
  compact(refs: readonly number[]): number[];
}

/** Pressure counts: exact numbers of what the bounds took out of the table. */
export interface EvictionCounts {
  /** Handshake-only connections dropped unjudged (SYN floods, scans). */
  handshakeOnly: number;
  /** Other connections judged before their end because the table was full. */
  judgedEarly: number;
  /** Tombstones forgotten early (a later SYN on those tuples cannot be judged as a reuse). */
  tombstones: number;
}

/** A handshake-only connection leaving the table unjudged (evicted under pressure). */
export type DropFn = (c: Connection, entry: TupleEntry) => void;

/**
 * Nothing a headline finding needs: never synchronized, no data, no FIN, no RST, not a reuse of a tuple and not
 * superseded. SYN floods and scans consist of these; they are the first to go when the table is full.
 */
export function expendable(c: Connection): boolean {
  const [x, y] = c.ep;
  return !c.established && x.dataBytes === 0 && y.dataBytes === 0 && x.fin === null && y.fin === null
    && c.acceptedRst === null && !c.refused && c.reuse === null && c.supersededBySyn === 0;
}

/**
 * Judges a connection leaving the table; returns the frames of its closing packets, in frame order, for a later reuse
 * finding's evidence (those its packet log kept go to its tombstone).
 */
export type JudgeFn = (c: Connection, entry: TupleEntry, now: number, atEnd: boolean) => readonly number[];

function sideHash(w: Uint32Array, port: number, v: 4 | 6): number {
  let h = fmix32((w[0] as number) ^ Math.imul(port, 0x9e3779b1));
  if (v === 6) h = fmix32(h ^ (w[1] as number)) + fmix32((w[2] as number) ^ Math.imul(w[3] as number, 0x27d4eb2f));
  return h;
}

/** Which tuple side is the client of a new connection, from its first packet (docs/rules.md §1 "client = SYN sender"). */
function guessClient(p: TcpPacket): { srcIsClient: boolean; guessed: boolean } {
  const syn = (p.flags & SYN) !== 0;
  const ack = (p.flags & ACK) !== 0;
  if (syn && !ack) return { srcIsClient: true, guessed: false };
  if (syn && ack) return { srcIsClient: false, guessed: false };
  // No SYN: the well-known / lower-numbered service port is the server (guess, marked as such).
  const s = p.srcPort;
  const d = p.dstPort;
  if (s < 1024 && d >= 1024) return { srcIsClient: false, guessed: true };
  if (d < 1024 && s >= 1024) return { srcIsClient: true, guessed: true };
  if (s >= 32768 && d < 32768) return { srcIsClient: true, guessed: true };
  if (d >= 32768 && s < 32768) return { srcIsClient: false, guessed: true };
  return { srcIsClient: s >= d, guessed: true };
}

/**
 * Connections keyed by 4-tuple, split into incarnations (docs/rules.md §6.4 "incarnation boundary").
 *
 * Flow identity (docs/rules.md §1, §10.4): the key is the inner 4-tuple, after decapsulation. What may differ between the
 * two directions of one connection — VLAN tags (a SPAN port tagging one direction), MPLS labels, outer tunnel
 * headers, the capture interface — is not part of it. Such a difference is still the only sign of two different
 * connections reusing the same addresses in different VLANs/VRFs/tunnels, so a packet arriving on the tuple by a
 * path not yet seen from its side is placed by sequence evidence (fitsEndpoints): it joins the connection whose
 * numbers it continues, or follows a connection that is over as its next incarnation (FlowTable.continues), else it
 * starts a separate entry for the same tuple. Per packet this costs one signature
 * comparison; the evidence check runs only on the first packet of a new path. `flowKey` 'tuple+vlan' or
 * 'tuple+interface' adds the VLAN ids or the interface to the key for strict separation.
 */
export class FlowTable {
  /** The first tuple (its slot) of each hash chain; the chains are linked through the rows (W_NEXT). */
  private readonly buckets = new Map<number, number>();
  /** The tuples' numbers (src/tcp/tuple-store.ts). */
  private readonly store = new TupleStore();
  /** Each tuple's object, by slot; null for a parked tuple (see park()) and for free slots. */
  private readonly objs: (TupleEntry | null)[] = [];
  /**
   * Tuples parked: their connection asleep in the cold store and nothing else of theirs on the heap (no object; the
   * row holds the store reference). Counted in `asleep` too.
   */
  parked = 0;
  private readonly paths = new PathDescriptions();
  private readonly flowKey: FlowKey;
  /** Connections opened so far (the last one's ordinal). */
  ordinal = 0;
  active = 0;
  entries = 0;
  /** Connections taken out by the bound (handshake-only dropped + judged early). */
  evicted = 0;
  readonly evictions: EvictionCounts = { handshakeOnly: 0, judgedEarly: 0, tombstones: 0 };
  /** Tuples visited by bookkeeping (sweeps, evictions, unlinking, passes over the table): a work count for complexity tests. */
  visits = 0;
  /** The tuple of the connection the last ingest() fed. */
  lastEntry: TupleEntry | null = null;
  /** Open connections frozen while idle (counted in `active` too). */
  asleep = 0;
  /**
   * Frames the capture lost so far (live). A connection's share is what was lost while it was tracked: lossOf(), from
   * the count when it opened (Connection.lostBase), so a loss costs O(1) however many connections are open.
   */
  private lost = 0;
  private readonly idleFreeze: number;
  private readonly cold: ColdStore | null;
  /**
   * Tuples with a connection, least recently active first: expendable ones (L_HANDSHAKES), and the others (L_OTHERS);
   * tuples without a connection (tombstone or reopenable judged connection), oldest first (L_RESTING).
   */
  private readonly lists = new RecencyLists(this.store, 3);
  private readonly maxResting: number;
  /** Tuples by the time something of theirs expires (a closed connection's linger, a reopen window, a tombstone). */
  private readonly timers = new TimerHeap<number>({
    get: (s) => this.store.f64[s * DOUBLES + D_WAKE] as number,
    set: (s, at) => { this.store.f64[s * DOUBLES + D_WAKE] = at; },
  });
  /**
   * The frozen judged connections (kept REOPEN_WINDOW) and tombstones (kept tombstoneLife) of resting tuples, out of
   * the heap (src/tcp/byte-arena.ts, or the judgedStore option: on disk): one arena each, as each kind dies in about
   * the order it was made.
   */
  private readonly retiredArena: RecordArena;
  private readonly tombArena = new ByteArena();
  private readonly dueNow: number[] = [];

  /** Entries in the deadline heap, dead ones included (bounded by about twice the tuples waiting). */
  get timerEntries(): number {
    return this.timers.size;
  }

  /** Bytes the frozen judged connections and tombstones of resting tuples hold outside the heap. */
  get restingBytes(): number {
    return this.retiredArena.bytes + this.tombArena.bytes;
  }

  /** Bytes the tuples' rows hold outside the heap (src/tcp/tuple-store.ts). */
  get tupleBytes(): number {
    return this.store.bytes;
  }

  /** Frozen judged connections and tombstones held (records in the arenas). */
  get restingRecords(): number {
    return this.retiredArena.records + this.tombArena.records;
  }

  /** The tuple's judged connection is no longer kept (reopened, superseded, or past its window). */
  private dropRetired(e: TupleEntry): void {
    if (e.retired === NONE) return;
    this.retiredArena.free(e.retired);
    e.retired = NONE;
  }

  private dropTomb(e: TupleEntry): void {
    if (e.tomb === NONE) return;
    this.tombArena.free(e.tomb);
    e.tomb = NONE;
  }

  constructor(private readonly opts: FlowTableOptions, private readonly judge: JudgeFn, private readonly onDrop: DropFn = () => {}) {
    this.flowKey = opts.flowKey ?? 'tuple';
    this.maxResting = opts.maxResting ?? opts.maxConnections;
    this.idleFreeze = opts.idleFreeze ?? IDLE_FREEZE;
    this.cold = opts.coldStore ?? null;
    this.retiredArena = opts.judgedStore ?? new ByteArena();
  }

  /** The open connection of a tuple (thawed if it was asleep: it sleeps again at its next idle deadline), or null. */
  connectionOf(e: TupleEntry): Connection | null {
    if (e.asleep === null) return e.current;
    const c = this.thawAsleep(e);
    e.current = c;
    e.asleep = null;
    this.asleep--;
    this.timers.schedule(e.slot, c.lastT + this.idleFreeze);
    return c;
  }

  /** An asleep connection rebuilt (the capture loss it missed asleep is in lossOf(): still tracked). */
  private thawAsleep(e: TupleEntry): Connection {
    const a = e.asleep as string | number;
    return thaw<Connection>(typeof a === 'string' ? a : (this.cold as ColdStore).take(a));
  }

  /** An open connection idle for idleFreeze: frozen on its tuple (and the tuple parked when it can be). */
  private sleep(e: TupleEntry, c: Connection): void {
    e.asleep = this.stash(c);
    c.free(); // it lives on frozen
    e.current = null;
    this.asleep++;
    this.park(e);
  }

  /**
   * An asleep tuple whose connection is in the cold store and which waits for nothing (no deadline here or on a live
   * clock, no report endpoints, one path per side) gives up its object: what it needs is in its row (the reference
   * in D_PARKED). Stuck half-closes never end on the wire and pile up
   * over a long capture; parked, each costs its row and its bucket. entryOf() makes it an object again, the same in
   * every respect, when anything looks at it; the old object is left to the deadline entries that are dead already.
   */
  private park(e: TupleEntry): void {
    const a = e.asleep;
    if (e.current !== null || (a !== null && (typeof a !== 'number' || this.cold === null)) || e.slot === GONE || e.moreSigs !== null
      || e.endA !== null || e.endB !== null || e.clockWake !== Infinity) return;
    if (this.lastEntry === e) this.lastEntry = null;
    const s = e.slot;
    this.store.f64[s * DOUBLES + D_PARKED] = a === null ? NONE : a;
    this.objs[s] = null;
    e.slot = GONE;
    e.asleep = null;
    this.parked++;
  }

  /** The object of tuple `s` (made again for a parked one). */
  private entryOf(s: number): TupleEntry {
    const o = this.objs[s];
    if (o !== null && o !== undefined) return o;
    const e = new TupleEntry(this.store, s);
    const d = s * DOUBLES + D_PARKED;
    const a = this.store.f64[d] as number;
    e.asleep = a === NONE ? null : a;
    this.store.f64[d] = NONE;
    this.objs[s] = e;
    this.parked--;
    return e;
  }

  /** The tuples' slots in hash-chain order (buckets in insertion order, then each chain). */
  private *slots(): IterableIterator<number> {
    for (const head of this.buckets.values()) {
      for (let s = head; s !== END; s = this.store.i32[s * WORDS + W_NEXT] as number) { this.visits++; yield s; }
    }
  }

  /** A connection frozen, in the cold store if there is one. */
  private stash(c: Connection): string | number {
    const s = freeze(c);
    return this.cold === null ? s : this.cold.put(s);
  }

  /**
   * The capture lost `n` frames: every connection tracked now has them in its lossOf(), asleep or not; O(1) (one
   * loss is told per frame while a live capture drops: a pass over the table each time would drop more).
   */
  captureLoss(n: number): void {
    this.lost += n;
  }

  /** Frames the capture lost while `c` (a connection of this table) was tracked. */
  lossOf(c: Connection): number {
    return c.lost + this.lost - c.lostBase;
  }

  /** Finds or creates the connection for a segment and feeds it; returns it. */
  ingest(p: TcpPacket, frame: number, t: number): Connection {
    const v = p.ipVersion;
    const key = this.flowKey === 'tuple' ? 0 : this.flowKey === 'tuple+vlan' ? p.vlanKey : p.ifKey;
    const sig = p.pathSig;
    const h = fmix32(sideHash(p.src, p.srcPort, v) + sideHash(p.dst, p.dstPort, v) + key);
    const first = this.buckets.get(h) ?? END;
    const st = this.store;
    let e: TupleEntry | null = null;
    let srcIsA = true;
    let others = false; // the tuple is known, but not by this path from this side
    for (let x = first; x !== END; x = st.i32[x * WORDS + W_NEXT] as number) {
      const w = x * WORDS;
      if (((st.u32[w + W_FLAGS] as number) & F_V6) !== (v === 6 ? F_V6 : 0) || st.i32[w + W_KEY] !== key) continue;
      const side = sideOf(st.u32, x, p);
      if (side === NOT_THIS_TUPLE) continue;
      const fromA = side === FROM_A;
      const o = this.entryOf(x);
      if (o.knows(fromA, sig)) { e = o; srcIsA = fromA; break; }
      others = true;
    }
    if (e === null && others) {
      // A new path for a known tuple (rare): the connection whose sequence numbers the packet continues.
      for (let x = first; x !== END; x = st.i32[x * WORDS + W_NEXT] as number) {
        const w = x * WORDS;
        if (((st.u32[w + W_FLAGS] as number) & F_V6) !== (v === 6 ? F_V6 : 0) || st.i32[w + W_KEY] !== key) continue;
        const side = sideOf(st.u32, x, p);
        if (side === NOT_THIS_TUPLE) continue;
        const fromA = side === FROM_A;
        const o = this.entryOf(x);
        if (this.continues(o, fromA, p, t)) { o.learn(fromA, sig); e = o; srcIsA = fromA; break; }
      }
    }
    if (e === null) {
      const slot = st.alloc();
      st.i32[slot * WORDS + W_HASH] = h;
      st.i32[slot * WORDS + W_NEXT] = first;
      e = new TupleEntry(st, slot);
      e.setTuple(p, key, sig);
      this.objs[slot] = e;
      this.buckets.set(h, slot);
      this.entries++;
    }

    let c = e.asleep !== null ? this.connectionOf(e) : e.current;
    // A late segment of a connection judged after its linger (say a FIN retransmitted after a lost final ACK)
    // reopens it, so it is judged again with that segment instead of starting a bogus midstream connection.
    const r = c === null && e.retired !== NONE && t - e.retiredLastT < REOPEN_WINDOW ? thawFrom<Connection>(this.retiredArena, e.retired) : null;
    const after = r !== null ? this.newIncarnation(r, p, srcIsA === r.clientIsA ? 0 : 1, t) : null;
    if (after !== null) (r as Connection).free(); // a new incarnation starts: the judged one stays frozen
    if (r !== null && after === null) {
      c = r;
      r.lostBase = this.lost; // tracked again: what was lost while it rested judged is not its
      e.current = r;
      this.dropRetired(e);
      this.active++;
    }
    if (c !== null) {
      const reason = this.newIncarnation(c, p, srcIsA === c.clientIsA ? 0 : 1, t);
      if (reason !== null) {
        // The SYN recorded on the old connection, read before retire() gives its pooled row back.
        const syn = reason === 'live' ? c.liveSyn : null;
        const synFromA = (c.liveSynSide === 0) === c.clientIsA;
        const synFrame = c.liveSynFrame;
        const synT = c.liveSynT;
        this.retire(e, c, t, false);
        c = this.open(e, p, srcIsA, t, frame, reason);
        // The new connection begins with that SYN.
        if (syn !== null) c.onSegment(syn, synFromA === c.clientIsA ? 0 : 1, synFrame, synT);
      }
    } else {
      // The previous incarnation was judged already (a sweep after its linger, or only its tombstone is left): a SYN
      // starts the next one linked to that tombstone, as it would before the sweep (docs/rules.md §6.4), so a
      // TIME_WAIT reuse is still judged however the sweeps fell.
      const reason: NewReason | null = after ?? (e.tomb !== NONE && (p.flags & (SYN | RST | ACK)) === SYN
        ? (t - e.tombLastT > this.opts.idleSplit || !e.tombClosed ? 'idle' : 'closed') : null);
      c = this.open(e, p, srcIsA, t, frame, reason);
    }
    const d = srcIsA === c.clientIsA ? 0 : 1;
    c.path.note(p, d, this.paths);
    c.onSegment(p, d, frame, t);
    this.lastEntry = e;
    this.lists.touch(expendable(c) ? L_HANDSHAKES : L_OTHERS, e.slot);
    // A closed connection is judged after its linger; an open one sleeps once idle (a no-op while an earlier
    // deadline is pending: per packet one comparison).
    this.timers.schedule(e.slot, c.lastT + (c.isClosed() ? this.opts.closedLinger : this.idleFreeze));
    if (this.active > this.opts.maxConnections) this.evict(t);
    while (this.lists.size(L_RESTING) > this.maxResting) this.forget(this.entryOf(this.lists.head(L_RESTING)));
    return c;
  }

  /**
   * Whether a packet from side a (or b) of entry x, on a path x has not seen from that side, belongs to x: its
   * sequence numbers continue x's connection (fitsEndpoints); or it is a new connection attempt (SYN without ACK)
   * and x's connection is over — closed, judged, or idle past idleSplit — so it is x's next incarnation whatever
   * path it takes (a mobile bearer with a new TEID per connection, a route that changed), and the incarnation rules
   * judge the reuse; or its numbers continue the previous incarnation's (a TIME_WAIT ACK answering that SYN).
   * A SYN while x's connection is still open or in its handshake is another connection (another VLAN, VRF, tunnel).
   */
  private continues(x: TupleEntry, fromA: boolean, p: TcpPacket, t: number): boolean {
    const synOnly = (p.flags & (SYN | ACK | RST)) === SYN;
    const open = this.connectionOf(x);
    const c = open ?? (x.retired !== NONE ? thawFrom<Connection>(this.retiredArena, x.retired) : null);
    if (c !== null) {
      const d = fromA === c.clientIsA ? 0 : 1;
      const fits = fitsEndpoints(c.ep[d], c.ep[d ^ 1] as Endpoint, p)
        || (synOnly && (open === null || c.isClosed() || t - c.lastT > this.opts.idleSplit));
      if (c !== open) c.free(); // thawed only to look: it stays frozen
      if (fits) return true;
    }
    // The previous incarnation's numbers: a TIME_WAIT holder's ACK answering the new SYN (rules §6.4 "rejected").
    if (x.tomb === NONE) return false;
    if (c === null && synOnly) return true;
    const tomb = thawFrom<Tombstone>(this.tombArena, x.tomb);
    return fitsTombstone(tomb, fromA === tomb.clientIsA, p);
  }

  /**
   * Rules §6.4: a SYN on a closed incarnation, a SYN with a new ISN on one still in its handshake (syn_seq_jump)
   * or established (half-open recovery), or any SYN after idleSplit starts a new incarnation; a SYN with the same
   * ISN on an unclosed one is a retransmission. A SYN-ACK with a new ISN on a closed one also starts one
   * (missing-SYN case, Wireshark MR !15278).
   */
  private newIncarnation(c: Connection, p: TcpPacket, d: 0 | 1, t: number): NewReason | null {
    const f = p.flags;
    if ((f & SYN) === 0 || (f & RST) !== 0) return null;
    const S = c.ep[d];
    if ((f & ACK) === 0) {
      if (t - c.lastT > this.opts.idleSplit) return 'idle';
      // Same ISN: the same attempt retried (a refused connect is retried with its ISN), whatever became of it.
      if (S.isnKnown === 1 && p.seq === S.isn && d === 0) return null;
      if (c.isClosed()) return 'closed';
      if (c.inHandshakeOnly()) return 'syn-seq-jump';
      // A new-ISN SYN on a live connection is recorded there (RFC 5961 §4.2: challenge ACK, no state change).
      return null;
    }
    // A SYN-ACK to the new-ISN SYN recorded on a live connection: the peer had no state for the old one.
    const ls = c.liveSyn;
    if (ls !== null && d !== c.liveSynSide && p.ack === ((ls.seq + 1) >>> 0)) { c.supersededBySyn = 1; return 'live'; }
    // A SYN-ACK to the SYN of a refused attempt that was retried with its ISN: the same attempt, now accepted.
    const cl = c.ep[d ^ 1] as Connection['ep'][0];
    if (c.refused && cl.isnKnown === 1 && p.ack === ((cl.isn + 1) >>> 0)) return null;
    if (c.isClosed() && !(S.isnKnown === 1 && p.seq === S.isn)) return 'closed';
    return null;
  }

  private open(e: TupleEntry, p: TcpPacket, srcIsA: boolean, t: number, frame: number, reason: NewReason | null): Connection {
    const g = guessClient(p);
    const clientIsA = g.srcIsClient === srcIsA;
    const prev = reason !== null && e.tomb !== NONE ? thawFrom<Tombstone>(this.tombArena, e.tomb) : null;
    const n = ++this.ordinal;
    const c = Connection.open(n, clientIsA, g.guessed, e.incarnations++, prev !== null ? prev.id : null, this.opts.idOf?.(n));
    if (reason !== null && prev !== null && (p.flags & (SYN | ACK)) === SYN) {
      c.reuse = {
        previous: prev, reason, synFrame: frame, synT: t, synSeq: p.seq, synHasTs: p.hasTs, synTsVal: p.tsVal,
        answer: null, answerFrame: 0, answerAck: 0, clientRstFrame: 0, retries: 0, retryFrames: [],
        synAckFrame: 0, synAckT: 0, synAckSeq: 0,
      };
    }
    c.lostBase = this.lost;
    e.current = c;
    this.dropRetired(e);
    this.active++;
    return c;
  }

  /** Judge a connection and leave its tombstone on the tuple. */
  private retire(e: TupleEntry, c: Connection, now: number, atEnd: boolean): void {
    const closing = this.judge(c, e, now, atEnd);
    this.dropTomb(e);
    e.tomb = freezeTombstone(c, closing, this.tombArena);
    e.tombLastT = c.lastT;
    e.tombClosed = c.isClosed();
    e.current = null;
    this.dropRetired(e);
    c.lost = this.lossOf(c); // kept as judged: a reopen counts again from then (ingest)
    c.lostBase = this.lost;
    e.retired = freezeTo(c, this.retiredArena);
    e.retiredLastT = c.lastT;
    c.free();
    this.active--;
    this.lists.touch(L_RESTING, e.slot);
    this.timers.schedule(e.slot, this.dueOf(e));
  }

  /**
   * When sweep() next has something to do on this tuple: a closed connection's linger ends, a judged connection's
   * reopen window ends, or its tombstone expires (a tuple with neither connection nor tombstone leaves at the next
   * sweep), or its open connection has been idle long enough to sleep. Infinity while its connection sleeps.
   */
  private dueOf(e: TupleEntry): number {
    if (e.asleep !== null) return Infinity;
    const c = e.current;
    if (c !== null) return c.lastT + (c.isClosed() ? this.opts.closedLinger : this.idleFreeze);
    const reopen = e.retired !== NONE ? e.retiredLastT + REOPEN_WINDOW : Infinity;
    return e.tomb === NONE ? -Infinity : Math.min(reopen, e.tombLastT + this.opts.tombstoneLife);
  }

  /**
   * Judge connections that are closed and quiet, freeze open ones that are idle, forget judged connections past
   * their reopen window, drop stale tombstones (called on packet time or a live clock). Only the tuples whose
   * deadline came are visited (in deadline order): O(expired · log n), not O(open).
   */
  sweep(now: number): void {
    const due = this.dueNow;
    // A little early rather than late: the tests below are the exact ones, a tuple not yet due sleeps again.
    this.timers.popDue(now, 1e-3, due);
    for (let i = 0; i < due.length; i++) {
      const s = due[i] as number;
      this.visits++;
      // A deadline from before it fell asleep (nothing is due while it sleeps): a parked one is left as it is.
      if (this.objs[s] === null && this.store.f64[s * DOUBLES + D_PARKED] !== NONE) continue;
      const e = this.entryOf(s);
      if (e.asleep !== null) continue;
      const c = e.current;
      if (c !== null) {
        if (c.isClosed()) {
          if (now - c.lastT >= this.opts.closedLinger) this.retire(e, c, now, false);
        } else if (now - c.lastT >= this.idleFreeze) {
          this.sleep(e, c);
          continue;
        }
      }
      if (e.current === null && e.retired !== NONE && now - e.retiredLastT >= REOPEN_WINDOW) this.dropRetired(e);
      if (e.current === null && (e.tomb === NONE || now - e.tombLastT >= this.opts.tombstoneLife)) this.unlink(e);
      else {
        this.timers.schedule(e.slot, this.dueOf(e));
        this.park(e); // resting: its records and deadline are in its row
      }
    }
    due.length = 0;
    if (this.cold !== null && this.cold.wasteful()) this.compactCold(this.cold);
  }

  /** The cold store keeps only what still sleeps (O(tuples), when over half of it is dead: amortized O(1) per sleep). */
  private compactCold(cold: ColdStore): void {
    // The slots of the tuples asleep in the store, parked or not.
    const sleepers: number[] = [];
    const refs: number[] = [];
    const f = this.store.f64;
    for (const s of this.slots()) {
      const e = this.objs[s];
      if (e === null || e === undefined) {
        const r = f[s * DOUBLES + D_PARKED] as number;
        if (r !== NONE) { sleepers.push(s); refs.push(r); }
      } else if (typeof e.asleep === 'number') { sleepers.push(s); refs.push(e.asleep); }
    }
    const moved = cold.compact(refs);
    for (let i = 0; i < sleepers.length; i++) {
      const s = sleepers[i] as number;
      const e = this.objs[s];
      if (e === null || e === undefined) f[s * DOUBLES + D_PARKED] = moved[i] as number; else e.asleep = moved[i] as number;
    }
  }

  /**
   * Connections still in the table (for live aging and snapshots). An asleep one is thawed for the caller and
   * frozen again (with whatever the caller changed) when the caller moves on.
   */
  *current(): IterableIterator<{ c: Connection; e: TupleEntry }> {
    for (const s of this.slots()) {
      const e = this.entryOf(s);
      if (e.current !== null) { yield { c: e.current, e }; continue; }
      if (e.asleep === null) { this.park(e); continue; }
      const c = this.thawAsleep(e);
      try {
        yield { c, e };
      } finally {
        if (e.asleep !== null) { e.asleep = this.stash(c); this.park(e); }
        c.free(); // this copy was the caller's only: frozen again, or woken by the caller as another copy
      }
    }
  }

  /**
   * End of input: judge everything still open. Nothing comes after it, so a judged connection leaves neither a
   * reopenable copy nor a tombstone (at the end of a long capture that would be ~1.3 KB more for every connection
   * open, frozen all at once); an asleep one is thawed only to be judged.
   */
  flushAll(tEnd: number): void {
    for (const s of this.slots()) {
      const e = this.entryOf(s);
      let c = e.current;
      if (e.asleep !== null) { c = this.thawAsleep(e); e.asleep = null; this.asleep--; }
      if (c === null) continue;
      e.current = c;
      this.judge(c, e, tEnd, true);
      e.current = null;
      c.free();
      this.active--;
    }
  }

  /** The table is full: drop the least recently active expendable connection, else judge the oldest other one. O(1). */
  private evict(now: number): void {
    this.visits++;
    const hs = this.lists.head(L_HANDSHAKES);
    if (hs !== END) {
      const h = this.entryOf(hs);
      const c = this.connectionOf(h) as Connection;
      this.lists.remove(hs);
      h.current = null;
      this.active--;
      this.evicted++;
      this.evictions.handshakeOnly++;
      this.onDrop(c, h);
      c.free();
      // Nothing of it stays; an older incarnation's tombstone on the same tuple does.
      if (h.tomb !== NONE || h.retired !== NONE) { this.lists.touch(L_RESTING, hs); this.timers.schedule(h.slot, this.dueOf(h)); if (h !== this.lastEntry) this.park(h); } else this.unlink(h);
      return;
    }
    const os = this.lists.head(L_OTHERS);
    if (os === END) return;
    const o = this.entryOf(os);
    this.lists.remove(os);
    this.evicted++;
    this.evictions.judgedEarly++;
    this.retire(o, this.connectionOf(o) as Connection, now, true);
    if (o !== this.lastEntry) this.park(o); // (the caller's ingest() still reports its tuple)
  }

  /** Too many resting tuples: the oldest loses its tombstone and leaves. */
  private forget(e: TupleEntry): void {
    this.evictions.tombstones++;
    this.unlink(e);
  }

  /** Remove a tuple without a connection from its hash chain and from the recency lists. */
  private unlink(e: TupleEntry): void {
    const s = e.slot;
    const r = this.store.i32;
    this.lists.remove(s);
    this.dropRetired(e);
    this.dropTomb(e);
    const h = e.hash;
    const head = this.buckets.get(h) as number;
    const next = r[s * WORDS + W_NEXT] as number;
    if (head === s) {
      if (next === END) this.buckets.delete(h); else this.buckets.set(h, next);
    } else {
      let p = head;
      while (r[p * WORDS + W_NEXT] !== s) { p = r[p * WORDS + W_NEXT] as number; this.visits++; }
      r[p * WORDS + W_NEXT] = next;
    }
    e.wake = Infinity; // a deadline still queued for it is skipped
    this.objs[s] = null;
    e.leave();
    this.entries--;
  }
}

/**
 * How long a judged connection can be reopened by late segments: an orphaned LAST_ACK retransmits its FIN with
 * exponential backoff for tcp_orphan_retries (8: 0.2 s … 51 s, ~100 s in all; docs/rules.md §6.5).
 */
export const REOPEN_WINDOW = 120;

/**
 * Capture seconds without a packet after which an open connection is frozen on its tuple (~3.7 KB as objects, a few
 * hundred bytes frozen). Connections that never close (one-sided captures, abandoned or stuck half-closes) pile up
 * over a long capture; the ones still talking are those that matter for speed. 30 s: longer than the closed
 * connections' linger (5 s), so a closed connection is judged, never frozen first; longer than the gaps of an
 * active exchange (retransmission backoff up to ~25 s after 6 tries, delayed ACKs, think time), so what is frozen
 * seldom wakes; and a wake costs one thaw (microseconds) per idle period at most, against memory for as long as
 * the connection stays.
 */
export const IDLE_FREEZE = 30;

export type NewReason = 'closed' | 'idle' | 'syn-seq-jump' | 'live';

/**
 * What a retired connection leaves for judging the next SYN on its tuple (docs/rules.md §6.4); `closing`: the frames
 * of its closing packets, in frame order (those its packet log kept are copied in).
 */
export function tombstone(c: Connection, closing: readonly number[]): Tombstone {
  return new Tombstone(tombstoneFacts(c, closing, newFacts()));
}

const newFacts = (): TombstoneFacts => ({
  id: '', clientIsA: false, closed: false, closeT: 0, endedByRst: false, timeWait: [false, false], sndMax: [0, 0],
  lastTsVal: [0, 0], usedTs: false, closeFrames: [], closeRows: [], closeRowsLength: 0, isn: [0, 0], firstT: 0, lastT: 0,
});

/** A tombstone's facts about `c`, into `f` (a fresh object for a Tombstone, or the scratch retire() reuses). */
function tombstoneFacts(c: Connection, closing: readonly number[], f: TombstoneFacts): TombstoneFacts {
  const [cl, sv] = c.ep;
  const frames = f.closeFrames;
  frames.length = 0;
  if (cl.fin) { addFrame(frames, cl.fin.frame); addFrame(frames, cl.fin.ackFrame); }
  if (sv.fin) { addFrame(frames, sv.fin.frame); addFrame(frames, sv.fin.ackFrame); }
  if (c.acceptedRst) addFrame(frames, c.acceptedRst.frame);
  // Rows copied over the array's old ones (emptied by its length, it would give its storage back each time).
  let n = 0;
  for (const frame of closing) if (c.log.copyRowOf(frame, f.closeRows, n)) n += ROW_WIDTH;
  f.closeRowsLength = n;
  f.id = c.id; f.clientIsA = c.clientIsA; f.closed = c.isClosed();
  f.closeT = c.closedT || Math.max(cl.fin?.t ?? 0, sv.fin?.t ?? 0) || c.lastT;
  f.endedByRst = c.acceptedRst !== null;
  f.timeWait[0] = cl.state === 'TIME_WAIT'; f.timeWait[1] = sv.state === 'TIME_WAIT';
  f.sndMax[0] = cl.sndMax; f.sndMax[1] = sv.sndMax;
  f.lastTsVal[0] = cl.lastTsVal; f.lastTsVal[1] = sv.lastTsVal;
  f.usedTs = cl.usedTs && sv.usedTs;
  f.isn[0] = cl.isn; f.isn[1] = sv.isn;
  f.firstT = c.firstT; f.lastT = c.lastT;
  return f;
}

/** retire()'s scratch: a tombstone's facts and numbers, frozen without making the Tombstone (freezeTombstoneTo). */
const scratchFacts = newFacts();
const scratchNumbers: number[] = [];

/** freezeTo(tombstone(c, closing), arena) without the objects between: the same bytes; the record's reference. */
export function freezeTombstone(c: Connection, closing: readonly number[], arena: RecordArena): number {
  const f = tombstoneFacts(c, closing, scratchFacts);
  const count = tombstoneSize(f);
  packTombstone(f, scratchNumbers);
  return freezeTombstoneTo(f.id, tombstoneBits(f), scratchNumbers, count, arena);
}
