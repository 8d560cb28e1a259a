import { closeSync, openSync, readSync } from 'node:fs';
import { openTemp, TempDir, writeTemp } from './temp-dir.js';

/** Bytes gathered before they go to the file (records still here are read from here). */
const BUF = 1 << 20;
/** Bytes read at once when a record is read back: its length and, for most records, all of it. */
export const READ_AHEAD = 4096;

/**
 * Records appended to a private temporary file, each `u32 length, bytes`; a record's offset is its reference. The
 * latest megabyte waits in memory and is read from there. The file is made when that buffer first fills and is removed
 * by close() (or at exit). Records are never rewritten: an owner whose records died moves the live ones to a new
 * RecordFile and closes the old one (DiskColdStore, src/analyze/cold-store.ts).
 */
export class RecordFile {
  private readonly file: TempFile;
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
  constructor(prefix: string, private readonly what: string) {
    this.file = new TempFile(prefix);
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
    this.scratch = readRecordAt(this.file.fd, this.scratch, ref, this.flushed - ref, this.what);
    this.length = this.scratch.readUInt32LE(0);
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
    this.file.close();
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
    this.file.write(b, len, this.flushed);
    this.flushed += len;
  }
}

/** A private temporary file (0600, in a TempDir of its own), made when first written and removed by close(). */
export class TempFile {
  private dir: TempDir | null = null;
  /** Its descriptor (-1 before the first write and after close()). */
  fd = -1;

  constructor(private readonly prefix: string) {}

  /** b[0 .. len) at offset `at`. */
  write(b: Uint8Array, len: number, at: number): void {
    if (this.fd < 0) {
      this.dir = new TempDir(this.prefix);
      this.fd = openTemp(this.dir.file('records'), 'w+');
    }
    writeTemp(this.fd, b, 0, len, at);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.dir?.remove();
    this.dir = null;
  }
}

/**
 * The record (u32 length, then its bytes) at offset `at` of file `fd`, read into `into` from offset 0, or into a larger
 * buffer when it does not fit: the buffer that holds it. One read for the length and the bytes of a record of up to
 * READ_AHEAD bytes (most: a few hundred; at most `avail`, the bytes the file has from `at` on), a second for the rest
 * of a longer one. `what`: the store's name in an error.
 */
export function readRecordAt(fd: number, into: Buffer<ArrayBuffer>, at: number, avail: number, what: string): Buffer<ArrayBuffer> {
  const got = readAtLeast(fd, into, Math.min(READ_AHEAD, avail), at, 0, 4, what);
  const n = into.readUInt32LE(0);
  if (4 + n <= got) return into;
  let b = into;
  if (b.length < 4 + n) {
    b = Buffer.allocUnsafe(Math.max(4 + n, 2 * into.length));
    into.copy(b, 0, 0, got);
  }
  readAtLeast(fd, b, 4 + n - got, at + got, got, 4 + n - got, what);
  return b;
}

/** Up to `len` bytes of file `fd` from offset `at` into b[into ..], at least `least` of them: how many came. */
function readAtLeast(fd: number, b: Uint8Array, len: number, at: number, into: number, least: number, what: string): number {
  let o = 0;
  while (o < least) {
    const got = readSync(fd, b, into + o, len - o, at + o);
    if (got <= 0) throw new Error(`${what}: short read at ${at + o}`);
    o += got;
  }
  return o;
}
