import type { EndpointState } from '../model/report.js';
import { FreeList, lazyReset } from './free-list.js';
import { copyNumbers, RowPool } from './row-pool.js';

/** One logged packet of a connection, materialized only when a ladder or evidence is built. */
export interface LogRec {
  frame: number;
  t: number;
  dir: 0 | 1;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  win: number;
  client: EndpointState;
  server: EndpointState;
  note: string | null;
}

const HEAD = 12;
const TAIL = 12;
const MARKS = 256;
/** Fields per row: frame, t, seq, ack, len, win, packed (dir | flags << 1 | client << 9 | server << 14), note. */
const W = 8;

const STATES: EndpointState[] = [
  'UNKNOWN', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'TIME_WAIT',
  'CLOSE_WAIT', 'LAST_ACK', 'CLOSED', 'RESET', 'MIDSTREAM',
];
const STATE_INDEX = Object.fromEntries(STATES.map((s, i) => [s, i])) as Record<EndpointState, number>;

function newRows(n: number): number[] {
  const a = new Array<number>(n * W);
  for (let i = 0; i < a.length; i++) a[i] = 0.5; // double elements from the start (no Smi → double transition)
  return a;
}

function grow(a: number[], rows: number): number[] {
  const b = newRows(rows);
  for (let i = 0; i < a.length; i++) b[i] = a[i] as number;
  return b;
}

/** Notes are a handful of constant strings: stored as indexes (0 = none). */
const NOTES: (string | null)[] = [null];
const NOTE_INDEX = new Map<string, number>();
function noteIndex(n: string | null): number {
  if (n === null) return 0;
  let i = NOTE_INDEX.get(n);
  if (i === undefined) { i = NOTES.length; NOTES.push(n); NOTE_INDEX.set(n, i); }
  return i;
}

/** The record in the row starting at a[o]. */
export function unpackRec(a: ArrayLike<number>, o: number): LogRec {
  const p = a[o + 6] as number;
  return {
    frame: a[o] as number, t: a[o + 1] as number, seq: a[o + 2] as number, ack: a[o + 3] as number,
    len: a[o + 4] as number, win: a[o + 5] as number, dir: (p & 1) as 0 | 1, flags: (p >> 1) & 0xff,
    client: STATES[(p >> 9) & 31] ?? 'UNKNOWN', server: STATES[(p >> 14) & 31] ?? 'UNKNOWN', note: NOTES[a[o + 7] as number] ?? null,
  };
}

export const ROW_WIDTH = W;

/** Where PacketLog.locate() found a row: its array and the row's offset there. */
let foundRows: ArrayLike<number> = [];
let foundAt = 0;

const byFrame = (x: LogRec, y: LogRec): number => x.frame - y.frame;

/** Rows a log's head starts with (most connections are short), and the pools of small and full heads. */
const SMALL = 4;
const SMALL_HEADS = new RowPool(SMALL * W);
const HEADS = new RowPool(HEAD * W);
/** Logs dropped with their connection, for the next ones (PacketLog.take()): their fields set to a new one's. */
const FREE = new FreeList<PacketLog>(4096, lazyReset(() => new PacketLog()));
/** Their tails, for the next logs that need one, refilled as newRows() makes them (the same bytes when frozen). */
const FREE_TAILS = new FreeList<number[]>(4096, (a) => { a.fill(0.5); });

/**
 * Keeps the packets that tell a connection's story with bounded memory and no object per packet: the first HEAD
 * packets, every marked packet (SYN/FIN/RST and packets with a note, up to MARKS), and a ring of the last TAIL.
 * The head's rows live in a pooled row of a shared Float64Array (src/tcp/row-pool.ts: SMALL rows, moved to a
 * HEAD-row one when it fills), given back by free(); marks and tail (long connections only) in plain number arrays.
 */
export class PacketLog {
  private headN = 0;
  private marks: number[] | null = null;
  private marksN = 0;
  private tail: number[] | null = null;
  private tailN = 0;
  private tailNext = 0;
  count = 0;
  /** The head's pooled row (null before the first packet) and its offset (private: see src/tcp/frozen.ts). */
  #hr: Float64Array | null = null;
  #ha = 0;

