import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { ColdStore } from '../tcp/flow-table.js';
import { TempDir } from './temp-dir.js';

/** Bytes gathered before they go to the file (records still here are read from here). */
const BUF = 1 << 20;

/**
 * Where a streamed analysis keeps the open connections that sleep (FlowTable: idle for 30 s of capture time, frozen
 * as a one-byte string): appended to a private temporary file, so an idle connection costs the heap its tuple only.
 * A long capture gathers tens of thousands that never close (one-sided, abandoned, stuck half-closes); each is read
 * back once, when it wakes or is judged. Records are `u32 length, bytes`; a record's offset is its reference. The
 * file only grows (a woken connection's bytes stay behind: one record per time a connection falls asleep); it is
 * made at the first megabyte and removed by close() (or at exit).
 */
export class DiskColdStore implements ColdStore {
  private dir: TempDir | null = null;
  private fd = -1;
  private buf = Buffer.allocUnsafe(BUF);
  private used = 0;
  /** Bytes in the file: the buffer holds the records from this offset on. */
  private flushed = 0;
  private readonly head = Buffer.allocUnsafe(4);
  /** Records put (a count for tests and the memory probe). */
  records = 0;

  put(frozen: string): number {
    const n = frozen.length;
    this.records++;
    if (this.used + 4 + n > this.buf.length) this.flush();
    if (4 + n > this.buf.length) {
      // Larger than the buffer (a connection with a long packet log): straight to the file.
      const ref = this.flushed;
      const b = Buffer.allocUnsafe(4 + n);
      b.writeUInt32LE(n, 0);
      b.write(frozen, 4, 'latin1');
      this.append(b, b.length);
      return ref;
    }
    const ref = this.flushed + this.used;
    this.buf.writeUInt32LE(n, this.used);
    this.buf.write(frozen, this.used + 4, 'latin1');
    this.used += 4 + n;
    return ref;
  }

  take(ref: number): string {
    if (ref >= this.flushed) {
      const o = ref - this.flushed;
      const n = this.buf.readUInt32LE(o);
      return this.buf.toString('latin1', o + 4, o + 4 + n);
    }
    this.read(this.head, 4, ref);
    const n = this.head.readUInt32LE(0);
    const b = Buffer.allocUnsafe(n);
    this.read(b, n, ref + 4);
    return b.toString('latin1', 0, n);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.dir?.remove();
    this.dir = null;
    this.buf = Buffer.alloc(0);
    this.used = 0;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.append(this.buf, this.used);
    this.used = 0;
  }

  private append(b: Buffer, len: number): void {
    if (this.fd < 0) {
      this.dir = new TempDir('teardown-idle-');
      this.fd = openSync(this.dir.file('connections'), 'w+', 0o600);
    }
    for (let o = 0; o < len;) o += writeSync(this.fd, b, o, len - o, this.flushed + o);
    this.flushed += len;
  }

  private read(b: Buffer, len: number, at: number): void {
    for (let o = 0; o < len;) {
      const got = readSync(this.fd, b, o, len - o, at + o);
      if (got <= 0) throw new Error(`idle connection store: short read at ${at + o}`);
      o += got;
    }
  }
}
