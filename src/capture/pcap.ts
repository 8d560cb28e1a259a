/**
 * Incremental classic pcap reader (draft-ietf-opsawg-pcap; https://www.tcpdump.org/manpages/pcap-savefile.5.html).
 *
 * push() takes chunks of any size. Records wholly inside a chunk are delivered in place (frame.data is the chunk);
 * a record spanning chunks is assembled in one reusable carry buffer. The RawFrame object is reused for every frame.
 * Bad input never throws: the first damage is kept in `error` and later input is ignored.
 */
import { CaptureError } from './types.js';
import type { CaptureErrorCode, FrameSink, RawFrame } from './types.js';

/** Hard cap on one record or block, whatever the header claims (keeps memory bounded on corrupt lengths). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** libpcap accepts records up to its own maximum snaplen even when the header's snaplen is smaller. */
export const MIN_RECORD_BOUND = 256 * 1024;

const FILE_HEADER = 24;
/** µs and ns magics as read big-endian from the first 4 bytes. */
const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];
const RECORD_HEADER = 16;

/** What open.ts needs from a file parser (classic pcap or pcapng). */
export interface CaptureParser {
  /** First damage found; once set, push() ignores input. */
  readonly error: CaptureError | null;
  /** Frames delivered so far. */
  readonly frames: number;
  /** Distinct link types in order of appearance (same array for the parser's lifetime). */
  readonly linkTypes: number[];
  /** Dropped-packet count reported by the capture, or null. */
  readonly drops: number | null;
  readonly warnings: string[];
  /** Bytes pushed so far (offset in the decompressed stream). */
  readonly offset: number;
  push(chunk: Uint8Array, sink: FrameSink): void;
  /** Input is over: a partial header/record becomes TRUNCATED. */
  end(): void;
}

export function newRawFrame(): RawFrame {
  return {
    index: 0,
    tsSec: 0,
    tsNsec: 0,
    linkType: 0,
    interfaceId: 0,
    data: new Uint8Array(0),
    dataOffset: 0,
    capLength: 0,
    wireLength: 0,
    fileOffset: 0,
  };
}

/** Growing byte buffer for a record that spans chunks; never shrinks, grows only to a validated length. */
export class Carry {
  buf = new Uint8Array(0);
  len = 0;
  /** Stream offset of buf[0]. */
  offset = 0;

