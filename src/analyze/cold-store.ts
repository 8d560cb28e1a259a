import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { CompactingArena } from '../tcp/byte-arena.js';
import type { ColdStore } from '../tcp/flow-table.js';
import { TempDir } from './temp-dir.js';

/** Bytes gathered before they go to the file (records still here are read from here). */
const BUF = 1 << 20;
/** Dead bytes below which the file is never compacted. */
const DEAD_LIMIT = 64 << 20;

/**
 * Where a streamed analysis keeps the open connections that sleep (FlowTable: idle for 30 s of capture time, frozen
 * as a one-byte string): appended to a private temporary file, so an idle connection costs the heap its tuple only.
 * A long capture gathers tens of thousands that never close (one-sided, abandoned, stuck half-closes); each is read
 * back once, when it wakes or is judged (taken: its bytes are dead). Records are `u32 length, bytes`; a record's
 * offset is its reference. The file grows by a record each time a connection falls asleep; once more than half of it
 * (and over DEAD_LIMIT) is dead, the owner moves the live records to a new file (compact(), O(live), so O(1) per
 * record put, amortized): on a live capture where connections doze and wake for days, the file stays within twice
 * what sleeps. It is made at the first megabyte and removed by close() (or at exit).
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
  /** Bytes of records taken (dead), and of all records. */
  private dead = 0;
  private total = 0;
  private files = 0;

  put(frozen: string): number {
    const n = frozen.length;
    this.records++;
    this.total += 4 + n;
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

  /** The string put at `ref`; it is dead afterwards (every reference is taken once). */
  take(ref: number): string {
    const s = this.peek(ref);
    this.dead += 4 + s.length;
    return s;
  }

  /** More than half of the file is dead: time to compact() (the owner knows the live references). */
  wasteful(): boolean {
    return this.dead > this.deadLimit && 2 * this.dead > this.total;
  }

  /** `deadLimit`: dead bytes below which compaction is not worth it (tests make it small). */
  constructor(private readonly deadLimit = DEAD_LIMIT) {}

  /** The records at `refs` (every live one) moved to a new file; their new references, in the same order. */
  compact(refs: readonly number[]): number[] {
    const old = this.fd;
    const oldFile = this.fd >= 0 ? this.file() : null;
    const strings: string[] = [];
    // Read in batches of a few MB so the heap never holds all of them; the old file stays open until the end.
    const out: number[] = [];
    const rest = { buf: this.buf, used: this.used, flushed: this.flushed };
    this.fd = -1;
    this.buf = Buffer.allocUnsafe(BUF);
    this.used = 0;
    this.flushed = 0;
    this.dead = 0;
    this.total = 0;
    this.records = 0;
    const read = (ref: number): string => {
      if (ref >= rest.flushed) {
        const o = ref - rest.flushed;
        return rest.buf.toString('latin1', o + 4, o + 4 + rest.buf.readUInt32LE(o));
      }
      this.readFrom(old, this.head, 4, ref);
      const n = this.head.readUInt32LE(0);
      const b = Buffer.allocUnsafe(n);
      this.readFrom(old, b, n, ref + 4);
      return b.toString('latin1', 0, n);
    };
    for (const ref of refs) { strings.push(read(ref)); if (strings.length >= 4096) { for (const s of strings) out.push(this.put(s)); strings.length = 0; } }
    for (const s of strings) out.push(this.put(s));
    if (old >= 0) closeSync(old);
    if (oldFile !== null) rmSync(oldFile, { force: true });
    return out;
  }

  /** Bytes the file holds (live and dead), for tests. */
  get bytes(): number {
    return this.total;
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
      this.dir ??= new TempDir('teardown-idle-');
      this.files++;
      this.fd = openSync(this.file(), 'w+', 0o600);
    }
    for (let o = 0; o < len;) o += writeSync(this.fd, b, o, len - o, this.flushed + o);
    this.flushed += len;
  }

  private peek(ref: number): string {
    if (ref >= this.flushed) {
      const o = ref - this.flushed;
      const n = this.buf.readUInt32LE(o);
      return this.buf.toString('latin1', o + 4, o + 4 + n);
    }
    this.readFrom(this.fd, this.head, 4, ref);
    const n = this.head.readUInt32LE(0);
    const b = Buffer.allocUnsafe(n);
    this.readFrom(this.fd, b, n, ref + 4);
    return b.toString('latin1', 0, n);
  }

  private file(): string {
    return (this.dir as TempDir).file(`connections-${this.files}`);
  }

  private readFrom(fd: number, b: Buffer, len: number, at: number): void {
    for (let o = 0; o < len;) {
      const got = readSync(fd, b, o, len - o, at + o);
      if (got <= 0) throw new Error(`idle connection store: short read at ${at + o}`);
      o += got;
    }
  }
}

