import { EMPTY_LIST } from './empty-list.js';
import { FreeList, lazyReset } from './free-list.js';
import { copyNumbers, FREED, RowPool } from './row-pool.js';
import type { EndpointState } from '../model/report.js';

// A FIN record's row (see FinRecord's #rows); its accessors name the places, as literal offsets: a setter that small
// is inlined wherever it is called.
export const FIN_ROW_WIDTH = 8;
/** The rows of every FIN record of this thread. */
const FIN_ROWS = new RowPool(FIN_ROW_WIDTH);
/** FIN records dropped with their endpoint, for the next ones (FinRecord.make()): their fields set to a new one's. */
const FREE_FINS = new FreeList<FinRecord>(8192, lazyReset(() => { const f = new FinRecord(0, 0, 0, false, 0, false, 0, 0); f.free(); return f; }));

/**
 * The first FIN an endpoint sent, and what became of it (docs/rules.md §1 `fin`, §0.2). Its sequence numbers and
 * times live in a pooled row (as an endpoint's), given back by free() when its connection is dropped.
 */
export class FinRecord {
  frame = 0;
  hasAck = false;
  /** This FIN's ACK field already covered the peer's FIN: the sender was the passive closer (docs/rules.md §4). */
  acksPeerFin = false;
  /** Retransmissions (same finSeq). Frames/times of the first MAX_RETX_FRAMES kept for evidence. */
  retx = 0;
  /** The same FIN sent again as the ACK of the peer's crossing FIN (ack newly covers it): not a retransmission. */
  reAcks = 0;
  retxFrames: number[] = EMPTY_LIST;
  retxTimes: number[] = EMPTY_LIST;
  /** First peer segment with ack >= finSeq + 1 (the ACK of this FIN), 0 when none. */
  ackFrame = 0;
  /** The ACK was captured before the first retransmission: lost after the capture point (docs/rules.md §6.5). */
  ackedBeforeRetx = false;
  /** First peer ACK covering the FIN after the last retransmission, 0 when none. */
  reAckFrame = 0;
  /** Not captured: inferred from the peer's ACK in this frame (Connection.inferPeerFin); 0 for a captured FIN. */
  inferredFrom = 0;
  #rows: Float64Array = FIN_ROWS.take();
  #at = FIN_ROWS.lastAt;

  /** A FIN with sequence number `finSeq` sent in `frame` at `t`; lastAck and lastT start as its ack and t. */
  constructor(finSeq: number, frame: number, t: number, hasAck: boolean, ack: number, acksPeerFin: boolean,
    idleBefore: number, inferredFrom: number) {
    this.start(finSeq, frame, t, hasAck, ack, acksPeerFin, idleBefore, inferredFrom);
  }

  /** new FinRecord(…), with a record dropped before made new again when there is one (src/tcp/free-list.ts). */
  static make(finSeq: number, frame: number, t: number, hasAck: boolean, ack: number, acksPeerFin: boolean,
    idleBefore: number, inferredFrom: number): FinRecord {
    const f = FREE_FINS.take();
    if (f === undefined) return new FinRecord(finSeq, frame, t, hasAck, ack, acksPeerFin, idleBefore, inferredFrom);
    f.#rows = FIN_ROWS.take();
    f.#at = FIN_ROWS.lastAt;
    f.start(finSeq, frame, t, hasAck, ack, acksPeerFin, idleBefore, inferredFrom);
    return f;
  }

  private start(finSeq: number, frame: number, t: number, hasAck: boolean, ack: number, acksPeerFin: boolean,
    idleBefore: number, inferredFrom: number): void {
    this.frame = frame;
    this.hasAck = hasAck;
    this.acksPeerFin = acksPeerFin;
    this.inferredFrom = inferredFrom;
    this.finSeq = finSeq; this.t = t; this.ack = ack; this.lastAck = ack; this.lastT = t; this.idleBefore = idleBefore;
  }