  /** Appends src[from, from+n); `capacity` is the final size of the item being assembled (already validated). */
  append(src: Uint8Array, from: number, n: number, capacity: number): void {
    const need = this.len + n;
    if (need > this.buf.length) {
      // Grow geometrically (from 64 KiB) up to the item's validated size: a spanning record reallocates a few
      // times, and a header claiming a huge item costs memory only as its bytes actually arrive.
      const grown = new Uint8Array(Math.max(need, 65536, Math.min(capacity, 2 * this.buf.length)));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(src.subarray(from, from + n), this.len);
    this.len = need;
  }

  release(): void {
    this.buf = new Uint8Array(0);
    this.len = 0;
  }
}

export function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
export function u32be(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}
export function u16le(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8);
}
export function u16be(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

export function hexBytes(b: Uint8Array, from: number, n: number): string {
  const out: string[] = [];
  for (let i = from; i < from + n && i < b.length; i++) out.push(b[i]!.toString(16).padStart(2, '0'));
  return out.join(' ');
}

export class PcapParser implements CaptureParser {
  error: CaptureError | null = null;
  frames = 0;
  readonly linkTypes: number[] = [];
  readonly drops: number | null = null;
  readonly warnings: string[] = [];
  /** Reused for every frame. */
  readonly frame: RawFrame = newRawFrame();

  /** From the file header (valid once `headerDone`). */
  headerDone = false;
  littleEndian = true;
  nanosecond = false;
  versionMajor = 0;
  versionMinor = 0;
  snaplen = 0;
  linkType = -1;
  /** Largest acceptable captured length: max(snaplen, 256 KiB), capped at 64 MiB. */
  maxCapLength = 0;

  private readonly carry = new Carry();
  private base = 0;

  constructor(readonly file = '') {}

  get offset(): number {
    return this.base;
  }

  /** Size of the carry buffer (tests check that memory stays bounded). */
  get carryCapacity(): number {
    return this.carry.buf.length;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    const len = chunk.length;
    const chunkBase = this.base;
    this.base += len;
    if (this.error !== null || len === 0) return;
    const carry = this.carry;
    let pos = 0;

    if (!this.headerDone) {
      if (carry.len === 0 && len >= FILE_HEADER) {
        if (!this.readFileHeader(chunk, 0)) return;
        pos = FILE_HEADER;
      } else {
        const take = Math.min(FILE_HEADER - carry.len, len);
        carry.append(chunk, 0, take, FILE_HEADER);
        pos = take;
        if (carry.len < FILE_HEADER) return;
        carry.len = 0;
        if (!this.readFileHeader(carry.buf, 0)) return;
      }
    }

    if (carry.len > 0) {
      // Finish the record that started in an earlier chunk.
      if (carry.len < RECORD_HEADER) {
        const take = Math.min(RECORD_HEADER - carry.len, len - pos);
        carry.append(chunk, pos, take, RECORD_HEADER);
        pos += take;
        if (carry.len < RECORD_HEADER) return;
      }
      const cap = this.littleEndian ? u32le(carry.buf, 8) : u32be(carry.buf, 8);
      if (cap > this.maxCapLength) {
        this.badLength(cap, carry.offset);
        return;
      }
      const need = RECORD_HEADER + cap;
      const take = Math.min(need - carry.len, len - pos);
      carry.append(chunk, pos, take, need);
      pos += take;
      if (carry.len < need) return;
      carry.len = 0;
      this.emit(carry.buf, 0, carry.offset, sink);
    }

    pos = this.littleEndian ? this.scanLE(chunk, pos, chunkBase, sink) : this.scanBE(chunk, pos, chunkBase, sink);
    if (this.error !== null || pos >= len) return;
    // Keep the partial record. Its length is known (and already checked) when its header is complete.
    let size = len - pos;
    if (size >= RECORD_HEADER) size = RECORD_HEADER + (this.littleEndian ? u32le(chunk, pos + 8) : u32be(chunk, pos + 8));
    carry.offset = chunkBase + pos;
    carry.append(chunk, pos, len - pos, size);
  }

  end(): void {
    if (this.error !== null) return;
    if (!this.headerDone) {
      const c = this.carry;
      if (this.base === 0) this.fail('EMPTY', 'empty input', null);
      else if (c.len >= 4 && !PCAP_MAGICS.includes(u32be(c.buf, 0))) this.readFileHeader(c.buf, 0); // BAD_MAGIC
      else this.fail('TRUNCATED', `input ends inside the pcap file header (${this.carry.len} of ${FILE_HEADER} bytes)`, 0);
      return;
    }
    const c = this.carry;
    if (c.len > 0) {
      const want =
        c.len >= RECORD_HEADER
          ? `${RECORD_HEADER + (this.littleEndian ? u32le(c.buf, 8) : u32be(c.buf, 8))} bytes`
          : `a ${RECORD_HEADER}-byte record header`;
      this.fail('TRUNCATED', `input ends inside record ${this.frames + 1} (${c.len} bytes of ${want})`, c.offset);
    }
  }

  // Hot loops: one per byte order so the reads stay monomorphic and inlinable.
  private scanLE(b: Uint8Array, pos: number, chunkBase: number, sink: FrameSink): number {
    const len = b.length;
    const f = this.frame;
    const maxCap = this.maxCapLength;
    const fracMul = this.nanosecond ? 1 : 1000;
    while (len - pos >= RECORD_HEADER) {
      const cap = (b[pos + 8]! | (b[pos + 9]! << 8) | (b[pos + 10]! << 16) | (b[pos + 11]! << 24)) >>> 0;
      if (cap > maxCap) {
        this.badLength(cap, chunkBase + pos);
        return pos;
      }
      const next = pos + RECORD_HEADER + cap;
      if (next > len) break;
      let sec = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
      let frac = ((b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0) * fracMul;
      if (frac >= 1e9) {
        sec += Math.floor(frac / 1e9);
        frac %= 1e9;
      }
      f.index = ++this.frames;
      f.tsSec = sec;
      f.tsNsec = frac;
      f.data = b;
      f.dataOffset = pos + RECORD_HEADER;
      f.capLength = cap;
      f.wireLength = (b[pos + 12]! | (b[pos + 13]! << 8) | (b[pos + 14]! << 16) | (b[pos + 15]! << 24)) >>> 0;
      f.fileOffset = chunkBase + pos;
      sink(f);
      pos = next;
    }
    return pos;
  }

  private scanBE(b: Uint8Array, pos: number, chunkBase: number, sink: FrameSink): number {
    const len = b.length;
    const f = this.frame;
    const maxCap = this.maxCapLength;
    const fracMul = this.nanosecond ? 1 : 1000;
    while (len - pos >= RECORD_HEADER) {
      const cap = ((b[pos + 8]! << 24) | (b[pos + 9]! << 16) | (b[pos + 10]! << 8) | b[pos + 11]!) >>> 0;
      if (cap > maxCap) {
        this.badLength(cap, chunkBase + pos);
        return pos;
      }
      const next = pos + RECORD_HEADER + cap;
      if (next > len) break;
      let sec = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
      let frac = (((b[pos + 4]! << 24) | (b[pos + 5]! << 16) | (b[pos + 6]! << 8) | b[pos + 7]!) >>> 0) * fracMul;
      if (frac >= 1e9) {
        sec += Math.floor(frac / 1e9);
        frac %= 1e9;
      }
      f.index = ++this.frames;
      f.tsSec = sec;
      f.tsNsec = frac;
      f.data = b;
      f.dataOffset = pos + RECORD_HEADER;
      f.capLength = cap;
      f.wireLength = ((b[pos + 12]! << 24) | (b[pos + 13]! << 16) | (b[pos + 14]! << 8) | b[pos + 15]!) >>> 0;
      f.fileOffset = chunkBase + pos;
      sink(f);
      pos = next;
    }
    return pos;
  }

  /** One record assembled in the carry buffer (rare path). */
  private emit(b: Uint8Array, pos: number, fileOffset: number, sink: FrameSink): void {
    const rd = this.littleEndian ? u32le : u32be;
    let sec = rd(b, pos);
    let frac = rd(b, pos + 4) * (this.nanosecond ? 1 : 1000);
    if (frac >= 1e9) {
      sec += Math.floor(frac / 1e9);
      frac %= 1e9;
    }
    const f = this.frame;
    f.index = ++this.frames;
    f.tsSec = sec;
    f.tsNsec = frac;
    f.data = b;
    f.dataOffset = pos + RECORD_HEADER;
    f.capLength = rd(b, pos + 8);
    f.wireLength = rd(b, pos + 12);
    f.fileOffset = fileOffset;
    sink(f);
  }

  /** File header: magic, version, snaplen, link type (draft-ietf-opsawg-pcap §4). */
  private readFileHeader(b: Uint8Array, p: number): boolean {
    const m = u32be(b, p);
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) this.littleEndian = false;
    else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) this.littleEndian = true;
    else {
      this.fail('BAD_MAGIC', `not a classic pcap file (starts with ${hexBytes(b, p, 4)})`, 0);
      return false;
    }
    this.nanosecond = m === 0xa1b23c4d || m === 0x4d3cb2a1;
    const u16 = this.littleEndian ? u16le : u16be;
    const rd = this.littleEndian ? u32le : u32be;
    this.versionMajor = u16(b, p + 4);
    this.versionMinor = u16(b, p + 6);
    // libpcap reads 2.x (2.4 is current); 1.x predates 1998 and anything else is not pcap.
    if (this.versionMajor !== 2) {
      this.fail('BAD_HEADER', `unsupported pcap version ${this.versionMajor}.${this.versionMinor} (expected 2.4)`, 4);
      return false;
    }
    this.snaplen = rd(b, p + 16);
    // LINKTYPE_* is the low 16 bits; the upper 16 hold the FCS length/flag and reserved bits, which readers
    // must ignore (draft-ietf-opsawg-pcap §4, libpcap LT_LINKTYPE()).
    this.linkType = rd(b, p + 20) & 0xffff;
    // snaplen 0 (some writers) or absurd values: the sanity bound still applies.
    this.maxCapLength = Math.min(Math.max(this.snaplen, MIN_RECORD_BOUND), MAX_RECORD_BYTES);
    this.frame.linkType = this.linkType;
    this.frame.interfaceId = 0;
    this.linkTypes.push(this.linkType);
    this.headerDone = true;
    return true;
  }

  private badLength(cap: number, offset: number): void {
    this.fail(
      'BAD_RECORD',
      `record ${this.frames + 1} claims ${cap} captured bytes, more than possible (snaplen ${this.snaplen}, limit ${this.maxCapLength})`,
      offset,
    );
  }

  private fail(code: CaptureErrorCode, message: string, offset: number | null): void {
    this.error = new CaptureError(code, message, this.file, offset);
    this.carry.release();
  }
}
