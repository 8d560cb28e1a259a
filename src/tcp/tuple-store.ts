/**
 * The numbers of the flow table's tuples (src/tcp/flow-table.ts TupleEntry) in typed rows, one row per tuple (its
 * slot): 20 32-bit words and 8 doubles, 144 bytes outside the collected heap. As object fields they were ~400 bytes
 * of heap per tuple (addresses and hashes past the small-integer range and every time are separate heap numbers),
 * and a busy capture rests tens of thousands of tuples at once, each scanned and copied by the collector. The links
 * of the table's hash chains and recency lists are slots in the rows too, so a tuple whose connection is parked (asleep
 * in the cold store, or resting: see FlowTable) needs no object at all; so is its deadline (the table's deadline heap
 * holds slots).
 *
 * A slot is handed out when a tuple is made and given back when it leaves the table; a freed slot is handed out
 * again, so the rows follow the tuples held at once (the store grows by a quarter when full, and keeps its size).
 */

/** Words per row: addresses, ports, flow key, path signatures, hash, flags, incarnations, links, last judged connection. */
export const WORDS = 20;
export const W_A = 0;
export const W_B = 4;
/** aPort | bPort << 16. */
export const W_PORTS = 8;
export const W_KEY = 9;
export const W_SIG_A = 10;
export const W_SIG_B = 11;
export const W_HASH = 12;
/** F_* bits. */
export const W_FLAGS = 13;
export const W_INCARNATIONS = 14;
/** The next tuple's slot in this one's hash chain (END: none). */
export const W_NEXT = 15;
/** Recency links (src/tcp/lru.ts): the previous and next slot in its list (END: none), and the list's number (0: none). */
export const W_LPREV = 16;
export const W_LNEXT = 17;
export const W_LIST = 18;
/** The ordinal of the last connection judged on the tuple (0: none). */
export const W_JUDGED = 19;
/** The end of a chain or list. */
export const END = -1;

export const F_HAS_SIG_A = 1;
export const F_HAS_SIG_B = 2;
export const F_TOMB_CLOSED = 4;
export const F_V6 = 8;

/** Doubles per row: record references, times, counts. */
export const DOUBLES = 7;
export const D_RETIRED = 0;
export const D_RETIRED_T = 1;
export const D_TOMB = 2;
export const D_TOMB_T = 3;
export const D_JUDGED_SEQ = 4;
/** A parked tuple's asleep connection: its reference in the cold store (NONE while the tuple has its object). */
export const D_PARKED = 5;
/** When the table's expiry next looks at the tuple (FlowTable.dueOf; Infinity: nothing pending). */
export const D_WAKE = 6;

/** No record (D_RETIRED, D_TOMB: TupleEntry.retired, TupleEntry.tomb). */
export const NONE = -1;

/**
 * The slot of a tuple that left the table: far below 0 (still a small integer), so every read through it is
 * undefined and every write is dropped: the row it had may belong to another tuple already.
 */
export const GONE = -0x4000000;

export class TupleStore {
  /** The rows' words: u32 for addresses and ports, i32 (same bytes) for signed hashes and keys. */
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  private free: number[] = [];
  private top = 0;
  /** Slots handed out and not given back. */
  live = 0;

  constructor(private capacity = 1024) {
    this.u32 = new Uint32Array(capacity * WORDS);
    this.i32 = new Int32Array(this.u32.buffer);
    this.f64 = new Float64Array(capacity * DOUBLES);
  }

  /** Bytes the rows hold. */
  get bytes(): number {
    return this.u32.byteLength + this.f64.byteLength;
  }

  /** A row for a new tuple: every word 0; no record (NONE). */
  alloc(): number {
    const s = this.free.length > 0 ? this.free.pop() as number : this.top < this.capacity ? this.top++ : this.grow();
    this.live++;
    const w = s * WORDS;
    this.u32.fill(0, w, w + WORDS);
    const i = this.i32;
    i[w + W_NEXT] = END; i[w + W_LPREV] = END; i[w + W_LNEXT] = END;
    const d = s * DOUBLES;
    const f = this.f64;
    f[d + D_RETIRED] = NONE; f[d + D_RETIRED_T] = 0; f[d + D_TOMB] = NONE; f[d + D_TOMB_T] = 0;
    f[d + D_JUDGED_SEQ] = 0; f[d + D_PARKED] = NONE; f[d + D_WAKE] = Infinity;
    return s;
  }

  release(s: number): void {
    this.free.push(s);
    this.live--;
  }

  /** A quarter more rows (the copy is amortized O(1) per tuple; at most a fifth of the rows stand empty). */
  private grow(): number {
    const cap = this.capacity + Math.max(1024, this.capacity >>> 2);
    const u = new Uint32Array(cap * WORDS);
    u.set(this.u32);
    const f = new Float64Array(cap * DOUBLES);
    f.set(this.f64);
    this.u32 = u;
    this.i32 = new Int32Array(u.buffer);
    this.f64 = f;
    this.capacity = cap;
    return this.top++;
  }
}
