/**
 * Classic pcap writer (https://www.tcpdump.org/manpages/pcap-savefile.5.html): µs (A1B2C3D4) or ns (A1B23C4D)
 * magic, either byte order. Records are batched in one reused 64 KiB buffer and flushed synchronously to an fd,
 * a Node writable, or a callback. `PcapWriter.toBuffer()` builds a whole file in memory (tests).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RawFrame } from './types.js';

export interface PcapWriterOptions {
  /** LINKTYPE_* (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length written in the header; longer frames are cut to it (default 262144). */
  snaplen?: number;
  /** Nanosecond timestamps (magic A1B23C4D) instead of microseconds. */
  nanosecond?: boolean;
  /** Write big-endian (default little-endian). */
  bigEndian?: boolean;
}

/** Where bytes go: a file descriptor (written with writeSync), a writable stream, or a callback. */
export type PcapOutput = number | { write(chunk: Uint8Array): unknown } | ((chunk: Uint8Array) => void);

export interface PcapFrameInput {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  /** Original length; defaults to data.length. */
  wireLength?: number;
}

const BATCH = 64 * 1024;

export class PcapWriter {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly littleEndian: boolean;
  framesWritten = 0;
  bytesWritten = 0;

  private readonly buf = Buffer.allocUnsafe(BATCH);
  private len = 0;
  private closed = false;
  private ownedFd: number | null = null;

  constructor(
    private readonly out: PcapOutput,
    opts: PcapWriterOptions = {},
  ) {
    this.linkType = opts.linkType ?? 1;
    this.snaplen = opts.snaplen ?? 262144;
    this.nanosecond = opts.nanosecond ?? false;
    this.littleEndian = !(opts.bigEndian ?? false);
    const h = PcapWriter.fileHeader(opts);
    h.copy(this.buf, 0);
    this.len = h.length;
  }

  /** The 24-byte file header for these options. */
  static fileHeader(opts: PcapWriterOptions = {}): Buffer {
    const h = Buffer.alloc(24);
    const le = !(opts.bigEndian ?? false);
    const w32 = (v: number, p: number): number => (le ? h.writeUInt32LE(v >>> 0, p) : h.writeUInt32BE(v >>> 0, p));
    const w16 = (v: number, p: number): number => (le ? h.writeUInt16LE(v, p) : h.writeUInt16BE(v, p));
    w32(opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    w16(2, 4);
    w16(4, 6);
    w32(0, 8); // thiszone
    w32(0, 12); // sigfigs
    w32(opts.snaplen ?? 262144, 16);
    w32(opts.linkType ?? 1, 20);
    return h;
  }

  /** A whole pcap file in memory. */
  static toBuffer(frames: Iterable<PcapFrameInput>, opts: PcapWriterOptions = {}): Buffer {
    const parts: Buffer[] = [];
    const w = new PcapWriter((c) => parts.push(Buffer.from(c.buffer, c.byteOffset, c.length)), opts);
    for (const f of frames) w.writeFrame(f.tsSec, f.tsNsec, f.data, f.wireLength);
    w.close();
    return Buffer.concat(parts);
  }

  /** Creates (truncates) `path` and writes to it synchronously; close() closes the file. */
  static createFile(path: string, opts: PcapWriterOptions = {}): PcapWriter {
    const fd = openSync(path, 'w');
    const w = new PcapWriter(fd, opts);
    w.ownedFd = fd;
    return w;
  }

  /** Appends one record; `bytes` beyond the snaplen are cut (wireLength keeps the original length). */
  writeFrame(tsSec: number, tsNsec: number, bytes: Uint8Array, wireLength: number = bytes.length): void {
    this.writeRecord(tsSec, tsNsec, bytes, 0, bytes.length, wireLength);
  }

  /** Appends a frame from a reader without copying it out first. */
  writeRawFrame(f: RawFrame): void {
    this.writeRecord(f.tsSec, f.tsNsec, f.data, f.dataOffset, f.capLength, f.wireLength);
  }

  private writeRecord(tsSec: number, tsNsec: number, src: Uint8Array, from: number, n: number, wire: number): void {
    if (this.closed) throw new Error('PcapWriter: write after close');
    const cap = Math.min(n, this.snaplen);
    if (this.len + 16 > BATCH) this.flush();
    const b = this.buf;
    const p = this.len;
    const frac = this.nanosecond ? tsNsec : Math.floor(tsNsec / 1000);
    if (this.littleEndian) {
      b.writeUInt32LE(tsSec >>> 0, p);
      b.writeUInt32LE(frac >>> 0, p + 4);
      b.writeUInt32LE(cap, p + 8);
      b.writeUInt32LE(wire >>> 0, p + 12);
    } else {
      b.writeUInt32BE(tsSec >>> 0, p);
      b.writeUInt32BE(frac >>> 0, p + 4);
      b.writeUInt32BE(cap, p + 8);
      b.writeUInt32BE(wire >>> 0, p + 12);
    }
    this.len += 16;
    const bytes = src.subarray(from, from + cap);
    if (this.len + cap <= BATCH) {
      b.set(bytes, this.len);
      this.len += cap;
    } else {
      this.flush();
      this.emit(bytes);
    }
    this.framesWritten++;
  }

  /** Writes out buffered bytes. */
  flush(): void {
    if (this.len === 0) return;
    this.emit(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  /** Flushes; closes the file if createFile() opened it. Streams are left open for their owner. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.ownedFd !== null) closeSync(this.ownedFd);
  }

  private emit(bytes: Uint8Array): void {
    const out = this.out;
    if (typeof out === 'number') {
      let off = 0;
      while (off < bytes.length) off += writeSync(out, bytes, off, bytes.length - off);
    } else {
      // Our batch buffer and the caller's frame bytes are reused: streams and callbacks get a copy.
      const copy = Buffer.from(bytes);
      if (typeof out === 'function') out(copy);
      else out.write(copy);
    }
    this.bytesWritten += bytes.length;
  }
}