/**
 * The same for byte records (src/tcp/byte-arena.ts CompactingArena): where a streamed analysis keeps the frozen copy
 * of each judged connection for its reopen window (FlowTable: REOPEN_WINDOW, 120 s of capture time). A busy capture
 * judges thousands of connections a second and keeps them all that long (~600 bytes each, ~11 MiB per analysis
 * thread on the bench capture), while a copy is read back only when a late segment or a new path comes on its tuple
 * within the window: seldom. Records are `u32 length, bytes` appended to a private temporary file (made at the first
 * megabyte, removed by close() or at exit); a record's offset is its reference. Freed records are dead; once more
 * than half of the records are dead and the file is over DEAD_LIMIT, the owner moves the live ones to a new file.
 */
export class DiskArena implements CompactingArena {
  private dir: TempDir | null = null;
  private fd = -1;
  private buf = Buffer.allocUnsafe(BUF);
  private used = 0;
  /** Bytes in the file: the buffer holds the records from this offset on. */
  private flushed = 0;
  private readonly head = Buffer.allocUnsafe(4);
  /** A record read back from the file (thawed from there before the next read). */
  private scratch = Buffer.allocUnsafe(4096);
  /** Records put and not freed. */
  records = 0;
  /** Records freed, and all records, since the file was begun; bytes of all records. */
  private dead = 0;
  private total = 0;
  private fileBytes = 0;
  private files = 0;

  /** `deadLimit`: bytes below which the file is never compacted (tests make it small). */
  constructor(private readonly deadLimit = DEAD_LIMIT) {}

  /** The memory it holds: its buffers (the records are in the file). */
  get bytes(): number {
    return this.buf.length + this.scratch.length;
  }

  put(b: Uint8Array, n: number): number {
    this.records++;
    this.total++;
    this.fileBytes += 4 + n;
    if (this.used + 4 + n > this.buf.length) this.flush();
    if (4 + n > this.buf.length) {
      // Larger than the buffer: straight to the file.
      const ref = this.flushed;
      const r = Buffer.allocUnsafe(4 + n);
      r.writeUInt32LE(n, 0);
      r.set(b.subarray(0, n), 4);
      this.append(r, r.length);
      return ref;
    }
    const ref = this.flushed + this.used;
    this.buf.writeUInt32LE(n, this.used);
    this.buf.set(b.subarray(0, n), this.used + 4);
    this.used += 4 + n;
    return ref;
  }

  /** The bytes holding record `ref` (read from the file into a scratch buffer if it is there); see start(). */
  chunk(ref: number): Uint8Array {
    if (ref >= this.flushed) return this.buf;
    return this.readRecord(this.fd, ref);
  }

  start(ref: number): number {
    return ref >= this.flushed ? ref - this.flushed + 4 : 0;
  }

  free(_ref: number): void {
    this.records--;
    this.dead++;
  }

  wasteful(): boolean {
    return this.fileBytes > this.deadLimit && 2 * this.dead > this.total;
  }

  /** The records at `refs` (every live one) moved to a new file; their new references, in the same order. */
  compact(refs: readonly number[]): number[] {
    const old = this.fd;
    const oldFile = this.fd >= 0 ? this.file() : null;
    const rest = { buf: this.buf, flushed: this.flushed };
    this.fd = -1;
    this.buf = Buffer.allocUnsafe(BUF);
    this.used = 0;
    this.flushed = 0;
    this.dead = 0;
    this.total = 0;
    this.fileBytes = 0;
    this.records = 0;
    const out: number[] = [];
    for (const ref of refs) {
      if (ref >= rest.flushed) {
        const o = ref - rest.flushed;
        out.push(this.put(rest.buf.subarray(o + 4), rest.buf.readUInt32LE(o)));
      } else {
        const r = this.readRecord(old, ref);
        out.push(this.put(r, this.head.readUInt32LE(0)));
      }
    }
    if (old >= 0) closeSync(old);
    if (oldFile !== null) rmSync(oldFile, { force: true });
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.dir?.remove();
    this.dir = null;
    this.buf = Buffer.alloc(0);
    this.used = 0;
  }

  /** Record `ref` of file `fd` into the scratch buffer (from offset 0); its length stays in `head`. */
  private readRecord(fd: number, ref: number): Buffer {
    readFully(fd, this.head, 4, ref);
    const n = this.head.readUInt32LE(0);
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, 2 * this.scratch.length));
    readFully(fd, this.scratch, n, ref + 4);
    return this.scratch;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.append(this.buf, this.used);
    this.used = 0;
  }

  private append(b: Buffer, len: number): void {
    if (this.fd < 0) {
      this.dir ??= new TempDir('teardown-judged-');
      this.files++;
      this.fd = openSync(this.file(), 'w+', 0o600);
    }
    for (let o = 0; o < len;) o += writeSync(this.fd, b, o, len - o, this.flushed + o);
    this.flushed += len;
  }

  private file(): string {
    return (this.dir as TempDir).file(`judged-${this.files}`);
  }
}

function readFully(fd: number, b: Buffer, len: number, at: number): void {
  for (let o = 0; o < len;) {
    const got = readSync(fd, b, o, len - o, at + o);
    if (got <= 0) throw new Error(`judged connection store: short read at ${at + o}`);
    o += got;
  }
}
