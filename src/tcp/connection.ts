import { added, EMPTY_LIST } from './empty-list.js';
import type { EndpointState } from '../model/report.js';
import { ACK, FIN, RST, SYN, newTcpPacket, type TcpPacket } from '../decode/packet.js';
import { Endpoint, FinRecord, synchronized, type RstRecord } from './endpoint.js';
import { PacketLog } from './packet-log.js';
import { FreeList, lazyReset } from './free-list.js';
import { copyNumbers, FREED, RowPool } from './row-pool.js';
import { PathRecord } from './path.js';
import type { Tombstone } from './tombstone.js';
import { add32, between, ge, gt, le } from './seq.js';
import { transition, type EndpointEvent, type Transition } from './transitions.js';

export { Tombstone } from './tombstone.js';

/** An inference taken back: what was assumed at `frame`, and the packet (`revisedBy`) that contradicted it. */
export interface Revision {
  frame: number;
  revisedBy: number;
  t: number;
  what: 'rst-not-effective' | 'fin-ack-not-received' | 'fin-not-sent';
  why: string;
}

/** Something the capture does not hold, inferred from what it does: the packet it rests on and why (docs/rules.md §4). */
export interface Inference {
  frame: number;
  /** 'fin-not-captured': the peer's FIN, inferred from this side's ACK advancing by exactly one past it. */
  what: 'fin-not-captured';
  /** The side whose packet was inferred (0 client, 1 server). */
  side: 0 | 1;
  why: string;
  /** States before the inference, restored when a later packet contradicts it. */
  before: [EndpointState, EndpointState];
}

/** Events made once (no object per state change): those without parameters, and below each variant of the others. */
const EV = {
  seenMidstream: { kind: 'seen-midstream' },
  sendAckUnseenSynAck: { kind: 'send-ack-unseen-syn-ack' },
  peerCompletedHandshake: { kind: 'peer-completed-handshake' },
  sendSyn: { kind: 'send-syn' },
  peerSyn: { kind: 'peer-syn' },
  sendSynAck: { kind: 'send-syn-ack' },
  resendSyn: { kind: 'resend-syn' },
  recvSynAck: { kind: 'recv-syn-ack' },
  recvAckOfSyn: { kind: 'recv-ack-of-syn' },
  recvAckOfFin: { kind: 'recv-ack-of-fin' },
  recvRst: { kind: 'recv-rst' },
  sendRst: { kind: 'send-rst' },
} as const satisfies Record<string, EndpointEvent>;

type Ev<K extends EndpointEvent['kind']> = Extract<EndpointEvent, { kind: K }>;
const SEND_FIN: Ev<'send-fin'>[] = [0, 1, 2, 3].map((i) => ({ kind: 'send-fin', acksPeerFin: (i & 1) !== 0, peerFinUnacked: (i & 2) !== 0 }));
const RECV_FIN: Ev<'recv-fin'>[] = [0, 1].map((i) => ({ kind: 'recv-fin', acksOwnFin: i !== 0 }));
const RESEND_FIN: Ev<'resend-fin'>[] = [0, 1, 2, 3].map((i) => ({ kind: 'resend-fin', acksPeerFin: (i & 1) !== 0, peerFinSeen: (i & 2) !== 0 }));
const sendFin = (acksPeerFin: boolean, peerFinUnacked: boolean) => SEND_FIN[(acksPeerFin ? 1 : 0) | (peerFinUnacked ? 2 : 0)] as Ev<'send-fin'>;
const recvFin = (acksOwnFin: boolean) => RECV_FIN[acksOwnFin ? 1 : 0] as Ev<'recv-fin'>;
const resendFin = (acksPeerFin: boolean, peerFinSeen: boolean) => RESEND_FIN[(acksPeerFin ? 1 : 0) | (peerFinSeen ? 2 : 0)] as Ev<'resend-fin'>;

/** Sequence space a segment occupies: payload + SYN + FIN (docs/rules.md §0.2). */
function spaceOf(p: TcpPacket): number {
  return p.payloadLen + ((p.flags & SYN) !== 0 ? 1 : 0) + ((p.flags & FIN) !== 0 ? 1 : 0);
}

/** The shortest retransmission timeout of common stacks (Linux TCP_RTO_MIN 200 ms; FreeBSD 30 ms + 200 ms slop). */
const MIN_RTO = 0.2;

/** FIN retransmission frames kept per FIN (the count is exact beyond). */
export const MAX_RETX_FRAMES = 64;

/** Copies the fields a replayed segment needs (the decoder reuses its packet struct). */
function copyPacket(p: TcpPacket, q: TcpPacket): void {
  q.ipVersion = p.ipVersion; q.src.set(p.src); q.dst.set(p.dst); q.ttl = p.ttl; q.ipId = p.ipId; q.vlan = p.vlan;
  q.sllPacketType = p.sllPacketType; q.srcPort = p.srcPort; q.dstPort = p.dstPort; q.seq = p.seq; q.ack = p.ack;
  q.flags = p.flags; q.window = p.window; q.payloadLen = p.payloadLen; q.capturedPayloadLen = p.capturedPayloadLen;
  q.payloadOffset = p.payloadOffset; q.mss = p.mss; q.wscale = p.wscale; q.sackPermitted = p.sackPermitted;
  q.hasTs = p.hasTs; q.tsVal = p.tsVal; q.tsEcr = p.tsEcr; q.sackCount = p.sackCount; q.auth = p.auth;
}

/** Facts about a SYN that reopened a tuple, gathered as the new incarnation's handshake unfolds. */
export interface ReuseTrack {
  previous: Tombstone;
  /** Why a new incarnation started: the previous one was closed, idle, still in its handshake, or live. */
  reason: 'closed' | 'idle' | 'syn-seq-jump' | 'live';
  synFrame: number;
  synT: number;
  synSeq: number;
  synHasTs: boolean;
  synTsVal: number;
  /** First reaction of the SYN receiver to the first SYN. */
  answer: 'syn-ack' | 'ack' | 'rst' | null;
  answerFrame: number;
  answerAck: number;
  /** Client RST answering the TIME_WAIT ACK (seq == that ACK's ack). */
  clientRstFrame: number;
  /** SYN retransmissions after the first. */
  retries: number;
  retryFrames: number[];
  /** First SYN-ACK acknowledging the SYN, whenever it came. */
  synAckFrame: number;
  synAckT: number;
  synAckSeq: number;
}

