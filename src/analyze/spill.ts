import { closeSync, openSync, readSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { keyOrder } from './key-order.js';
import { openTemp, TempDir, writeTemp } from './temp-dir.js';

/**
 * A record as the merge hands it out: four numeric sort keys, a few numbers and a text, read in place from the
 * bytes of a run (valid until the next record is asked for; copy what you keep).
 *
 * Bytes of a record: u32 total length | u32 count of numbers | f64 k0 k1 k2 k3 | f64 × count | text (UTF-8).
 */
export class SpillRecord {
  k0 = 0;
  k1 = 0;
  k2 = 0;
  k3 = 0;
  /** The bytes holding the record (a run's buffer) and where its text starts and ends in them. */
  buf: Buffer = EMPTY;
  textAt = 0;
  textEnd = 0;
  private numsAt = 0;
  /** Numbers stored with the record. */
  count = 0;

  /** Reads the record at `at` of `buf` (its length and keys already known to fit). */
  read(buf: Buffer, at: number): void {
    this.buf = buf;
    const len = buf.readUInt32LE(at);
    this.count = buf.readUInt32LE(at + 4);
    this.k0 = buf.readDoubleLE(at + 8);
    this.k1 = buf.readDoubleLE(at + 16);
    this.k2 = buf.readDoubleLE(at + 24);
    this.k3 = buf.readDoubleLE(at + 32);
    this.numsAt = at + HEAD;
    this.textAt = this.numsAt + 8 * this.count;
    this.textEnd = at + len;
  }

  num(i: number): number {
    return this.buf.readDoubleLE(this.numsAt + 8 * i);
  }

  text(): string {
    return this.buf.toString('utf8', this.textAt, this.textEnd);
  }
}

const EMPTY = Buffer.alloc(0);
/** Length, count and the four keys. */
const HEAD = 40;

/**
 * Bytes held in memory before a sorted run goes to disk: 4 MiB, less in a small heap (a 16th of it). With `--json`
 * two spills fill at once (connections, findings) while the analysis runs; 16 MiB runs held 24 MiB more at the peak
 * of the bench capture with two threads, for no measurable time saved (bench/README.md).
 */
const RUN_BYTES = Math.min(4 << 20, Math.floor(getHeapStatistics().heap_size_limit / 16));
/** Bytes written at once to a run, and the most read at once from one while they merge. */
const CHUNK = 1 << 16;
/**
 * Read buffers of a merge, all runs together: each run reads MERGE_BYTES / runs at a time (between MIN_READ and
 * CHUNK), so a capture ten times longer (ten times the runs) merges in the same memory, in smaller reads — up to
 * MERGE_BYTES / MIN_READ runs (2,048: ~8 GB spilled at RUN_BYTES), past which each run adds MIN_READ.
 */
const MERGE_BYTES = 8 << 20;
/** The smallest read from a run (a larger record is still read whole: the buffer grows to hold it). */
const MIN_READ = 1 << 12;
/**
 * Runs kept open while they merge; the others are opened for each read and closed again. A capture of a few hundred
 * million packets spills more than a thousand runs, past the usual limit of 1,024 open files per process.
 */
const OPEN_RUNS = 64;

/** Bytes [at, end) of buf: a record's text already encoded (UTF-8). */
export interface Span { buf: Uint8Array; at: number; end: number }

/** Bytes a record of `count` numbers and this text takes at most (`head`: 3 bytes of UTF-8 per UTF-16 unit). */
export function recordBound(count: number, head: string, body: Span | null): number {
  return HEAD + 8 * count + 3 * head.length + (body === null ? 0 : body.end - body.at);
}

/**
 * Writes a record (keys, `count` numbers of `nums`, its text: `head` then the bytes of `body`) at `at` of `m` (room
 * for recordBound()); returns its end.
 */
export function writeRecord(m: Buffer, at: number, k0: number, k1: number, k2: number, k3: number, nums: ArrayLike<number>, count: number, head: string, body: Span | null): number {
  m.writeUInt32LE(count, at + 4);
  m.writeDoubleLE(k0, at + 8);
  m.writeDoubleLE(k1, at + 16);
  m.writeDoubleLE(k2, at + 24);
  m.writeDoubleLE(k3, at + 32);
  let p = at + HEAD;
  for (let i = 0; i < count; i++, p += 8) m.writeDoubleLE(nums[i] as number, p);
  if (head.length > 0) p += m.write(head, p, 'utf8');
  if (body !== null && body.end > body.at) { m.set(body.buf.subarray(body.at, body.end), p); p += body.end - body.at; }
  m.writeUInt32LE(p - at, at);
  return p;
}

/** Sets key k (0…3) of the record at `at`. */
export function setRecordKey(m: Buffer, at: number, k: number, v: number): void {
  m.writeDoubleLE(v, at + 8 + 8 * k);
}

/** A spill's sorted runs on disk (SortedSpill.handOff()), as a message between threads carries them. */
export interface SpillRuns { name: string; runs: string[]; runBytes: number }

/**
 * An external sort of records (four numeric keys, a few numbers, a text) in bounded memory: records are written as
 * bytes into one buffer (outside the JS heap: nothing for the garbage collector to trace or copy) up to `runBytes`,
 * then sorted by an index and written as a run to a private temporary directory (mode 0700, files 0600); sorted()
 * merges the runs and the records still in memory. Records with equal keys come out in the order they were added.
 * close() removes the directory (also at process exit).
 */
export class SortedSpill {
  private used = 0;
  /** Records in memory (up to runBytes), then CHUNK bytes where a run is staged on its way to disk. */
  private mem: Buffer;
  /** Per record in memory: its four keys, and its offset in `mem`. */
  private keys = new Float64Array(4 * 1024);
  private offs = new Uint32Array(1024);
  private n = 0;
  private dir: TempDir | null = null;
  private readonly runs: string[] = [];
  /** Records added. */
  size = 0;
  /** Sorted runs written to disk. */
  get runCount(): number { return this.runs.length; }

  /** Bytes of the read buffers of the runs being merged (sorted()), for accounting and tests. */
  get mergeBufferBytes(): number { return this.readers.reduce((n, r) => n + r.bufferBytes, 0); }
  private readers: RunReader[] = [];

  constructor(private readonly name: string, private readonly runBytes: number = RUN_BYTES, private readonly openRuns = OPEN_RUNS, private readonly mergeBytes = MERGE_BYTES) {
    this.mem = Buffer.allocUnsafe(Math.min(runBytes, CHUNK) + CHUNK);
  }

  /** A record: its keys, `count` numbers from `nums`, and a text (`head`, then the bytes of `body`). */
  add(k0: number, k1: number, k2: number, k3: number, nums: ArrayLike<number>, count: number, head: string, body: Span | null = null): void {
    const at = this.room(recordBound(count, head, body));
    this.used = writeRecord(this.mem, at, k0, k1, k2, k3, nums, count, head, body);
    this.index(at, k0, k1, k2, k3);
  }

  /** A record already written as bytes (by writeRecord) at `from` of `src`; returns its length. */
  addRecord(src: Buffer, from: number): number {
    const len = src.readUInt32LE(from);
    const at = this.room(len);
    src.copy(this.mem, at, from, from + len);
    this.used = at + len;
    this.index(at, src.readDoubleLE(from + 8), src.readDoubleLE(from + 16), src.readDoubleLE(from + 24), src.readDoubleLE(from + 32));
    return len;
  }

  /** Where a record of at most `most` bytes goes (a run goes to disk first when this one would not fit). */
  private room(most: number): number {
    if (this.used + most > this.runBytes && this.n > 0) this.flush();
    // The last CHUNK bytes of `mem` stage a run's records on their way to disk (flush()).
    if (this.used + most > this.mem.length - CHUNK) {
      const grown = Buffer.allocUnsafe(Math.max(this.used + most, Math.min(this.runBytes, 2 * (this.mem.length - CHUNK))) + CHUNK);
      this.mem.copy(grown, 0, 0, this.used);
      this.mem = grown;
    }
    return this.used;
  }

  private index(at: number, k0: number, k1: number, k2: number, k3: number): void {
    if (this.n === this.offs.length) {
      const o = new Uint32Array(2 * this.n);
      o.set(this.offs);
      this.offs = o;
      const k = new Float64Array(8 * this.n);
      k.set(this.keys);
      this.keys = k;
    }
    const i4 = 4 * this.n;
    this.keys[i4] = k0; this.keys[i4 + 1] = k1; this.keys[i4 + 2] = k2; this.keys[i4 + 3] = k3;
    this.offs[this.n++] = at;
    this.size++;
  }

  /**
   * Every record, in key order (one SpillRecord per source, read in place: use it before asking for the next). The
   * runs and what is in memory merge through a heap on their heads: O(log runs) per record, a read buffer per run of
   * mergeBytes / runs (MIN_READ to CHUNK).
   */
  *sorted(): Generator<SpillRecord> {
    const order = this.order();
    const read = Math.max(MIN_READ, Math.min(CHUNK, Math.floor(this.mergeBytes / Math.max(1, this.runs.length))));
    this.readers = this.runs.map((f, i) => new RunReader(f, i < this.openRuns, read));
    const sources: Source[] = [...this.readers, new MemReader(this.mem, this.offs, order)];
    // Heap of source numbers by their current record; on equal keys the older source (lower number) goes first.
    const heap: number[] = [];
    const less = (a: number, b: number): boolean => {
      const x = (sources[a] as Source).rec;
      const y = (sources[b] as Source).rec;
      if (x.k0 !== y.k0) return x.k0 < y.k0;
      if (x.k1 !== y.k1) return x.k1 < y.k1;
      if (x.k2 !== y.k2) return x.k2 < y.k2;
      if (x.k3 !== y.k3) return x.k3 < y.k3;
      return a < b;
    };
    const down = (i: number): void => {
      const v = heap[i] as number;
      for (;;) {
        let k = 2 * i + 1;
        if (k >= heap.length) break;
        if (k + 1 < heap.length && less(heap[k + 1] as number, heap[k] as number)) k++;
        if (!less(heap[k] as number, v)) break;
        heap[i] = heap[k] as number;
        i = k;
      }
      heap[i] = v;
    };
    try {
      for (let s = 0; s < sources.length; s++) if ((sources[s] as Source).next()) heap.push(s);
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
      while (heap.length > 0) {
        const s = heap[0] as number;
        const src = sources[s] as Source;
        yield src.rec;
        if (!src.next()) {
          const last = heap.pop() as number;
          if (heap.length === 0) break;
          heap[0] = last;
        }
        down(0);
      }
    } finally {
      for (const s of sources) s.close();
      this.readers = [];
    }
  }

  /**
   * The records as sorted runs on disk, for another thread to read back (ofRuns()): what is in memory is written as
   * a last run. The files stay this spill's (close() removes them): nothing may be added after.
   */
  handOff(): SpillRuns {
    if (this.n > 0) this.flush();
    return { name: this.name, runs: [...this.runs], runBytes: this.runBytes };
  }

  /** A spill holding the runs another spill handed off (its files are not removed by this one's close()). */
  static ofRuns(r: SpillRuns): SortedSpill {
    const s = new SortedSpill(r.name, r.runBytes);
    s.runs.push(...r.runs);
    return s;
  }

  close(): void {
    this.mem = EMPTY;
    this.n = 0;
    this.used = 0;
    if (this.dir !== null) { this.dir.remove(); this.dir = null; }
  }

  /** The records in memory in key order (indexes), stable. */
  private order(): Uint32Array {
    return keyOrder(this.keys, this.n);
  }

  private flush(): void {
    this.dir ??= new TempDir('teardown-');
    const file = this.dir.file(`${this.name}-${this.runs.length}`);
    const fd = openTemp(file, 'w');
    try {
      const m = this.mem;
      // The records go out in key order through the staging chunk at the end of `mem` (a copy within one buffer:
      // no view made per record).
      const stage = m.length - CHUNK;
      let o = 0;
      for (const i of this.order()) {
        const at = this.offs[i] as number;
        const len = m.readUInt32LE(at);
        if (o + len > CHUNK) {
          if (o > 0) { writeTemp(fd, m, stage, o); o = 0; }
          if (len > CHUNK) { writeTemp(fd, m, at, len); continue; }
        }
        m.copyWithin(stage + o, at, at + len);
        o += len;
      }
      if (o > 0) writeTemp(fd, m, stage, o);
    } finally {
      closeSync(fd);
    }
    this.runs.push(file);
    this.n = 0;
    this.used = 0;
  }
}

interface Source {
  readonly rec: SpillRecord;
  /** Moves `rec` to the next record; false at the end. */
  next(): boolean;
  close(): void;
}

/** The records still in memory, in key order. */
class MemReader implements Source {
  readonly rec = new SpillRecord();
  private i = 0;
  constructor(private readonly mem: Buffer, private readonly offs: Uint32Array, private readonly order: Uint32Array) {}
  next(): boolean {
    if (this.i >= this.order.length) return false;
    this.rec.read(this.mem, this.offs[this.order[this.i++] as number] as number);
    return true;
  }
  close(): void { /* nothing held */ }
}

/** Reads one run back, a record at a time, in chunks: its file kept open, or (`keepOpen` false) opened per read. */
class RunReader implements Source {
  readonly rec = new SpillRecord();
  private fd: number | null;
  private done = false;
  private buf: Buffer;
  private len = 0;
  private at = 0;
  private pos = 0;

  /** `read`: bytes read at once (the buffer's size, unless a record is larger). */
  constructor(private readonly file: string, private readonly keepOpen: boolean, read: number) {
    this.buf = Buffer.allocUnsafe(read);
    this.fd = keepOpen ? openSync(file, 'r') : null;
  }

  get bufferBytes(): number { return this.buf.length; }

  next(): boolean {
    for (;;) {
      const have = this.len - this.at;
      if (have >= 4) {
        const size = this.buf.readUInt32LE(this.at);
        if (have >= size) {
          this.rec.read(this.buf, this.at);
          this.at += size;
          return true;
        }
        if (!this.fill(size)) return false;
      } else if (!this.fill(HEAD)) return false;
    }
  }

  /** Reads more, keeping the unread bytes and making room for a record of `need` bytes; false at the end of the run. */
  private fill(need: number): boolean {
    if (this.done) return false;
    const rest = this.len - this.at;
    // The current record may still be in use until next() is called: it is, so the unread bytes can move.
    const target = need > this.buf.length ? Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length)) : this.buf;
    this.buf.copy(target, 0, this.at, this.len);
    this.buf = target;
    this.at = 0;
    this.len = rest;
    const fd = this.fd ?? openSync(this.file, 'r');
    let n: number;
    try {
      n = readSync(fd, this.buf, rest, this.buf.length - rest, this.pos);
    } finally {
      if (!this.keepOpen) closeSync(fd);
    }
    this.pos += n;
    this.len += n;
    if (n === 0) { this.close(); return false; }
    return true;
  }

  close(): void {
    this.done = true;
    if (this.fd !== null) { closeSync(this.fd); this.fd = null; }
  }
}
