import type { RecordArena } from '../tcp/byte-arena.js';
import { READ_AHEAD, readRecordAt, TempFile } from './record-file.js';

/** Bytes per segment: the records being written wait in one segment's buffer. */
const SEGMENT = 1 << 20;

/**
 * Where a streamed analysis keeps the frozen copy of each judged connection for its reopen window (FlowTable:
 * REOPEN_WINDOW, 120 s of capture time): a private temporary file of fixed segments. A busy capture judges thousands
 * of connections a second and keeps each copy that long (~600 bytes), while a copy is read back only when a late
 * segment or a new path comes on its tuple within the window: seldom. Records are appended to the segment being filled
 * (a buffer in memory, read from there), which goes to its place in the file once full; a record's reference is its
 * offset in the file. The copies die in about the order they were made, so the oldest segments empty out: a segment
 * whose records are all dead is filled again in place, and the file stays within the copies alive at once (plus
 * the segments that still hold a few) instead of growing and being compacted. Rewriting a segment rewrites pages the
 * system holds already, which costs far less than growing a file with new ones. A record larger than a segment gets
 * consecutive segments of its own at the end of the file, reused one by one once it is dead.
 */
export class SegmentArena implements RecordArena {
  private readonly file = new TempFile('teardown-judged-');
  private buf: Buffer;
  private used = 0;
  /** The segment being filled (its records are in `buf`). */
  private cur = 0;
  /** Records alive per segment (a large record counts in its first segment); segments there are, in the file or being filled. */
  private readonly live: number[] = [0];
  /** Per segment: how many segments its large record takes (1 otherwise). */
  private readonly span: number[] = [1];
  /** Segments whose records are all dead, to be filled again. */
  private readonly empty: number[] = [];
  /** A record read back from the file (valid until the next read). */
  private scratch = Buffer.allocUnsafe(READ_AHEAD);
  /** Records put and not freed. */
  records = 0;

  /** `segment`: bytes per segment (tests make it small). */
  constructor(private readonly segment = SEGMENT) {
    this.buf = Buffer.allocUnsafe(segment);
  }

  /** The memory it holds: its buffers (the records are in the file). */
  get bytes(): number {
    return this.buf.length + this.scratch.length;
  }

  /** Bytes the file takes (every segment there is, alive or not). */
  get fileBytes(): number {
    return this.live.length * this.segment;
  }

  put(b: Uint8Array, n: number): number {
    this.records++;
    if (4 + n > this.segment) return this.putLarge(b, n);
    if (this.used + 4 + n > this.segment) this.next();
    const at = this.used;
    this.buf.writeUInt32LE(n, at);
    this.buf.set(b.subarray(0, n), at + 4);
    this.used = at + 4 + n;
    this.live[this.cur] = (this.live[this.cur] as number) + 1;
    return this.cur * this.segment + at;
  }

  /** The bytes holding record `ref` (read from the file into a scratch buffer unless it is in the segment being filled); see start(). */
  chunk(ref: number): Uint8Array {
    if (this.segmentOf(ref) === this.cur) return this.buf;
    this.scratch = readRecordAt(this.file.fd, this.scratch, ref, Infinity, 'judged connection store');
    return this.scratch;
  }

  start(ref: number): number {
    return this.segmentOf(ref) === this.cur ? ref - this.cur * this.segment + 4 : 4;
  }

  /** Record `ref` is dead (each reference is freed once): its segment is filled again once all of its records are. */
  free(ref: number): void {
    this.records--;
    const s = this.segmentOf(ref);
    const n = (this.live[s] as number) - 1;
    this.live[s] = n;
    if (n > 0 || s === this.cur) return;
    const k = this.span[s] as number;
    for (let i = 0; i < k; i++) { this.span[s + i] = 1; this.empty.push(s + i); }
  }

  close(): void {
    this.file.close();
    this.buf = Buffer.alloc(0);
    this.used = 0;
  }

  private segmentOf(ref: number): number {
    return Math.floor(ref / this.segment);
  }

  /** The segment being filled goes to the file (unless its records are all dead already); an empty one is taken next. */
  private next(): void {
    const s = this.cur;
    if (this.live[s] === 0) { this.used = 0; return; }
    this.file.write(this.buf, this.used, s * this.segment);
    this.cur = this.take(1);
    this.used = 0;
  }

  /** An empty segment, or k new ones at the end of the file (counted alive from here on). */
  private take(k: number): number {
    if (k === 1 && this.empty.length > 0) return this.empty.pop() as number;
    const s = this.live.length;
    for (let i = 0; i < k; i++) { this.live.push(0); this.span.push(1); }
    this.span[s] = k;
    return s;
  }

  private putLarge(b: Uint8Array, n: number): number {
    const s = this.take(Math.ceil((4 + n) / this.segment));
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(n, 0);
    this.file.write(head, 4, s * this.segment);
    this.file.write(b, n, s * this.segment + 4);
    this.live[s] = 1;
    return s * this.segment;
  }
}
