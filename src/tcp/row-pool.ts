/**
 * Fixed-width rows of numbers in shared Float64Array chunks: the numeric state of many small records (an endpoint's
 * sequence numbers and times) without an object per number. A double held in an object field is a separate heap
 * number, allocated when the field first holds one and copied by every garbage collection the record survives; in a
 * row it is eight bytes of a chunk the collector never scans.
 *
 * A record takes a row (a chunk and the offset of its first number) when it is made and gives it back when it is
 * dropped (free); a freed row is handed out again, so chunks grow with the records alive at once, not with the
 * records ever made. A record never freed only keeps its row.
 */
/**
 * The offset a record holds once it has given its row back: far below 0 (still a small integer), so a read through
 * it is undefined (NaN) and a write is dropped, instead of landing in the row before it, someone else's.
 */
export const FREED = -0x40000000;

/** n numbers of a row from `at` into out[0 .. n) (freezing: one call per record, no subarray made). */
export function copyNumbers(rows: Float64Array, at: number, n: number, out: Float64Array): void {
  for (let k = 0; k < n; k++) out[k] = rows[at + k] as number;
}

export class RowPool {
  private chunks = 0;
  private chunk: Float64Array;
  private used = 0;
  /** Freed rows: chunk and offset, pushed and popped together. */
  private readonly freeChunks: Float64Array[] = [];
  private readonly freeAts: number[] = [];
  /** Rows handed out and not freed (for tests and accounting). */
  live = 0;

  constructor(readonly width: number, private readonly rowsPerChunk = 4096) {
    this.chunk = this.newChunk();
  }

  private newChunk(): Float64Array {
    const c = new Float64Array(this.width * this.rowsPerChunk);
    this.chunks++;
    this.used = 0;
    return c;
  }

  /** A row, zeroed: its chunk, and the offset of its first number (from at()). */
  take(): Float64Array {
    this.live++;
    const n = this.freeChunks.length;
    if (n > 0) {
      const c = this.freeChunks.pop() as Float64Array;
      this.lastAt = this.freeAts.pop() as number;
      c.fill(0, this.lastAt, this.lastAt + this.width);
      return c;
    }
    if (this.used === this.rowsPerChunk) this.chunk = this.newChunk();
    this.lastAt = this.used++ * this.width;
    return this.chunk;
  }

  /** The offset of the row the last take() returned. */
  lastAt = 0;

  /** Gives a row back (the caller forgets it). */
  free(chunk: Float64Array, at: number): void {
    this.live--;
    this.freeChunks.push(chunk);
    this.freeAts.push(at);
  }

  /** Chunks allocated so far. */
  get chunkCount(): number {
    return this.chunks;
  }
}
