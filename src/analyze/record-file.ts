import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { TempDir } from './temp-dir.js';

/** Bytes gathered before they go to the file (records still here are read from here). */
const BUF = 1 << 20;
/** Bytes read at once when a record is read back: its length and, for most records, all of it. */
const READ_AHEAD = 4096;

/**
 * Records appended to a private temporary file, each `u32 length, bytes`; a record's offset is its reference. The
 * latest megabyte waits in memory and is read from there. The file is made when that buffer first fills and is removed
 * by close() (or at exit). Records are never rewritten: an owner whose records died moves the live ones to a new
 * RecordFile and closes the old one (DiskColdStore, src/analyze/cold-store.ts).
 */
export class RecordFile {
  private dir: TempDir | null = null;
  private fd = -1;
  private buf = Buffer.allocUnsafe(BUF);
  private used = 0;
  /** Bytes in the file: the buffer holds the records from this offset on. */
  private flushed = 0;
  private readonly head = Buffer.allocUnsafe(4);
  /** A record read back from the file (valid until the next read). */
  private scratch = Buffer.allocUnsafe(READ_AHEAD);
  /** The length of the record chunk() found last. */
  length = 0;

  /** `prefix`: the temporary directory's name prefix; `what`: the store's name in an error. */
  constructor(private readonly prefix: string, private readonly what: string) {}

  /** The memory it holds: its buffers (the records are in the file). */
  get memory(): number {
    return this.buf.length + this.scratch.length;
  }

  put(b: Uint8Array, n: number): number {
    const at = this.room(n);
    if (at < 0) return this.putLarge(Buffer.from(b.buffer, b.byteOffset, n));
    this.buf.set(b.subarray(0, n), at);
    return this.flushed + at - 4;
  }

  /** A string of one-byte characters (src/tcp/frozen.ts), as its bytes. */
  putLatin1(s: string): number {
    const at = this.room(s.length);
    if (at < 0) return this.putLarge(Buffer.from(s, 'latin1'));
    this.buf.write(s, at, 'latin1');
    return this.flushed + at - 4;
  }

  /** The bytes holding record `ref` (from the file into a scratch buffer if it is there), its length in `length`; see start(). */
  chunk(ref: number): Buffer {
    if (ref >= this.flushed) {
      this.length = this.buf.readUInt32LE(ref - this.flushed);
      return this.buf;
    }
    // One read for the length and the bytes of a record of up to READ_AHEAD bytes (most: a few hundred), a second for
    // the rest of a longer one.
    const got = this.read(this.scratch, Math.min(READ_AHEAD, this.flushed - ref), ref, 0, 4);
    const n = this.length = this.scratch.readUInt32LE(0);
    if (4 + n <= got) return this.scratch;
    if (this.scratch.length < 4 + n) {
      const grown = Buffer.allocUnsafe(Math.max(4 + n, 2 * this.scratch.length));
      this.scratch.copy(grown, 0, 0, got);
      this.scratch = grown;
    }
    this.read(this.scratch, 4 + n - got, ref + got, got);
    return this.scratch;
  }

  /** Where record `ref` begins in the bytes chunk(ref) returns. */
  start(ref: number): number {
    return ref >= this.flushed ? ref - this.flushed + 4 : 4;
  }

  latin1(ref: number): string {
    const c = this.chunk(ref);
    const s = this.start(ref);
    return c.toString('latin1', s, s + this.length);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.dir?.remove();
    this.dir = null;
    this.buf = Buffer.alloc(0);
    this.used = 0;
  }

  /** Room in the buffer for a record of `n` bytes, its length written: where its bytes go; -1 if larger than the buffer. */
  private room(n: number): number {
    if (this.used + 4 + n > this.buf.length) this.flush();
    if (4 + n > this.buf.length) return -1;
    this.buf.writeUInt32LE(n, this.used);
    const at = this.used + 4;
    this.used = at + n;
    return at;
  }

  /** A record larger than the buffer (room() has flushed it): straight to the file. */
  private putLarge(bytes: Buffer): number {
    const ref = this.flushed;
    this.head.writeUInt32LE(bytes.length, 0);
    this.append(this.head, 4);
    this.append(bytes, bytes.length);
    return ref;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.append(this.buf, this.used);
    this.used = 0;
  }

  private append(b: Buffer, len: number): void {
    if (this.fd < 0) {
      this.dir = new TempDir(this.prefix);
      this.fd = openSync(this.dir.file('records'), 'w+', 0o600);
    }
    for (let o = 0; o < len;) o += writeSync(this.fd, b, o, len - o, this.flushed + o);
    this.flushed += len;
  }

  /** Up to `len` bytes of the file from offset `at` into b[into ..], at least `least` of them: how many came. */
  private read(b: Buffer, len: number, at: number, into = 0, least = len): number {
    let o = 0;
    while (o < least) {
      const got = readSync(this.fd, b, into + o, len - o, at + o);
      if (got <= 0) throw new Error(`${this.what}: short read at ${at + o}`);
      o += got;
    }
    return o;
  }
}
