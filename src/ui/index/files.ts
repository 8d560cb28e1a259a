/**
 * The index's two file shapes: text appended a line at a time (buffered, its byte offsets returned), and arrays of
 * 64-bit floats appended and read back by position (fixed-size records: position i at byte 8·i), each read through
 * a small block cache.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { lineSpans } from '../../analyze/lines.js';
import { openTemp, writeTemp } from '../../analyze/temp-dir.js';

const WRITE_CHUNK = 1 << 16;

/** Text lines written to a file in order; `offset` is where the next line starts. */
export class LineWriter {
  private fd: number;
  private buf: string[] = [];
  private pending = 0;
  offset = 0;

  constructor(readonly path: string) {
    this.fd = openTemp(path, 'w');
  }

  /** Appends `line` (no newline in it) and a newline; returns the byte offset it starts at. */
  add(line: string): number {
    const at = this.offset;
    const s = `${line}\n`;
    this.offset += Buffer.byteLength(s);
    this.buf.push(s);
    this.pending += s.length;
    if (this.pending >= WRITE_CHUNK) this.flush();
    return at;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.buf.length > 0) { const b = Buffer.from(this.buf.join('')); writeTemp(this.fd, b, 0, b.length); }
    this.buf = [];
    this.pending = 0;
  }
}

/** Float64 values appended in order (position i at byte 8·i). */
export class F64Writer {
  private fd: number;
  private readonly buf = new Float64Array(WRITE_CHUNK / 8);
  private n = 0;
  count = 0;

  constructor(readonly path: string) {
    this.fd = openTemp(path, 'w');
  }

  add(v: number): void {
    this.buf[this.n++] = v;
    this.count++;
    if (this.n === this.buf.length) this.flush();
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.n > 0) writeTemp(this.fd, new Uint8Array(this.buf.buffer), 0, this.n * 8);
    this.n = 0;
  }
}

const BLOCK = 512; // values per cached block (4 KiB)

/** Reads Float64 values by position from a file written by F64Writer; a few blocks cached. */
export class F64Reader {
  private fd: number;
  private readonly blocks = new Map<number, Float64Array>();

  constructor(readonly path: string, readonly count: number, private readonly maxBlocks = 16) {
    this.fd = openSync(path, 'r');
  }

  get(i: number): number {
    if (i < 0 || i >= this.count) return NaN;
    const b = Math.floor(i / BLOCK);
    let block = this.blocks.get(b);
    if (block === undefined) {
      block = new Float64Array(BLOCK);
      readSync(this.fd, new Uint8Array(block.buffer), 0, BLOCK * 8, b * BLOCK * 8);
      if (this.blocks.size >= this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value as number);
      this.blocks.set(b, block);
    } else {
      this.blocks.delete(b);
      this.blocks.set(b, block); // most recently used last
    }
    return block[i - b * BLOCK]!;
  }

  /** Values [from, to) in order, a block at a time (a sequential pass, not cached). */
  *range(from: number, to: number): Generator<Float64Array> {
    const chunk = new Float64Array(BLOCK * 16);
    for (let at = Math.max(0, from); at < Math.min(to, this.count);) {
      const n = Math.min(chunk.length, Math.min(to, this.count) - at);
      const got = readSync(this.fd, new Uint8Array(chunk.buffer), 0, n * 8, at * 8);
      if (got <= 0) return;
      yield chunk.subarray(0, got / 8);
      at += got / 8;
    }
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
}

/** Reads byte ranges (one line each) from a file written by LineWriter. */
export class LineReader {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  /** The text in [from, to) (a line without its newline when `to` is the next line's offset minus 1). */
  read(from: number, to: number): string {
    const b = Buffer.allocUnsafe(Math.max(0, to - from));
    let at = 0;
    while (at < b.length) {
      const n = readSync(this.fd, b, at, b.length - at, from + at);
      if (n <= 0) break;
      at += n;
    }
    return b.toString('utf8', 0, at);
  }

  /** Every line in order, read in chunks (a sequential pass; a line split by a chunk is joined as bytes). */
  *lines(): Generator<string> {
    for (const l of lineSpans(this.fd)) yield l.buf.toString('utf8', l.at, l.end);
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
}