// A connection's row (see Connection's #rows); its accessors name the places, as literal offsets (src/tcp/endpoint.ts).
export const CONN_ROW_WIDTH = 8;
const CONN_ROWS = new RowPool(CONN_ROW_WIDTH);
/** The fields Connection.open() sets itself when it reuses a connection: its parts and its constructor's arguments. */
const OWN_PARTS = ['ep', 'log', 'path', 'ordinal', 'clientIsA', 'clientGuessed', 'incarnation', 'previousId', 'id'];
/** Connections dropped (free()), for the next ones (Connection.open()): their other fields set to a new one's. */
const FREE = new FreeList<Connection>(4096, lazyReset(() => { const c = new Connection(0, false, false, 0, null, ''); c.free(); return c; }, OWN_PARTS));
/** Sets a path record's fields to a new one's. */
const resetPath = lazyReset(() => new PathRecord());

/**
 * One incarnation of a 4-tuple: two endpoints (0 = client, the SYN sender; 1 = server) whose states are inferred
 * from the segments seen (docs/rules.md §2, §3). Synchronous, no I/O; time is the packet timestamp in seconds.
 */
export class Connection {
  // Read-only but for open(), which makes a dropped connection new again (as are the constructor's arguments).
  readonly ep: [Endpoint, Endpoint] = [new Endpoint(), new Endpoint()];
  firstFrame = 0;
  lastFrame = 0;
  packets = 0;
  /** Capture duplicates dropped (docs/rules.md §10.2). */
  duplicates = 0;
  sawSyn = false;
  sawSynAck = false;
  established = false;
  refused = false;
  /** RSTs that refused the SYN of this attempt (one per try when a refused connect is retried). */
  refusals = 0;
  /** The first accepted RST and its sender (0/1); null while none. */
  acceptedRst: RstRecord | null = null;
  rstBy: 0 | 1 = 0;
  /** The server's ACK that answered a SYN during the handshake without acknowledging it (TIME_WAIT reject). */
  rejectAckFrame = 0;
  reuse: ReuseTrack | null = null;
  /** Set when a SYN with a new ISN arrived while this connection was established and the peer then accepted it (docs/rules.md §6.4 case 3). */
  supersededBySyn = 0;
  /** SYNs with a new ISN seen while synchronized (RFC 5961 §4.2): count, first frames, the last one (for replay). */
  liveSyns = 0;
  liveSynFrames: number[] = EMPTY_LIST;
  liveSyn: TcpPacket | null = null;
  liveSynSide: 0 | 1 = 0;
  liveSynFrame = 0;
  readonly log: PacketLog;
  /** Earlier inferences that later packets contradicted and that were taken back (docs/rules.md §6.3, §6.5). */
  revisions: Revision[] = EMPTY_LIST;
  /** Packets the capture missed, inferred from the ones it holds (at most one per side). */
  inferences: Inference[] = EMPTY_LIST;
  /** Live aging: a stuck half-close was already announced. */
  announcedStuck = false;
  /** The encapsulation its packets came by. */
  readonly path = new PathRecord();
  /**
   * Frames the capture lost while this connection was tracked (live drop accounting), up to when the flow table's loss
   * count was `lostBase`: FlowTable.lossOf() adds what was lost since.
   */
  lost = 0;
  lostBase = 0;
  /** What the judge keeps with a judged connection for judging it again after a reopen (opaque here). */
  kept: unknown = null;

  /** Stable for the same input: 'c' + the order of the connection's first packet among connections. */
  readonly id: string;
  /** Its times and the reject ACK's number, in a pooled row (src/tcp/row-pool.ts) behind the accessors below. */
  #rows: Float64Array = CONN_ROWS.take();
  #at = CONN_ROWS.lastAt;

  /**
   * A new connection, as the constructor makes it: one dropped before made new again (src/tcp/free-list.ts), with
   * endpoints and a packet log also dropped before, or else a new one.
   */
  static open(ordinal: number, clientIsA: boolean, clientGuessed: boolean, incarnation: number, previousId: string | null, id?: string): Connection {
    const c = FREE.take();
    if (c === undefined) return new Connection(ordinal, clientIsA, clientGuessed, incarnation, previousId, id);
    resetPath(c.path);
    const w = c as { -readonly [K in keyof Connection]: Connection[K] };
    w.ep[0] = Endpoint.take();
    w.ep[1] = Endpoint.take();
    w.log = PacketLog.take();
    w.ordinal = ordinal; w.clientIsA = clientIsA; w.clientGuessed = clientGuessed; w.incarnation = incarnation; w.previousId = previousId;
    w.id = id ?? `c${ordinal}`;
    c.#rows = CONN_ROWS.take();
    c.#at = CONN_ROWS.lastAt;
    return c;
  }

  constructor(
    readonly ordinal: number,
    readonly clientIsA: boolean,
    readonly clientGuessed: boolean,
    readonly incarnation: number,
    readonly previousId: string | null,
    id?: string,
  ) {
    this.log = new PacketLog();
    this.id = id ?? `c${ordinal}`;
  }