  record(frame: number, t: number, dir: 0 | 1, flags: number, seq: number, ack: number, len: number, win: number,
    client: EndpointState, server: EndpointState, note: string | null, mark: boolean): void {
    this.count++;
    let a: ArrayLike<number> & { [i: number]: number };
    let o: number;
    if (this.headN < HEAD) {
      if (this.#hr === null) this.takeHead(SMALL);
      else if (this.headN === SMALL) this.takeHead(HEAD);
      a = this.#hr as Float64Array;
      o = this.#ha + this.headN++ * W;
    } else if (mark && this.marksN < MARKS) {
      if (this.marks === null || this.marks.length < (this.marksN + 1) * W) {
        this.marks = this.marks === null ? newRows(8) : grow(this.marks, Math.min(MARKS, this.marksN * 2));
      }
      a = this.marks;
      o = this.marksN++ * W;
    } else {
      a = this.tail ??= FREE_TAILS.take() ?? newRows(TAIL);
      o = this.tailNext * W;
      this.tailNext = (this.tailNext + 1) % TAIL;
      if (this.tailN < TAIL) this.tailN++;
    }
    a[o] = frame; a[o + 1] = t; a[o + 2] = seq; a[o + 3] = ack; a[o + 4] = len; a[o + 5] = win;
    a[o + 6] = dir | (flags << 1) | (STATE_INDEX[client] << 9) | (STATE_INDEX[server] << 14);
    a[o + 7] = noteIndex(note);
  }

  /** A head row of `rows` rows (SMALL or HEAD), with the rows kept so far copied in; the old one is given back. */
  private takeHead(rows: number): void {
    const pool = rows === SMALL ? SMALL_HEADS : HEADS;
    const r = pool.take();
    const at = pool.lastAt;
    const old = this.#hr;
    if (old !== null) {
      for (let k = 0, from = this.#ha, n = this.headN * W; k < n; k++) r[at + k] = old[from + k] as number;
      SMALL_HEADS.free(old, this.#ha);
    }
    this.#hr = r;
    this.#ha = at;
  }

  /** A new log: one dropped before, made new again (src/tcp/free-list.ts), or else a new one. */
  static take(): PacketLog {
    return FREE.take() ?? new PacketLog();
  }

  /**
   * The connection is dropped: the head's row goes back to its pool, and the log for reuse. Once only (its
   * connection's free() is); the log must not be used again.
   */
  free(): void {
    if (this.#hr !== null) {
      (this.headN <= SMALL ? SMALL_HEADS : HEADS).free(this.#hr, this.#ha);
      this.#hr = null;
    }
    if (this.tail !== null) { FREE_TAILS.give(this.tail); this.tail = null; }
    FREE.give(this);
  }

  /** How many numbers the head holds (headN rows): for freezing. */
  get headLength(): number { return this.headN * W; }
  /** The head's numbers into out[0 .. headLength) (freezing: one call, not one per number). */
  copyHead(out: Float64Array): void {
    const r = this.#hr;
    if (r !== null) copyNumbers(r, this.#ha, this.headN * W, out);
  }

  /** Thawing: headN is set; the head's numbers, in order, from `next`. */
  restoreHead(next: () => number): void {
    if (this.headN === 0) return;
    this.takeHead(this.headN <= SMALL ? SMALL : HEAD);
    const r = this.#hr as Float64Array;
    for (let k = 0; k < this.headN * W; k++) r[this.#ha + k] = next();
  }

  private static rec(a: ArrayLike<number>, i: number, base = 0): LogRec {
    return unpackRec(a, base + i * W);
  }

  /** The kept packets in frame order, without repeats. */
  packets(): LogRec[] {
    const all: LogRec[] = [];
    for (let i = 0; i < this.headN; i++) all.push(PacketLog.rec(this.#hr as Float64Array, i, this.#ha));
    for (let i = 0; i < this.marksN; i++) all.push(PacketLog.rec(this.marks as number[], i));
    for (let i = 0; i < this.tailN; i++) all.push(PacketLog.rec(this.tail as number[], i));
    // Usually already in frame order without repeats (a short connection is all head): then as it is.
    let ordered = true;
    for (let i = 1; i < all.length && ordered; i++) ordered = (all[i - 1] as LogRec).frame < (all[i] as LogRec).frame;
    if (ordered) return all;
    all.sort(byFrame);
    const out: LogRec[] = [];
    for (const r of all) if (out.length === 0 || out[out.length - 1]!.frame !== r.frame) out.push(r);
    return out;
  }

  /**
   * The row of the packet with this frame number, if kept (the one find() would read), copied to out[o .. o + ROW_WIDTH):
   * whether it was there. The numbers find() unpacks, without the record.
   */
  copyRowOf(frame: number, out: number[], o: number): boolean {
    if (!this.locate(frame)) return false;
    for (let k = 0; k < W; k++) out[o + k] = foundRows[foundAt + k] as number;
    return true;
  }

  /** The packet with this frame number, if kept. */
  find(frame: number): LogRec | undefined {
    return this.locate(frame) ? unpackRec(foundRows, foundAt) : undefined;
  }

  /** Finds the row of the packet with this frame number (head, then marks, then tail): foundRows/foundAt; whether kept. */
  private locate(frame: number): boolean {
    const r = this.#hr;
    if (r !== null) for (let i = 0; i < this.headN; i++) if (r[this.#ha + i * W] === frame) return found(r, this.#ha + i * W);
    const m = this.marks;
    if (m !== null) for (let i = 0; i < this.marksN; i++) if (m[i * W] === frame) return found(m, i * W);
    const t = this.tail;
    if (t !== null) for (let i = 0; i < this.tailN; i++) if (t[i * W] === frame) return found(t, i * W);
    return false;
  }
}

function found(rows: ArrayLike<number>, at: number): true {
  foundRows = rows;
  foundAt = at;
  return true;
}