  /** Gives its row back to the pool, and itself for reuse: the record is dropped and must not be used again. Once only. */
  free(): void {
    if (this.#at < 0) return;
    FIN_ROWS.free(this.#rows, this.#at);
    this.#at = FREED;
    FREE_FINS.give(this);
  }

  /** Sets one of its row's numbers (thawing). */
  setRow(k: number, v: number): void { this.#rows[this.#at + k] = v; }
  /** Its row's numbers into out[0 .. FIN_ROW_WIDTH) (freezing: one call, not one per number). */
  copyRow(out: Float64Array): void { copyNumbers(this.#rows, this.#at, FIN_ROW_WIDTH, out); }

  /** The sequence number the FIN occupies: seq + payload (+1 if SYN). Retransmissions share it (docs/rules.md §0.2). */
  get finSeq(): number { return this.#rows[this.#at + 0] as number; }
  set finSeq(v: number) { this.#rows[this.#at + 0] = v; }
  get t(): number { return this.#rows[this.#at + 1] as number; }
  set t(v: number) { this.#rows[this.#at + 1] = v; }
  get ack(): number { return this.#rows[this.#at + 2] as number; }
  set ack(v: number) { this.#rows[this.#at + 2] = v; }
  /** ACK field and time of the latest transmission of this FIN. */
  get lastAck(): number { return this.#rows[this.#at + 3] as number; }
  set lastAck(v: number) { this.#rows[this.#at + 3] = v; }
  get lastT(): number { return this.#rows[this.#at + 4] as number; }
  set lastT(v: number) { this.#rows[this.#at + 4] = v; }
  get ackT(): number { return this.#rows[this.#at + 5] as number; }
  set ackT(v: number) { this.#rows[this.#at + 5] = v; }
  get reAckT(): number { return this.#rows[this.#at + 6] as number; }
  set reAckT(v: number) { this.#rows[this.#at + 6] = v; }
  /** How long the sender had been idle (no non-keepalive segment) before this FIN. */
  get idleBefore(): number { return this.#rows[this.#at + 7] as number; }
  set idleBefore(v: number) { this.#rows[this.#at + 7] = v; }
}

export type RstVerdict =
  | 'accepted'            // seq == an admissible RCV.NXT (or Linux rcv_nxt-1 after FIN): connection reset
  | 'challenge-expected'  // in window but not exact: RFC 5961 §3.2 challenge ACK, not a reset
  | 'ignored'             // out of window, dropped by a check before it (TCP-MD5), or the receiver kept talking
  | 'no-effect'           // at RCV.NXT, but the receiver later acknowledged data sent after it: never took effect
  | 'unverifiable'        // receiver's window unknown (never saw it ACK); accepted unless behaviour says otherwise
  | 'reuse-reject';       // client RST answering a TIME_WAIT ACK during a reused tuple's handshake (docs/rules.md §6.4)

export interface RstRecord {
  frame: number;
  t: number;
  seq: number;
  ack: number;
  hasAck: boolean;
  len: number;
  ttl: number;
  verdict: RstVerdict;
  /** Receiver state just before the RST. */
  receiverBefore: EndpointState;
  senderBefore: EndpointState;
  /** The RST's seq equals the ack field of the receiver's last segment (RFC 9293 reset generation from SEG.ACK). */
  answersPeerAck: boolean;
  /** The receiver's last segment before the RST. */
  peerLastFrame: number;
  peerLastLen: number;
  peerLastFlags: number;
  /** That segment carried data beyond what the RST sender had acknowledged. */
  peerLastNewData: boolean;
  senderHadFin: boolean;
  peerHadFin: boolean;
  /** Sender's sndMax when it sent the RST: seq == sndMax marks a live-socket abort (tcp_send_active_reset). */
  senderSndMax: number;
  /** Accepted only by one stack's extra rule (Linux RCV.NXT − 1 after a FIN): later behaviour may overrule it. */
  weak: boolean;
  /** Frames of data the receiver sent after the RST sender's FIN (before the RST). */
  peerDataAfterFin: number[];
  peerDataAfterFinBytes: number;
  /** The RST's seq equals the ack field of the receiver's first data segment sent after the sender's FIN. */
  answersPeerDataAfterFin: boolean;
  /** The receiver had sent data the RST sender had not acknowledged. */
  peerDataUnacked: boolean;
  /** Authentication option on the RST (19 TCP-MD5, 29 TCP-AO, 0 none). */
  auth: number;
  /** Why it did not take effect (empty while accepted). */
  reason: string;
}

// An endpoint's row (see Endpoint's #rows); its accessors name the places, as literal offsets (see FIN_ROW_WIDTH).
export const ROW_WIDTH = 18;
/** The rows of every endpoint of this thread. */
export const ROWS = new RowPool(ROW_WIDTH);
/** Endpoints dropped with their connection, for the next ones (Endpoint.take()): their fields set to a new one's. */
const FREE = new FreeList<Endpoint>(8192, lazyReset(() => { const e = new Endpoint(); e.free(); return e; }));

/** One side of a connection, as an observer can reconstruct it (docs/rules.md §1). */
export class Endpoint {
  state: EndpointState = 'UNKNOWN';
  /** 0 unknown, 1 from its SYN, 2 inferred (first seq - 1, or peer ack - 1) like Wireshark's base_seq. */
  isnKnown: 0 | 1 | 2 = 0;
  synFrame = 0;
  /** Its SYN (or SYN-ACK) sent again with the same ISN: retries of one attempt. */
  synRetx = 0;
  synHasTs = false;
  seen = false;
  hasAck = false;
  win = 0;
  /** Window scale from its SYN, -1 unknown. */
  wscale = -1;
  packets = 0;
  dataBytes = 0;
  retransmits = 0;
  keepalives = 0;
  /** Bytes sent after it had acknowledged the peer's FIN (legitimate half-close traffic, docs/rules.md §6.1). */
  dataAfterPeerFin = 0;
  /** Segments with new data sent after the peer's FIN was captured, acknowledged or not (first 8 frames). */
  dataAfterPeerFinFrames: number[] = EMPTY_LIST;
  dataAfterPeerFinNew = 0;
  /** ACK field of the first of those segments (-1 without the ACK bit). */
  dataAfterPeerFinAck = -1;
  hasDataEnd = false;
  usedTs = false;
  ttl = -1;
  ttlMismatches = 0;
  // The last non-RST segment it sent (for RST classification, docs/rules.md §6.2).
  lastFrame = 0;
  lastAckBit = false;
  lastLen = 0;
  lastFlags = 0;
  lastNewData = false;
  // Duplicate detection (docs/rules.md §10.2): the previous segment's signature.
  dupIpId = -1;
  dupFlags = 0;
  dupLen = -1;
  /** Authentication option kind its first segment carried (0 none, 19 TCP-MD5, 29 TCP-AO); -1 before any. */
  authMode = -1;
  /** It sent an RST with the ACK bit: its ACK field acknowledges something the peer sent. */
  sentRstAck = false;
  /** Segments without SYN, RST or ACK (scans): dropped by any synchronized receiver. */
  noAckDropped = 0;
  /** Segments provably beyond the receiver's window (dropped; RFC 9293 §3.10.7.4). */
  outOfWindow = 0;
  /** Segments the receiver drops for a missing or unexpected authentication option. */
  authDropped = 0;
  /** Segments (a FIN, data) sent from SYN-SENT with ack 0, before any SYN-ACK: no connection carries them. */
  unsyncDropped = 0;
  fin: FinRecord | null = null;
  rsts: RstRecord[] = EMPTY_LIST;

  /**
   * Its numbers that are not small integers (sequence numbers, times) live in a row of the shared pool (ROWS), read
   * and written through the accessors below: no heap number per field. Private: the fields above are the record,
   * the row is where the rest of it is kept (src/tcp/frozen.ts writes the row's numbers after the fields).
   */
  #rows: Float64Array = ROWS.take();
  #at = ROWS.lastAt;

  /** A new endpoint: one dropped before, made new again (src/tcp/free-list.ts), or else a new one. */
  static take(): Endpoint {
    const e = FREE.take();
    if (e === undefined) return new Endpoint();
    e.#rows = ROWS.take();
    e.#at = ROWS.lastAt;
    return e;
  }

  /**
   * Gives its row (and its FIN record's) back to the pools, and itself for reuse: the endpoint is dropped and must not
   * be used again. Once only.
   */
  free(): void {
    if (this.#at < 0) return;
    ROWS.free(this.#rows, this.#at);
    this.#at = FREED;
    this.fin?.free();
    FREE.give(this);
  }

  /** Its row's numbers into out[0 .. ROW_WIDTH) (freezing: one call, not one per number). */
  copyRow(out: Float64Array): void {
    copyNumbers(this.#rows, this.#at, ROW_WIDTH, out);
  }

  /** Sets one of its row's numbers (thawing). */
  setRow(k: number, v: number): void {
    this.#rows[this.#at + k] = v;
  }

  get isn(): number { return this.#rows[this.#at + 0] as number; }
  set isn(v: number) { this.#rows[this.#at + 0] = v; }
  get synT(): number { return this.#rows[this.#at + 1] as number; }
  set synT(v: number) { this.#rows[this.#at + 1] = v; }
  get synTsVal(): number { return this.#rows[this.#at + 2] as number; }
  set synTsVal(v: number) { this.#rows[this.#at + 2] = v; }
  /** Highest end (seq + len + SYN + FIN) sent (Wireshark nextseq). */
  get sndMax(): number { return this.#rows[this.#at + 3] as number; }
  set sndMax(v: number) { this.#rows[this.#at + 3] = v; }
  /** Highest contiguous end (Wireshark maxseqtobeacked). */
  get contigEnd(): number { return this.#rows[this.#at + 4] as number; }
  set contigEnd(v: number) { this.#rows[this.#at + 4] = v; }
  get ackMax(): number { return this.#rows[this.#at + 5] as number; }
  set ackMax(v: number) { this.#rows[this.#at + 5] = v; }
  get firstT(): number { return this.#rows[this.#at + 6] as number; }
  set firstT(v: number) { this.#rows[this.#at + 6] = v; }
  get lastT(): number { return this.#rows[this.#at + 7] as number; }
  set lastT(v: number) { this.#rows[this.#at + 7] = v; }
  get lastNonKeepaliveT(): number { return this.#rows[this.#at + 8] as number; }
  set lastNonKeepaliveT(v: number) { this.#rows[this.#at + 8] = v; }
  get lastDataT(): number { return this.#rows[this.#at + 9] as number; }
  set lastDataT(v: number) { this.#rows[this.#at + 9] = v; }
  /** End of the highest data byte sent (no SYN/FIN), when it sent any. */
  get dataEnd(): number { return this.#rows[this.#at + 10] as number; }
  set dataEnd(v: number) { this.#rows[this.#at + 10] = v; }
  get lastTsVal(): number { return this.#rows[this.#at + 11] as number; }
  set lastTsVal(v: number) { this.#rows[this.#at + 11] = v; }
  get lastSeq(): number { return this.#rows[this.#at + 12] as number; }
  set lastSeq(v: number) { this.#rows[this.#at + 12] = v; }
  get lastAckField(): number { return this.#rows[this.#at + 13] as number; }
  set lastAckField(v: number) { this.#rows[this.#at + 13] = v; }
  get dupSeq(): number { return this.#rows[this.#at + 14] as number; }
  set dupSeq(v: number) { this.#rows[this.#at + 14] = v; }
  get dupAck(): number { return this.#rows[this.#at + 15] as number; }
  set dupAck(v: number) { this.#rows[this.#at + 15] = v; }
  get dupTsVal(): number { return this.#rows[this.#at + 16] as number; }
  set dupTsVal(v: number) { this.#rows[this.#at + 16] = v; }
  get dupT(): number { return this.#rows[this.#at + 17] as number; }
  set dupT(v: number) { this.#rows[this.#at + 17] = v; }
}

/** States in which an endpoint is synchronized (RFC 9293 §3.3.2). */
export function synchronized(s: EndpointState): boolean {
  return s === 'ESTABLISHED' || s === 'MIDSTREAM' || s === 'FIN_WAIT_1' || s === 'FIN_WAIT_2' || s === 'CLOSE_WAIT'
    || s === 'CLOSING' || s === 'LAST_ACK' || s === 'TIME_WAIT';
}

/** X's FIN acknowledges Y's FIN: X had received Y's FIN when it sent its own, so X is the passive closer (docs/rules.md §4). */
export function finCovers(x: FinRecord, y: FinRecord | null): boolean {
  return y !== null && x.hasAck && ((x.ack - ((y.finSeq + 1) >>> 0)) | 0) >= 0;
}
