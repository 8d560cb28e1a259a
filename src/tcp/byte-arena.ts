/**
 * Where frozen records are kept (src/tcp/frozen.ts freezeTo/thawFrom): put() returns a reference; a record is read at
 * chunk(ref) from start(ref) on (chunk() first, then start(): a store on disk reads the record in chunk()), and freed
 * once. `bytes`: the memory it holds; `records`: records not freed.
 */
export interface RecordArena {
  put(b: Uint8Array, n: number): number;
  chunk(ref: number): Uint8Array;
  start(ref: number): number;
  free(ref: number): void;
  readonly bytes: number;
  readonly records: number;
}

/**
 * Byte records outside the heap, for records that die in about the order they were made (a judged connection's frozen
 * copy, kept for its reopen window; a tombstone, kept for its life): appended to the current chunk, each behind its
 * 4-byte length, and referred to by a number (the chunk's number times the chunk size, plus the record's offset). A
 * chunk goes back when every record in it was freed, so the bytes held follow the records alive at once (plus the
 * chunk being filled, and what a record still alive keeps of its chunk).
 *
 * Against a string per record: no object for the collector to copy and promote, and no string to make.
 */
export class ByteArena implements RecordArena {
  private readonly chunks: (Uint8Array | null)[] = [];
  /** Records not freed, per chunk. */
  private readonly live: number[] = [];
  private readonly freeIds: number[] = [];
  /** One released chunk kept for the next (a chunk a minute is the usual rhythm: no allocation each time). */
  private spare: Uint8Array | null = null;
  private cur = -1;
  private used = 0;
  /** Bytes of the chunks held (the memory the records cost). */
  bytes = 0;

  constructor(private readonly chunkSize = 1 << 20) {}

  /** Stores b[0 .. n) and returns its reference. */
  put(b: Uint8Array, n: number): number {
    if (this.cur < 0 || this.used + 4 + n > (this.chunks[this.cur] as Uint8Array).length) this.next(4 + n);
    const c = this.chunks[this.cur] as Uint8Array;
    const at = this.used;
    c[at] = n & 0xff; c[at + 1] = (n >>> 8) & 0xff; c[at + 2] = (n >>> 16) & 0xff; c[at + 3] = n >>> 24;
    c.set(b.subarray(0, n), at + 4);
    this.used = at + 4 + n;
    this.live[this.cur] = (this.live[this.cur] as number) + 1;
    return this.cur * this.chunkSize + at;
  }

  /** The chunk holding record `ref`; its bytes start at start(ref) and are length(ref) long. */
  chunk(ref: number): Uint8Array {
    return this.chunks[Math.floor(ref / this.chunkSize)] as Uint8Array;
  }

  start(ref: number): number {
    return (ref % this.chunkSize) + 4;
  }

  length(ref: number): number {
    const c = this.chunk(ref);
    const at = ref % this.chunkSize;
    return ((c[at] as number) | ((c[at + 1] as number) << 8) | ((c[at + 2] as number) << 16) | ((c[at + 3] as number) << 24)) >>> 0;
  }

  /** Record `ref` is dead (each reference is freed once). */
  free(ref: number): void {
    const id = Math.floor(ref / this.chunkSize);
    const n = (this.live[id] as number) - 1;
    this.live[id] = n;
    if (n === 0 && id !== this.cur) this.release(id);
  }

  /** Records not freed. */
  get records(): number {
    let n = 0;
    for (const x of this.live) n += x;
    return n;
  }

  private next(need: number): void {
    const old = this.cur;
    // An emptied chunk of the usual size is filled again; an oversized one (a single large record's) never is: records
    // past chunkSize in it would have references in the next chunk's range.
    if (old >= 0 && this.live[old] === 0 && need <= this.chunkSize && (this.chunks[old] as Uint8Array).length === this.chunkSize) { this.used = 0; return; }
    if (old >= 0 && this.live[old] === 0) this.release(old);
    const id = this.freeIds.pop() ?? this.chunks.length;
    let c: Uint8Array;
    if (need <= this.chunkSize && this.spare !== null) { c = this.spare; this.spare = null; } else {
      // A record larger than a chunk has a chunk of its own (its offset 0: references stay distinct).
      c = new Uint8Array(Math.max(this.chunkSize, need));
      this.bytes += c.length;
    }
    this.chunks[id] = c;
    this.live[id] = 0;
    this.cur = id;
    this.used = 0;
  }

  private release(id: number): void {
    const c = this.chunks[id] as Uint8Array;
    this.chunks[id] = null;
    this.freeIds.push(id);
    if (this.spare === null && c.length === this.chunkSize) this.spare = c; else this.bytes -= c.length;
  }
}