  /**
   * The connection leaves the flow table (judged and frozen, or dropped): its endpoints and packet log give their pool rows back
   * (src/tcp/row-pool.ts), and it and they are kept for the next connections (open(), src/tcp/free-list.ts). It must
   * not be fed or read again.
   */
  free(): void {
    if (this.#at < 0) return;
    CONN_ROWS.free(this.#rows, this.#at);
    this.#at = FREED;
    this.ep[0].free();
    this.ep[1].free();
    this.log.free();
    FREE.give(this);
  }

  /** Sets one of its row's numbers (thawing). */
  setRow(k: number, v: number): void { this.#rows[this.#at + k] = v; }
  /** Its row's numbers into out[0 .. CONN_ROW_WIDTH) (freezing: one call, not one per number). */
  copyRow(out: Float64Array): void { copyNumbers(this.#rows, this.#at, CONN_ROW_WIDTH, out); }

  get firstT(): number { return this.#rows[this.#at + 0] as number; }
  set firstT(v: number) { this.#rows[this.#at + 0] = v; }
  get lastT(): number { return this.#rows[this.#at + 1] as number; }
  set lastT(v: number) { this.#rows[this.#at + 1] = v; }
  /** Time of the client's first segment after the SYN-ACK (handshake gap d2, docs/rules.md §10.1); 0 until seen. */
  get thirdT(): number { return this.#rows[this.#at + 2] as number; }
  set thirdT(v: number) { this.#rows[this.#at + 2] = v; }
  /** Time of the client's first ACK-bearing segment after its captured SYN (SYN-ACK captured or not); 0 until seen. */
  get clientAckT(): number { return this.#rows[this.#at + 3] as number; }
  set clientAckT(v: number) { this.#rows[this.#at + 3] = v; }
  /** Time both directions were closed (last FIN acknowledged) or the connection was reset; 0 while open. */
  get closedT(): number { return this.#rows[this.#at + 4] as number; }
  set closedT(v: number) { this.#rows[this.#at + 4] = v; }
  get rejectAckAck(): number { return this.#rows[this.#at + 5] as number; }
  set rejectAckAck(v: number) { this.#rows[this.#at + 5] = v; }
  get liveSynFirstT(): number { return this.#rows[this.#at + 6] as number; }
  set liveSynFirstT(v: number) { this.#rows[this.#at + 6] = v; }
  get liveSynT(): number { return this.#rows[this.#at + 7] as number; }
  set liveSynT(v: number) { this.#rows[this.#at + 7] = v; }

  /** Closed for incarnation purposes (docs/rules.md §6.4 case 1): both FINs seen, an accepted RST, or refused. */
  isClosed(): boolean {
    return this.acceptedRst !== null || this.refused || (this.ep[0].fin !== null && this.ep[1].fin !== null);
  }

  /**
   * The side never seen in the capture while the other side's ACK field shows it was sending (its SYN or data was
   * acknowledged): a one-sided capture (asymmetric route, one-way tap). null when both were seen or nothing says so.
   */
  missingSide(): 0 | 1 | null {
    for (const x of [0, 1] as const) {
      const seen = this.ep[x ^ 1] as Endpoint;
      if (this.ep[x].packets === 0 && seen.packets > 0 && (seen.hasAck || seen.sentRstAck)) return x;
    }
    return null;
  }

  /** Only handshake packets so far: no data, never established (docs/rules.md §6.4 case 3, syn_seq_jump). */
  inHandshakeOnly(): boolean {
    return !this.established && this.ep[0].dataBytes === 0 && this.ep[1].dataBytes === 0;
  }

  /** Feed one segment travelling from side d. */
  onSegment(p: TcpPacket, d: 0 | 1, frame: number, t: number): void {
    const S = this.ep[d];
    const R = this.ep[d ^ 1] as Endpoint;
    const flags = p.flags;
    const seq = p.seq;
    const ack = p.ack;
    const len = p.payloadLen;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const ackBit = (flags & ACK) !== 0;

    // Capture duplicates (docs/rules.md §10.2): same IP ID, seq, ack, flags, len and TSval within 1 ms.
    if (S.dupLen === len && S.dupSeq === seq && S.dupAck === ack && S.dupFlags === flags && p.ipId >= 0
      && S.dupIpId === p.ipId && S.dupTsVal === (p.hasTs ? p.tsVal : 0) && t - S.dupT <= 0.001 && S.dupT > 0) {
      this.duplicates++;
      return;
    }
    S.dupIpId = p.ipId; S.dupSeq = seq; S.dupAck = ack; S.dupFlags = flags; S.dupLen = len;
    S.dupTsVal = p.hasTs ? p.tsVal : 0; S.dupT = t;

    if (this.packets === 0) { this.firstFrame = frame; this.firstT = t; }
    this.packets++;
    this.lastFrame = frame;
    if (t > this.lastT) this.lastT = t;
    S.packets++;
    S.lastT = t;
    // Segment authentication (RFC 2385 §2.0, RFC 5925 §7.7; Linux tcp_inbound_hash before tcp_validate_incoming):
    // a receiver holding a key for its peer drops every segment without the option, one without a key drops every
    // segment carrying it, before any TCP processing. Which mode the connection uses is what each side's first
    // segment carried (the peer's when this side's first segment is the odd one).
    const mode = S.authMode >= 0 ? S.authMode : R.authMode;
    const authMismatch = mode >= 0 && (p.auth !== 0) !== (mode !== 0);
    if (!authMismatch && !rst && S.authMode < 0) S.authMode = p.auth;
    if (authMismatch && !rst) {
      S.authDropped++;
      this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
        `dropped by the receiver: ${p.auth !== 0 ? 'unexpected' : 'missing'} ${p.auth === 29 ? 'TCP-AO' : 'TCP-MD5'} option`, true);
      return;
    }
    // A server ACK without SYN answering a SYN it does not acknowledge, before any SYN-ACK: the TIME_WAIT (or
    // half-open) ACK of an older incarnation (docs/rules.md §6.4 "rejected": ACK <seq=lastSeq(S→C), ack=lastSeq(C→S)>).
    // It carries the old connection's numbers, so it must not seed this incarnation's sequence state.
    // An ACK covering data the client sent after its SYN acknowledges this connection: its SYN-ACK was not captured.
    if (d === 1 && !syn && !rst && ackBit && !this.sawSynAck && R.state === 'SYN_SENT' && R.isnKnown === 1
      && ack !== add32(R.isn, 1) && !(R.dataBytes > 0 && between(ack, add32(R.isn, 2), R.sndMax))) {
      if (this.rejectAckFrame === 0) { this.rejectAckFrame = frame; this.rejectAckAck = ack; }
      if (this.reuse !== null && this.reuse.answer === null) {
        this.reuse.answer = 'ack'; this.reuse.answerFrame = frame; this.reuse.answerAck = ack;
      }
      this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
        'ACK of the old connection (SYN not accepted)', true);
      return;
    }
    // A SYN with a new ISN on a synchronized connection changes nothing there (RFC 5961 §4.2; Linux
    // tcp_validate_incoming answers it with a challenge ACK): a client that lost its state, or spoofed SYNs. Counted
    // here; a new connection starts only when the peer shows it has no state (RST accepted, or a SYN-ACK to it).
    if (syn && !ackBit && !rst && !(S.isnKnown === 1 && seq === S.isn) && !this.isClosed() && !this.inHandshakeOnly()) {
      if (this.liveSyns === 0) this.liveSynFirstT = t;
      this.liveSyns++;
      if (this.liveSynFrames.length < 8) this.liveSynFrames = added(this.liveSynFrames, frame);
      const keep = this.liveSyn ?? newTcpPacket();
      copyPacket(p, keep);
      this.liveSyn = keep; this.liveSynSide = d; this.liveSynFrame = frame; this.liveSynT = t;
      this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
        'SYN with a new ISN on a live connection (challenge ACK expected, no state change)', true);
      return;
    }
    // Neither SYN, RST nor ACK (FIN, NULL and Xmas scans; broken stacks): every state past LISTEN drops it
    // (RFC 9293 §3.10.7.4 fifth check, "if the ACK bit is off, drop the segment"; Linux tcp_rcv_state_process
    // discards it, TCP_FLAGS), and a closed port answers RST (§3.10.7.1). It never changes a state.
    if (!syn && !rst && !ackBit) {
      S.noAckDropped++;
      this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
        'no ACK bit: dropped by the receiver (RFC 9293 §3.10.7.4)', true);
      return;
    }
    // A segment without SYN from an endpoint still in SYN-SENT whose ACK field is 0 acknowledges nothing: no SYN-ACK
    // reached it (an acknowledged SYN-ACK would give a nonzero ack, below). There is no connection to carry it:
    // CLOSE in SYN-SENT deletes the TCB and sends nothing (RFC 9293 §3.10.4), and the peer, in LISTEN or without
    // state, answers an ACK-bearing segment with RST (§3.10.7.1, §3.10.7.2; in SYN-RECEIVED an ACK of 0 is not
    // acceptable either, §3.10.7.4 fifth step). A FIN sent so is not a close: it changes no state.
    if (!syn && !rst && ack === 0 && S.state === 'SYN_SENT' && !this.sawSynAck) {
      S.unsyncDropped++;
      this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
        `${fin ? 'FIN' : 'segment'} from SYN_SENT acknowledging nothing (ack 0, no SYN-ACK): no connection to carry it (RFC 9293 §3.10.4, §3.10.7.2)`, true);
      return;
    }
    if (!S.seen) {
      S.seen = true;
      S.firstT = t;
      if (!syn) {
        // Midstream: base the relative numbers on first seq - 1 (Wireshark base_seq, Zeek InitStartSeq).
        if (S.isnKnown === 0) { S.isn = add32(seq, -1); S.isnKnown = 2; }
        S.sndMax = seq;
        S.contigEnd = seq;
        // An RST is no sign of a synchronized sender: a closed port answers that way (RFC 9293 §3.10.7.1).
        if (!rst) this.move(d, EV.seenMidstream);
      }
    }
    if (!rst) {
      if (S.ttl < 0) S.ttl = p.ttl; else if (p.ttl !== S.ttl) S.ttlMismatches++;
      if (p.hasTs) { S.usedTs = true; S.lastTsVal = p.tsVal; }
    }

    if (rst) {
      this.onRst(p, d, S, R, frame, t, authMismatch);
      return;
    }

    // Acceptability (RFC 9293 §3.10.7.4 first step, Table 6; Linux tcp_sequence): a segment starting beyond
    // RCV.NXT + RCV.WND is dropped (an ACK is sent, nothing else happens). RCV.NXT is at most what the sender had sent
    // contiguously, so only a segment beyond that plus the window is provably dropped; the window is known only when
    // both SYNs were seen (window scale).
    if (!syn && R.hasAck && S.isnKnown === 1 && R.isnKnown === 1 && spaceOf(p) > 0) {
      const scale = R.wscale >= 0 && S.wscale >= 0 ? R.wscale : 0;
      const wnd = R.win * 2 ** scale;
      const hi = gt(S.contigEnd, R.ackMax) ? S.contigEnd : R.ackMax;
      if (gt(seq, add32(hi, Math.max(wnd, 1)))) {
        S.outOfWindow++;
        this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
          'beyond the receiver\'s window: dropped (RFC 9293 §3.10.7.4)', true);
        return;
      }
    }

    // Later packets from an RST's receiver overrule the reset it was assumed to cause (docs/rules.md §6.3
    // "confirmation by behaviour"), before this segment is processed in the revised states:
    // - an RST judged without knowing the receiver's window, or accepted only by one stack's rule (Linux
    //   RCV.NXT − 1 after a FIN), is overruled when the receiver keeps sending data, a FIN or new ACKs;
    // - any RST is overruled when its receiver acknowledges bytes the sender sent only after it (they cannot have
    //   been in flight before it). Other arithmetically accepted RSTs stand: segments in flight look the same.
    const ar = this.acceptedRst;
    if (ar !== null && this.rstBy !== d && !rst && (ar.verdict !== 'accepted' || ar.weak) && (len > 0 || fin || (ackBit && gt(ack, ar.seq)))) {
      this.unacceptRst(ar, frame, t, 'ignored', ar.weak
        ? `seq ${ar.seq} is RCV.NXT − 1, acceptable only to Linux (tcp_reset_check); the ${d === 0 ? 'client' : 'server'} kept sending after it (frame ${frame}), so it did not take it`
        : `the ${d === 0 ? 'client' : 'server'} kept sending after it (frame ${frame}): the RST was not at its RCV.NXT`);
    } else if (ar !== null && this.rstBy !== d && !rst && ackBit && !this.refused && gt(ack, ar.senderSndMax)) {
      this.unacceptRst(ar, frame, t, 'no-effect',
        `the ${d === 0 ? 'client' : 'server'} acknowledged (frame ${frame}, ack ${ack}) data the ${d === 0 ? 'server' : 'client'} sent after the RST (its SND.NXT was ${ar.senderSndMax} at the RST): it was never reset`);
    }

    let note: string | null = null;
    const cBefore = this.ep[0].state;
    if (d === 0 && this.thirdT === 0 && this.sawSynAck && !syn) this.thirdT = t;
    if (d === 0 && this.clientAckT === 0 && S.isnKnown === 1 && !syn && ackBit) this.clientAckT = t;
    const seqSpace = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const end = add32(seq, seqSpace);
    // Keepalives and zero-window probes: seq = SND.NXT - 1, len 0 or 1 (docs/rules.md §10.3); not activity.
    const keepalive = !syn && !fin && len <= 1 && S.sndMax !== 0 && seq === add32(S.sndMax, -1);
    if (keepalive) S.keepalives++;
    const prevActivity = S.lastNonKeepaliveT;
    const coveredPeerFinBefore = R.fin !== null && S.hasAck && ge(S.ackMax, add32(R.fin.finSeq, 1));
    if (!keepalive) S.lastNonKeepaliveT = t;

    // A SYN-SENT endpoint sending an ACK had received a SYN-ACK: the capture missed it (RFC 9293 §3.10.7.3). An ACK
    // field of 0 is what a stack sends with nothing to acknowledge, no sign of a SYN-ACK.
    if (!syn && ackBit && ack !== 0 && S.state === 'SYN_SENT' && !this.sawSynAck) {
      this.move(d, EV.sendAckUnseenSynAck);
      this.move((d ^ 1) as 0 | 1, EV.peerCompletedHandshake);
      this.established = true;
    }

    // --- SYN (RFC 9293 §3.10.7.2 / §3.10.7.3)
    if (syn) {
      if (S.isnKnown !== 1) {
        S.isn = seq; S.isnKnown = 1; S.synFrame = frame; S.synT = t;
        S.sndMax = add32(seq, 1); S.contigEnd = S.sndMax;
        S.synHasTs = p.hasTs; S.synTsVal = p.tsVal;
        S.wscale = p.wscale;
        if (!ackBit) {
          this.move(d, EV.sendSyn);
          this.sawSyn = true;
          this.move((d ^ 1) as 0 | 1, EV.peerSyn);
          note = 'SYN';
        } else {
          this.move(d, EV.sendSynAck);
          this.sawSynAck = true;
          note = 'SYN,ACK';
        }
      } else if (seq === S.isn) {
        // Same ISN: the same attempt sent again (RFC 9293 §3.8.1 retransmission), never a new connection.
        S.synRetx++;
        if (!ackBit) {
          note = 'SYN retransmission';
          this.trackSynRetry(frame);
          if (this.refused) this.move(d, EV.resendSyn);
        } else note = 'SYN,ACK retransmission';
      }
      if (ackBit && R.isnKnown === 1 && ack === add32(R.isn, 1) && R.state === 'SYN_SENT') {
        // The SYN sender becomes ESTABLISHED on receiving a SYN-ACK that acknowledges its SYN.
        this.move((d ^ 1) as 0 | 1, EV.recvSynAck);
        this.trackSynAck(frame, t, seq);
        if (this.refused) {
          // The retried SYN (same ISN) was accepted: the attempt succeeded after its refusals; not a refused one.
          this.refused = false;
          this.acceptedRst = null;
          this.closedT = 0;
        }
      }
      if (ackBit && this.reuse !== null && this.reuse.answer === null && d === 1) {
        this.reuse.answer = 'syn-ack'; this.reuse.answerFrame = frame; this.reuse.answerAck = ack;
      }
    }

    // --- ACK (RFC 9293 §3.10.7.4 fifth step). ACKs on RSTs are not trusted (Zeek), handled in onRst.
    if (ackBit) {
      const inf = this.inferences.length === 0 ? undefined : this.inferences.find((x) => x.side !== d);
      if (inf !== undefined && R.fin !== null && R.fin.inferredFrom !== 0 && gt(ack, add32(R.fin.finSeq, 1))) {
        this.uninferPeerFin(inf, d, frame, t, ack);
      } else if (S.hasAck && ack === add32(S.ackMax, 1) && len === 0 && !syn && !fin) {
        const why = this.peerFinEvidence(d, t);
        if (why !== null) note = this.inferPeerFin(d, frame, t, why);
      }
      if (!S.hasAck || gt(ack, S.ackMax)) S.ackMax = ack;
      S.hasAck = true;
      if (R.isnKnown === 0) { R.isn = add32(ack, -1); R.isnKnown = 2; } // Wireshark reverse base from the first ACK
      if (R.state === 'SYN_RECEIVED' && !syn && R.isnKnown === 1 && ge(ack, add32(R.isn, 1))) {
        this.move((d ^ 1) as 0 | 1, EV.recvAckOfSyn);
        this.established = true;
      }
      if (S.state === 'ESTABLISHED' && R.state === 'ESTABLISHED') this.established = true;
      const rf = R.fin;
      if (rf !== null && ge(ack, add32(rf.finSeq, 1))) {
        if (rf.ackFrame === 0) {
          rf.ackFrame = frame; rf.ackT = t; rf.ackedBeforeRetx = rf.retx === 0;
          if (note === null) note = fin ? 'FIN (acknowledges the peer FIN)' : 'ACK of FIN';
          this.finAcked((d ^ 1) as 0 | 1);
        } else if (rf.retx > 0 && rf.reAckFrame === 0 && gt(frame, rf.retxFrames[rf.retxFrames.length - 1] ?? 0)) {
          rf.reAckFrame = frame; rf.reAckT = t;
          if (note === null) note = 'ACK of FIN retransmission';
          this.finAcked((d ^ 1) as 0 | 1);
        }
      }
    }

    // --- Data
    if (len > 0) {
      const dataEnd = add32(seq, len + (syn ? 1 : 0));
      if (gt(dataEnd, S.sndMax)) {
        const from = gt(seq, S.sndMax) ? seq : S.sndMax;
        S.dataBytes += (dataEnd - from) >>> 0;
        // New data sent after the peer's FIN was captured: if the peer had called close(), it will answer with RST
        // (Linux tcp_rcv_state_process FIN-WAIT-1/2 with RCV_SHUTDOWN: TCPAbortOnData; RFC 9293 §3.6.1).
        if (R.fin !== null) {
          if (S.dataAfterPeerFinFrames.length === 0) S.dataAfterPeerFinAck = ackBit ? ack : -1;
          if (S.dataAfterPeerFinFrames.length < 8) S.dataAfterPeerFinFrames = added(S.dataAfterPeerFinFrames, frame);
          S.dataAfterPeerFinNew += (dataEnd - from) >>> 0;
          note = 'data after the peer FIN';
        }
      } else {
        S.retransmits++;
      }
      S.lastDataT = t;
      if (!S.hasDataEnd || gt(dataEnd, S.dataEnd)) { S.dataEnd = dataEnd; S.hasDataEnd = true; }
      if (R.fin !== null && S.hasAck && ge(S.ackMax, add32(R.fin.finSeq, 1))) {
        S.dataAfterPeerFin += len;
        if (note === null) note = 'data after the peer FIN';
      }
    }

    // --- FIN (RFC 9293 §3.10.7.4 eighth step; §3.10.4 CLOSE; docs/rules.md §4 for who closed first)
    if (fin) {
      const finSeq = add32(seq, len + (syn ? 1 : 0));
      const sf = S.fin;
      if (sf === null) {
        const acksPeerFin = ackBit && R.fin !== null && ge(ack, add32(R.fin.finSeq, 1));
        S.fin = FinRecord.make(finSeq, frame, t, ackBit, ack, acksPeerFin, prevActivity > 0 ? t - prevActivity : 0, 0);
        note = acksPeerFin ? 'FIN (passive close)' : 'FIN';
        // Sender: CLOSE-WAIT → LAST-ACK when it had received the peer's FIN, else ESTABLISHED → FIN-WAIT-1;
        // if the peer's FIN is already on its way (crossing FINs), it will be CLOSING (RFC 9293 Figure 13).
        this.move(d, sendFin(acksPeerFin, R.fin !== null && R.fin.ackFrame === 0));
        // Receiver, on receipt of the FIN.
        this.move((d ^ 1) as 0 | 1, recvFin(acksPeerFin));
      } else if (finSeq === sf.finSeq && ackBit && ((R.fin !== null && !coveredPeerFinBefore
        && ge(ack, add32(R.fin.finSeq, 1)) && sf.retx === 0)
        || (sf.hasAck && gt(ack, sf.lastAck) && t - sf.lastT < MIN_RTO))) {
        // The same FIN again, but with an ACK that acknowledges more (the peer's crossing FIN, perhaps captured only
        // later), sooner than any retransmission timeout: the acknowledgment, sent with the FIN bit because its own
        // FIN was still unacknowledged (BSD tcp_output re-sets FIN while snd_nxt == snd_max), not a loss
        // retransmission (simultaneous close, RFC 9293 Figure 13).
        sf.reAcks++;
        sf.lastAck = ack; sf.lastT = t;
        note = 'FIN again, acknowledging the peer FIN (not a retransmission)';
      } else if (finSeq === sf.finSeq) {
        if (ackBit) sf.lastAck = ack;
        sf.lastT = t;
        sf.retx++;
        if (sf.retxFrames.length < MAX_RETX_FRAMES) { sf.retxFrames = added(sf.retxFrames, frame); sf.retxTimes = added(sf.retxTimes, t); }
        note = sf.ackFrame !== 0 ? 'FIN retransmission (the captured ACK did not reach it)' : 'FIN retransmission';
        // The retransmission proves the sender never got the ACK: it is still in LAST-ACK / FIN-WAIT-1 / CLOSING.
        const before = S.state;
        const tr = this.move(d, resendFin(sf.acksPeerFin, R.fin !== null));
        if (tr.state !== before && sf.ackFrame !== 0) {
          this.revise(sf.ackFrame, frame, t, 'fin-ack-not-received',
            `the ${d === 0 ? 'client' : 'server'} sent its FIN again: the ACK in frame ${sf.ackFrame} never reached it (${before} → ${tr.state})`);
        }
        if (this.closedT !== 0 && this.acceptedRst === null) this.closedT = 0;
      } else {
        note = 'FIN with a different sequence number'; // Zeek FIN_advanced_last_seq
      }
    }

    if (gt(end, S.sndMax) || S.sndMax === 0) S.sndMax = end;
    if (le(seq, S.contigEnd) && gt(end, S.contigEnd)) S.contigEnd = end;
    S.win = p.window;
    S.lastFrame = frame; S.lastSeq = seq; S.lastAckBit = ackBit; S.lastAckField = ack; S.lastLen = len;
    S.lastFlags = flags;
    S.lastNewData = len > 0 && (!R.hasAck || gt(add32(seq, len), R.ackMax));

    const changed = cBefore !== this.ep[0].state;
    this.log.record(frame, t, d, flags, seq, ack, len, p.window, this.ep[0].state, this.ep[1].state,
      note ?? (changed ? 'state change' : null), note !== null || syn || fin);
  }

  /**
   * Whether S's ACK advancing by exactly one (no data, no FIN) past what it had acknowledged shows the peer's FIN,
   * uncaptured (docs/rules.md §4 "inferred FIN"); the reason, or null when it does not. Sound only when:
   * - the peer was never captured (one-sided): on a two-sided capture a FIN is seen, not guessed;
   * - S had sent its FIN before: a peer that received it answers with its FIN; one byte of data instead would
   *   have drawn an RST from a close()d S (Linux tcp_rcv_state_process, TCPAbortOnData), not this ACK;
   * - the ACK came at least one round trip after S's FIN (the handshake's, SYN → the client's ACK, measured at the
   *   capture point): the peer's FIN was then sent after S's FIN reached it, so it acknowledged that FIN (not a
   *   crossing, RFC 9293 Figure 13), and who closed first is S.
   * A later ACK of S advancing further shows it was data after all: the inference is taken back (uninferPeerFin).
   */
  private peerFinEvidence(d: 0 | 1, t: number): string | null {
    const S = this.ep[d];
    const R = this.ep[d ^ 1] as Endpoint;
    const sf = S.fin;
    if (R.packets !== 0 || R.fin !== null || sf === null || sf.ackFrame !== 0 || this.acceptedRst !== null) return null;
    if (this.inferences.length > 0 || this.ep[0].isnKnown !== 1 || this.clientAckT === 0) return null;
    const rtt = this.clientAckT - this.ep[0].synT;
    if (!(rtt > 0) || t - sf.t < rtt) return null;
    const who = d === 0 ? 'client' : 'server';
    const peer = d === 0 ? 'server' : 'client';
    const ms = (x: number) => `${(x * 1000).toFixed(3)} ms`;
    return `no packet from the ${peer} was captured; after its FIN (frame ${sf.frame}) the ${who}'s ACK advanced by exactly one (to ${add32(S.ackMax, 1)}) with no data: the sequence number acknowledged is the ${peer}'s FIN. The ACK came ${ms(t - sf.t)} after the ${who}'s FIN, more than a round trip (${ms(rtt)}, SYN frame ${this.ep[0].synFrame} to the client's first ACK), so the ${peer} sent its FIN after receiving the ${who}'s and acknowledged it: the ${who} closed first`;
  }

  /** Records the peer's uncaptured FIN that S's ACK in `frame` acknowledges, and the states it implies. */
  private inferPeerFin(d: 0 | 1, frame: number, t: number, why: string): string {
    const S = this.ep[d];
    const R = this.ep[d ^ 1] as Endpoint;
    const sf = S.fin as FinRecord;
    const r = d === 0 ? 1 : 0;
    this.inferences = added(this.inferences, { frame, what: 'fin-not-captured', side: r, why, before: [this.ep[0].state, this.ep[1].state] });
    const finAck = add32(sf.finSeq, 1);
    R.fin = FinRecord.make(S.ackMax, 0, t, true, finAck, true, 0, frame);
    // The inferred FIN carried the ACK of S's FIN: R was in CLOSE-WAIT and moves to LAST-ACK; S takes both.
    sf.ackFrame = frame; sf.ackT = t; sf.ackedBeforeRetx = sf.retx === 0;
    this.move(r, sendFin(true, false));
    this.finAcked(d);
    this.move(d, recvFin(true));
    return `ACK of the ${r === 0 ? 'client' : 'server'}'s FIN (not captured: inferred, ack = previous ack + 1, no data)`;
  }

  /** S acknowledged beyond the inferred FIN: it was data, not a FIN. States before it are restored. */
  private uninferPeerFin(inf: Inference, d: 0 | 1, frame: number, t: number, ack: number): void {
    const S = this.ep[d];
    const R = this.ep[d ^ 1] as Endpoint;
    R.fin?.free();
    R.fin = null;
    if (S.fin !== null && S.fin.ackFrame === inf.frame) { S.fin.ackFrame = 0; S.fin.ackT = 0; }
    this.restore(0, inf.before[0]);
    this.restore(1, inf.before[1]);
    this.closedT = 0;
    this.inferences.splice(this.inferences.indexOf(inf), 1);
    this.revise(inf.frame, frame, t, 'fin-not-sent',
      `the ${d === 0 ? 'client' : 'server'} acknowledged more (frame ${frame}, ack ${ack}): the byte acknowledged in frame ${inf.frame} was data, not the ${d === 0 ? 'server' : 'client'}'s FIN`);
  }

  /** The peer acknowledged X's FIN: FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT, LAST-ACK → CLOSED (RFC 9293 §3.10.7.4). */
  private finAcked(x: 0 | 1): void {
    const X = this.ep[x];
    const other = this.ep[x ^ 1] as Endpoint;
    this.move(x, EV.recvAckOfFin);
    if (other.fin !== null && other.fin.ackFrame !== 0 && X.fin !== null && X.fin.ackFrame !== 0 && this.closedT === 0) {
      this.closedT = Math.max(other.fin.reAckT || other.fin.ackT, X.fin.reAckT || X.fin.ackT);
    }
  }

  private trackSynRetry(frame: number): void {
    const r = this.reuse;
    if (r !== null) { r.retries++; if (r.retryFrames.length < 8) r.retryFrames.push(frame); }
  }

  private trackSynAck(frame: number, t: number, seq: number): void {
    const r = this.reuse;
    if (r !== null && r.synAckFrame === 0) { r.synAckFrame = frame; r.synAckT = t; r.synAckSeq = seq; }
  }

  /** RST from S to R: judge acceptability (docs/rules.md §6.3, RFC 9293 §3.10.7, RFC 5961 §3.2). */
  private onRst(p: TcpPacket, d: 0 | 1, S: Endpoint, R: Endpoint, frame: number, t: number, authMismatch: boolean): void {
    const seq = p.seq;
    const ackBit = (p.flags & ACK) !== 0;
    if (ackBit) S.sentRstAck = true;
    const rec: RstRecord = {
      frame, t, seq, ack: p.ack, hasAck: ackBit, len: p.payloadLen, ttl: p.ttl, verdict: 'ignored',
      receiverBefore: R.state, senderBefore: S.state,
      answersPeerAck: R.lastAckBit && R.lastFrame !== 0 && seq === R.lastAckField,
      peerLastFrame: R.lastFrame, peerLastLen: R.lastLen, peerLastFlags: R.lastFlags, peerLastNewData: R.lastNewData,
      senderHadFin: S.fin !== null, peerHadFin: R.fin !== null, senderSndMax: S.sndMax, auth: p.auth, reason: '',
      weak: false,
      peerDataAfterFin: S.fin !== null ? R.dataAfterPeerFinFrames.slice() : [],
      peerDataAfterFinBytes: S.fin !== null ? R.dataAfterPeerFinNew : 0,
      answersPeerDataAfterFin: S.fin !== null && R.dataAfterPeerFinFrames.length > 0 && seq === R.dataAfterPeerFinAck,
      peerDataUnacked: R.hasDataEnd && (!S.hasAck || gt(R.dataEnd, S.ackMax)),
    };
    let note: string;
    if (authMismatch) {
      // Dropped before tcp_validate_incoming ever sees it (Linux tcp_inbound_md5_hash: TCPMD5UNEXPECTED /
      // TCPMD5NOTFOUND; RFC 2385 §2.0, RFC 5925 §7.7): whatever its sequence number, it cannot reset anything.
      const kind = p.auth === 29 || S.authMode === 29 || R.authMode === 29 ? 'TCP-AO' : 'TCP-MD5';
      rec.verdict = 'ignored';
      rec.reason = p.auth !== 0
        ? `it carries a ${kind} option while the connection's other segments carry none: a receiver without a key drops it (Linux tcp_inbound_md5_hash, TCPMD5UNEXPECTED)`
        : `it lacks the ${kind} option every other segment of the connection carries: the receiver drops it (RFC 2385 §2.0; Linux TCPMD5NOTFOUND)`;
      note = `RST dropped by the receiver (${p.auth !== 0 ? 'unexpected' : 'missing'} ${kind} option)`;
    } else if (R.state === 'SYN_SENT') {
      // SYN-SENT: acceptable iff ACK acknowledges the SYN (RFC 9293 §3.10.7.3).
      if (ackBit && R.isnKnown === 1 && p.ack === add32(R.isn, 1)) {
        rec.verdict = 'accepted';
        if (!this.sawSynAck) this.refused = true;
        if (this.reuse !== null && this.reuse.answer === null) {
          this.reuse.answer = 'rst'; this.reuse.answerFrame = frame; this.reuse.answerAck = p.ack;
        }
        note = this.refused ? 'RST (connection refused)' : 'RST accepted';
      } else {
        rec.verdict = 'ignored';
        rec.reason = 'its ACK does not acknowledge the SYN (RFC 9293 §3.10.7.3)';
        note = 'RST not acknowledging the SYN (ignored)';
      }
    } else if (d === 0 && S.state === 'SYN_SENT' && this.rejectAckFrame !== 0 && seq === this.rejectAckAck) {
      // The client answers the old connection's ACK with RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.3); it clears the
      // server's TIME_WAIT (Linux tcp_rfc1337=0) and is not a teardown of this connection (docs/rules.md §6.4).
      rec.verdict = 'reuse-reject';
      if (this.reuse !== null) this.reuse.clientRstFrame = frame;
      note = 'RST to the old connection\'s ACK (clears the TIME_WAIT)';
    } else if (R.packets === 0 && (p.flags & SYN) === 0 && (S.hasAck || (ackBit && seq !== 0 && R.state !== 'LISTEN'))) {
      // (A lone RST,ACK with seq 0 is the CLOSED-state reply to a segment without ACK, RFC 9293 §3.10.7.1: no connection.)
      // The receiver was never captured (one-sided capture): its RCV.NXT cannot be bounded from both sides.
      rec.verdict = 'unverifiable';
      note = 'RST (receiver never seen in the capture)';
    } else if (synchronized(R.state) || R.state === 'SYN_RECEIVED') {
      const lo = R.hasAck ? R.ackMax : S.contigEnd;
      const hi = gt(S.sndMax, S.contigEnd) ? S.sndMax : S.contigEnd;
      const exact = between(seq, lo, hi);
      // Linux accepts rcv_nxt - 1 after a FIN in CLOSE-WAIT/LAST-ACK/CLOSING (tcp_reset_check); macOS sends that.
      const linuxFin = S.fin !== null && S.fin.ackFrame !== 0 && seq === S.fin.finSeq
        && (R.state === 'CLOSE_WAIT' || R.state === 'LAST_ACK' || R.state === 'CLOSING');
      const scale = R.wscale >= 0 && S.wscale >= 0 ? R.wscale : 0;
      const wnd = R.win * 2 ** scale;
      if (!R.hasAck && R.state === 'MIDSTREAM') {
        rec.verdict = 'unverifiable';
        note = 'RST (receiver window unknown)';
      } else if (exact || linuxFin) {
        rec.verdict = 'accepted';
        rec.weak = !exact;
        note = exact ? 'RST accepted' : 'RST at RCV.NXT − 1 after the FIN (accepted by Linux)';
      } else if (wnd > 0 && between(seq, lo, add32(lo, wnd - 1))) {
        rec.verdict = 'challenge-expected';
        rec.reason = `seq ${seq} is in the receiver's window but not at its RCV.NXT (${lo}…${hi}): RFC 5961 §3.2 challenge ACK`;
        note = 'RST in window but not at RCV.NXT (challenge ACK expected)';
      } else {
        rec.verdict = 'ignored';
        rec.reason = `seq ${seq} is outside the receiver's window (RCV.NXT ${lo}…${hi}; RFC 9293 §3.10.7.4 first step)`;
        note = 'RST out of window (ignored)';
      }
    } else {
      rec.verdict = 'ignored';
      note = R.state === 'CLOSED' || R.state === 'RESET' ? 'RST after close' : 'RST';
    }

    if (S.rsts.length < 16) S.rsts = added(S.rsts, rec);
    if (rec.verdict === 'accepted' && this.refused && this.acceptedRst !== null && R.state === 'SYN_SENT') {
      // Another refusal of the same (retried) attempt.
      this.refusals++;
      this.move((d ^ 1) as 0 | 1, EV.recvRst);
    } else if ((rec.verdict === 'accepted' || rec.verdict === 'unverifiable') && this.acceptedRst === null) {
      if (this.refused) this.refusals = 1;
      this.acceptedRst = rec;
      this.rstBy = d;
      this.move(d, EV.sendRst);
      // A SYN_SENT receiver was never synchronized: it is refused (CLOSED, ECONNREFUSED), not reset.
      this.move((d ^ 1) as 0 | 1, EV.recvRst);
      if (this.closedT === 0) this.closedT = t;
    }
    this.log.record(frame, t, d, p.flags, seq, p.ack, p.payloadLen, p.window, this.ep[0].state, this.ep[1].state,
      note, true);
  }

  /** The one funnel for state changes driven by a segment: the transition table decides, this applies. */
  private move(d: 0 | 1, ev: EndpointEvent): Transition {
    const e = this.ep[d];
    const t = transition(e.state, ev);
    if (t.state !== e.state) e.state = t.state;
    return t;
  }

  /** The funnel for taking back an inference that later packets contradicted (state before it is restored). */
  private restore(d: 0 | 1, state: EndpointState): void {
    this.ep[d].state = state;
  }

  /** Records that an earlier inference was taken back (bounded; shown in the report as `revisions`). */
  private revise(frame: number, by: number, t: number, what: Revision['what'], why: string): void {
    if (this.revisions.length < 16) this.revisions = added(this.revisions, { frame, revisedBy: by, t, what, why });
  }

  /** Behaviour overrides arithmetic: the receiver kept talking, so the RST did not reset it (docs/rules.md §6.3). */
  private unacceptRst(r: RstRecord, frame: number, t: number, verdict: 'ignored' | 'no-effect', why: string): void {
    r.verdict = verdict;
    r.reason = why;
    this.revise(r.frame, frame, t, 'rst-not-effective', why);
    this.restore((this.rstBy ^ 1) as 0 | 1, r.receiverBefore);
    this.restore(this.rstBy, r.senderBefore);
    this.acceptedRst = null;
    this.closedT = 0;
  }
}
