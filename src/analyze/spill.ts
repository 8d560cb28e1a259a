import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';

/** A record of a SortedSpill: four numeric sort keys and a line of text (no newline). */
export interface SpillRecord { k0: number; k1: number; k2: number; k3: number; line: string }

function before(a: SpillRecord, b: SpillRecord): boolean {
  return a.k0 < b.k0 || (a.k0 === b.k0 && (a.k1 < b.k1 || (a.k1 === b.k1 && (a.k2 < b.k2 || (a.k2 === b.k2 && a.k3 < b.k3)))));
}
const order = (a: SpillRecord, b: SpillRecord): number => (before(a, b) ? -1 : before(b, a) ? 1 : 0);

/** Text held in memory before a sorted run goes to disk: 16 M characters, less in a small heap (a 16th of it). */
const RUN_CHARS = Math.min(16 << 20, Math.floor(getHeapStatistics().heap_size_limit / 16));
/** Bytes read at once from a run (one buffer per run while they merge). */
const READ_CHUNK = 1 << 16;

/**
 * An external sort of text lines by four numeric keys, in bounded memory: records gather in memory up to RUN_CHARS
 * characters, are sorted and written as a run to a private temporary directory (mode 0700, files 0600); sorted()
 * merges the runs and the records still in memory. Records with equal keys come out in the order they were added.
 * close() removes the directory (also at process exit).
 */
export class SortedSpill {
  private mem: SpillRecord[] = [];
  private chars = 0;
  private dir: string | null = null;
  private readonly runs: string[] = [];
  /** Records added. */
  size = 0;
  /** Sorted runs written to disk. */
  get runCount(): number { return this.runs.length; }

  constructor(private readonly name: string, private readonly runChars: number = RUN_CHARS) {}

  add(k0: number, k1: number, k2: number, k3: number, line: string): void {
    this.mem.push({ k0, k1, k2, k3, line });
    this.size++;
    this.chars += line.length + 40;
    if (this.chars >= this.runChars) this.flush();
  }

  /**
   * Every record, in key order (a record is a fresh object per call; read it, do not keep it). The runs and what is
   * in memory merge through a heap on their heads: O(log runs) per record, a read buffer of READ_CHUNK per run.
   */
  *sorted(): Generator<SpillRecord> {
    const mem = this.mem.sort(order); // stable: equal keys keep their arrival order
    const sources: RunReader[] = this.runs.map((f) => new RunReader(f));
    let m = 0;
    // Heap of [record, source]; the source in memory is sources.length. On equal keys the older source goes first.
    const heap: [SpillRecord, number][] = [];
    const less = (a: [SpillRecord, number], b: [SpillRecord, number]): boolean => before(a[0], b[0]) || (!before(b[0], a[0]) && a[1] < b[1]);
    const push = (x: [SpillRecord, number]): void => {
      let i = heap.length;
      heap.push(x);
      while (i > 0) { const up = (i - 1) >> 1; if (!less(x, heap[up] as [SpillRecord, number])) break; heap[i] = heap[up] as [SpillRecord, number]; i = up; }
      heap[i] = x;
    };
    const pop = (): [SpillRecord, number] => {
      const top = heap[0] as [SpillRecord, number];
      const last = heap.pop() as [SpillRecord, number];
      if (heap.length > 0) {
        let i = 0;
        for (;;) {
          let k = 2 * i + 1;
          if (k >= heap.length) break;
          if (k + 1 < heap.length && less(heap[k + 1] as [SpillRecord, number], heap[k] as [SpillRecord, number])) k++;
          if (!less(heap[k] as [SpillRecord, number], last)) break;
          heap[i] = heap[k] as [SpillRecord, number];
          i = k;
        }
        heap[i] = last;
      }
      return top;
    };
    try {
      sources.forEach((src, i) => { const r = src.next(); if (r !== null) push([r, i]); });
      if (mem.length > 0) push([mem[m++] as SpillRecord, sources.length]);
      while (heap.length > 0) {
        const [rec, i] = pop();
        const nextRec = i === sources.length ? (m < mem.length ? mem[m++] as SpillRecord : null) : (sources[i] as RunReader).next();
        if (nextRec !== null) push([nextRec, i]);
        yield rec;
      }
    } finally {
      for (const s of sources) s.close();
    }
  }

  close(): void {
    this.mem = [];
    if (this.dir !== null) { rmSync(this.dir, { recursive: true, force: true }); spillDirs.delete(this.dir); this.dir = null; }
  }

  private flush(): void {
    if (this.dir === null) { this.dir = mkdtempSync(join(tmpdir(), 'teardown-')); spillDirs.add(this.dir); }
    const file = join(this.dir, `${this.name}-${this.runs.length}`);
    const fd = openSync(file, 'w', 0o600);
    try {
      let buf = '';
      for (const r of this.mem.sort(order)) {
        buf += `${r.k0}\t${r.k1}\t${r.k2}\t${r.k3}\t${r.line}\n`;
        if (buf.length > READ_CHUNK) { writeSync(fd, buf); buf = ''; }
      }
      writeSync(fd, buf);
    } finally {
      closeSync(fd);
    }
    this.runs.push(file);
    this.mem = [];
    this.chars = 0;
  }
}

/** Directories of spills not closed yet: removed when the process exits however it ends. */
const spillDirs = new Set<string>();
process.once('exit', () => { for (const d of spillDirs) rmSync(d, { recursive: true, force: true }); });

/** Reads one run back, a line at a time, in chunks. */
class RunReader {
  private fd: number | null;
  private buf = Buffer.alloc(0);
  private at = 0;
  private pos = 0;
  private eof = false;

  constructor(file: string) { this.fd = openSync(file, 'r'); }

  next(): SpillRecord | null {
    for (;;) {
      const nl = this.buf.indexOf(10, this.at);
      if (nl >= 0) {
        const line = this.buf.toString('utf8', this.at, nl);
        this.at = nl + 1;
        const t0 = line.indexOf('\t');
        const t1 = line.indexOf('\t', t0 + 1);
        const t2 = line.indexOf('\t', t1 + 1);
        const t3 = line.indexOf('\t', t2 + 1);
        return {
          k0: +line.slice(0, t0), k1: +line.slice(t0 + 1, t1), k2: +line.slice(t1 + 1, t2), k3: +line.slice(t2 + 1, t3),
          line: line.slice(t3 + 1),
        };
      }
      if (this.eof || this.fd === null) return null;
      const rest = this.buf.subarray(this.at);
      const chunk = Buffer.allocUnsafe(Math.max(READ_CHUNK, rest.length * 2));
      rest.copy(chunk, 0);
      const n = readSync(this.fd, chunk, rest.length, chunk.length - rest.length, this.pos);
      this.pos += n;
      if (n === 0) this.eof = true;
      this.buf = chunk.subarray(0, rest.length + n);
      this.at = 0;
    }
  }

  close(): void {
    if (this.fd !== null) { closeSync(this.fd); this.fd = null; }
  }
}
