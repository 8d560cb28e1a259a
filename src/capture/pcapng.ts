/**
 * Incremental pcapng reader (draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump File Format").
 *
 * Blocks wholly inside a chunk are read in place; a block spanning chunks is assembled in one reusable carry buffer.
 * The RawFrame object is reused. Bad input never throws: the first damage is kept in `error`, later input ignored.
 *
 * Interface ids restart in every section (§4.1); RawFrame.interfaceId is the file-wide index of the IDB
 * (equal to the section-local id in single-section files, as Wireshark numbers interfaces).
 */
import { Carry, MAX_RECORD_BYTES, hexBytes, newRawFrame, u16be, u16le, u32be, u32le } from './pcap.js';
import type { CaptureParser } from './pcap.js';
import { CaptureError } from './types.js';
import type { CaptureErrorCode, FrameSink, RawFrame } from './types.js';

// Block types (§11.1).
const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OPB = 0x00000002; // obsolete Packet Block (Appendix A)
const SPB = 0x00000003;
const ISB = 0x00000005;
const EPB = 0x00000006;
/** Known blocks we have no use for: skipped without a warning (NRB, systemd journal, DSB, custom). */
const IGNORED = new Set([0x00000004, 0x00000009, 0x0000000a, 0x00000bad, 0x40000bad]);
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_HEAD = 12; // type, total length, first body word (the SHB byte-order magic)

const TS_DECIMAL = 0; // 10^-n, n <= 9: exact with doubles
const TS_BINARY = 1; // 2^-n, n <= 32: exact with doubles
const TS_BIGINT = 2; // anything finer: BigInt per packet

interface Iface {
  /** File-wide index of this IDB. */
  id: number;
  linkType: number;
  /** 0 = no limit (§4.2). */
  snaplen: number;
  tsMode: number;
  /** Timestamp units per second (≤ 2^32 for the double paths). */
  tsUnits: number;
  /** TS_DECIMAL: ns per unit. TS_BINARY: n. */
  tsScale: number;
  tsUnitsBig: bigint;
  /** if_tsoffset, seconds. */
  tsOffset: number;
}

export class PcapngParser implements CaptureParser {
  error: CaptureError | null = null;
  frames = 0;
  readonly linkTypes: number[] = [];
  drops: number | null = null;
  readonly warnings: string[] = [];
  readonly frame: RawFrame = newRawFrame();
  sections = 0;

  private le = true;
  /** Interfaces of the current section, by section-local id. */
  private ifaces: Iface[] = [];
  private ifaceCount = 0;
  /** Latest isb_ifdrop per file-wide interface id (ISB counters are cumulative, §4.6). */
  private readonly ifDrops: number[] = [];
  private readonly warnedTypes = new Set<number>();
  private readonly carry = new Carry();
  private base = 0;

  constructor(readonly file = '') {}

  get offset(): number {
    return this.base;
  }

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

    if (carry.len > 0) {
      if (carry.len < BLOCK_HEAD) {
        const take = Math.min(BLOCK_HEAD - carry.len, len);
        carry.append(chunk, 0, take, BLOCK_HEAD);
        pos = take;
        if (carry.len < BLOCK_HEAD) return;
      }
      const total = this.blockLength(carry.buf, 0, carry.offset);
      if (total < 0) return;
      const take = Math.min(total - carry.len, len - pos);
      carry.append(chunk, pos, take, total);
      pos += take;
      if (carry.len < total) return;
      carry.len = 0;
      if (!this.block(carry.buf, 0, total, carry.offset, sink)) return;
    }

    while (len - pos >= BLOCK_HEAD) {
      const total = this.blockLength(chunk, pos, chunkBase + pos);
      if (total < 0) return;
      if (len - pos < total) break;
      if (!this.block(chunk, pos, total, chunkBase + pos, sink)) return;
      pos += total;
    }
    if (pos >= len) return;
    let size = len - pos;
    if (size >= BLOCK_HEAD) size = this.blockLength(chunk, pos, chunkBase + pos); // checked by the loop above
    carry.offset = chunkBase + pos;
    carry.append(chunk, pos, len - pos, size);
  }

  end(): void {
    if (this.error !== null) return;
    if (this.base === 0) {
      this.fail('EMPTY', 'empty input', null);
      return;
    }
    const c = this.carry;
    if (c.len === 0) return;
    const what = c.len >= BLOCK_HEAD ? `${c.len} of ${this.blockLength(c.buf, 0, c.offset)} bytes` : `${c.len} bytes`;
    const kind = this.sections === 0 ? 'the section header block' : `a pcapng block (after frame ${this.frames})`;
    this.fail('TRUNCATED', `input ends inside ${kind} (${what})`, c.offset);
  }

  /**
   * Validates the block at b[p] (≥ 12 bytes available) and returns its total length, or -1 after recording
   * the error. An SHB sets the byte order first (§4.1).
   */
  private blockLength(b: Uint8Array, p: number, offset: number): number {
    const type = u32le(b, p); // SHB type is a palindrome; others compared after the byte order is known
    if (type === SHB) {
      const bom = u32le(b, p + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else {
        this.fail('BAD_HEADER', `section header has a bad byte-order magic (${hexBytes(b, p + 8, 4)})`, offset);
        return -1;
      }
    } else if (this.sections === 0) {
      this.fail('BAD_MAGIC', `not a pcapng file: first block is not a section header (starts with ${hexBytes(b, p, 4)})`, offset);
      return -1;
    }
    const total = this.le ? u32le(b, p + 4) : u32be(b, p + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_RECORD_BYTES) {
      const why = total < 12 ? 'less than 12' : total % 4 !== 0 ? 'not a multiple of 4' : `over the ${MAX_RECORD_BYTES}-byte limit`;
      this.fail('BAD_RECORD', `block total length ${total} is impossible (${why})`, offset);
      return -1;
    }
    return total;
  }

  /** Handles one complete block; false after recording an error. */
  private block(b: Uint8Array, p: number, total: number, offset: number, sink: FrameSink): boolean {
    const le = this.le;
    const rd = le ? u32le : u32be;
    if (rd(b, p + total - 4) !== total) {
      this.fail('BAD_RECORD', `block trailer length ${rd(b, p + total - 4)} differs from its header length ${total}`, offset);
      return false;
    }
    const type = rd(b, p);
    if (type === EPB) {
      // §4.3: interface id, timestamp (upper, lower), captured length, original length, data, options.
      if (total < 32) return this.tooShort('enhanced packet', total, 32, offset);
      const iface = this.iface(rd(b, p + 8), offset);
      if (iface === undefined) return false;
      const cap = rd(b, p + 20);
      if (cap > total - 32) return this.capTooBig(cap, total - 32, offset);
      this.deliver(iface, b, p + 28, cap, rd(b, p + 24), rd(b, p + 12), rd(b, p + 16), offset, sink);
      return true;
    }
    if (type === SPB) {
      // §4.4: interface 0, no timestamp; captured = min(original, snaplen, room in the block).
      if (total < 16) return this.tooShort('simple packet', total, 16, offset);
      const iface = this.iface(0, offset);
      if (iface === undefined) return false;
      const orig = rd(b, p + 8);
      let cap = Math.min(orig, total - 16);
      if (iface.snaplen !== 0 && iface.snaplen < cap) cap = iface.snaplen;
      this.deliverSimple(iface, b, p + 12, cap, orig, offset, sink);
      return true;
    }
    if (type === OPB) {
      // Appendix A: 16-bit interface id, 16-bit drops count, then as EPB.
      if (total < 32) return this.tooShort('packet', total, 32, offset);
      const iface = this.iface(le ? u16le(b, p + 8) : u16be(b, p + 8), offset);
      if (iface === undefined) return false;
      const cap = rd(b, p + 20);
      if (cap > total - 32) return this.capTooBig(cap, total - 32, offset);
      this.deliver(iface, b, p + 28, cap, rd(b, p + 24), rd(b, p + 12), rd(b, p + 16), offset, sink);
      return true;
    }
    if (type === SHB) return this.sectionHeader(b, p, total, offset);
    if (type === IDB) return this.interfaceDescription(b, p, total, offset);
    if (type === ISB) return this.interfaceStatistics(b, p, total, offset);
    if (!IGNORED.has(type) && !this.warnedTypes.has(type)) {
      this.warnedTypes.add(type);
      this.warnings.push(`skipped unknown pcapng block type 0x${type.toString(16).padStart(8, '0')} (first at byte ${offset})`);
    }
    return true;
  }

  private deliver(
    iface: Iface,
    b: Uint8Array,
    dataOffset: number,
    cap: number,
    wire: number,
    hi: number,
    lo: number,
    offset: number,
    sink: FrameSink,
  ): void {
    this.setTimestamp(iface, hi, lo);
    this.deliverSimple(iface, b, dataOffset, cap, wire, offset, sink);
  }

  /** Fills and hands over the frame; the timestamp fields are left as they are (SPB reuses the previous one). */
  private deliverSimple(iface: Iface, b: Uint8Array, dataOffset: number, cap: number, wire: number, offset: number, sink: FrameSink): void {
    const f = this.frame;
    f.index = ++this.frames;
    f.linkType = iface.linkType;
    f.interfaceId = iface.id;
    f.data = b;
    f.dataOffset = dataOffset;
    f.capLength = cap;
    f.wireLength = wire;
    f.fileOffset = offset;
    sink(f);
  }

  /**
   * 64-bit timestamp (hi:lo) in interface units → tsSec/tsNsec, exactly (§4.2 if_tsresol). Units per second
   * ≤ 2^32: long division in 16-bit steps keeps every intermediate below 2^53, so doubles are exact.
   */
  private setTimestamp(iface: Iface, hi: number, lo: number): void {
    const f = this.frame;
    if (iface.tsMode === TS_BIGINT) {
      const ts = (BigInt(hi) << 32n) | BigInt(lo);
      const units = iface.tsUnitsBig;
      f.tsSec = Number(ts / units) + iface.tsOffset;
      f.tsNsec = Number(((ts % units) * 1_000_000_000n) / units);
      return;
    }
    const d = iface.tsUnits;
    const q1 = Math.floor(hi / d);
    let r = hi - q1 * d;
    const x = r * 65536 + (lo >>> 16);
    const q2 = Math.floor(x / d);
    r = x - q2 * d;
    const y = r * 65536 + (lo & 0xffff);
    const q3 = Math.floor(y / d);
    r = y - q3 * d;
    f.tsSec = q1 * 4294967296 + q2 * 65536 + q3 + iface.tsOffset;
    if (iface.tsMode === TS_DECIMAL) f.tsNsec = r * iface.tsScale;
    else {
      // r / 2^n s in ns, rounded down: r·10^9 / 2^n = r·1953125 / 2^(n-9); r·1953125 < 2^53 for n ≤ 32.
      const n = iface.tsScale;
      f.tsNsec = n <= 9 ? r * (1_000_000_000 / d) : Math.floor((r * 1953125) / 2 ** (n - 9));
    }
  }

  private iface(id: number, offset: number): Iface | undefined {
    const iface = this.ifaces[id];
    if (iface === undefined) {
      this.fail(
        'BAD_RECORD',
        `packet refers to interface ${id}, but section ${this.sections} defines ${this.ifaces.length} interface(s)`,
        offset,
      );
    }
    return iface;
  }

  /** §4.1: byte-order magic (checked in blockLength), version 1.x, section length, options. */
  private sectionHeader(b: Uint8Array, p: number, total: number, offset: number): boolean {
    if (total < 28) {
      this.fail('BAD_HEADER', `section header block is ${total} bytes (at least 28)`, offset);
      return false;
    }
    const u16 = this.le ? u16le : u16be;
    const major = u16(b, p + 12);
    const minor = u16(b, p + 14);
    if (major !== 1) {
      this.fail('BAD_HEADER', `unsupported pcapng version ${major}.${minor} (expected 1.0)`, offset);
      return false;
    }
    this.sections++;
    this.ifaces = [];
    return true;
  }

  /** §4.2: link type, reserved, snaplen, options (if_tsresol = 9, if_tsoffset = 14). */
  private interfaceDescription(b: Uint8Array, p: number, total: number, offset: number): boolean {
    if (total < 20) return this.tooShort('interface description', total, 20, offset);
    const le = this.le;
    const linkType = le ? u16le(b, p + 8) : u16be(b, p + 8);
    const iface: Iface = {
      id: this.ifaceCount,
      linkType,
      snaplen: le ? u32le(b, p + 12) : u32be(b, p + 12),
      tsMode: TS_DECIMAL,
      tsUnits: 1_000_000,
      tsScale: 1000,
      tsUnitsBig: 1_000_000n,
      tsOffset: 0,
    };
    let resol = 6;
    for (let o = p + 16; o + 4 <= p + total - 4; ) {
      const code = le ? u16le(b, o) : u16be(b, o);
      const olen = le ? u16le(b, o + 2) : u16be(b, o + 2);
      if (code === 0 || o + 4 + olen > p + total - 4) break; // opt_endofopt, or an option overrunning the block
      if (code === 9 && olen >= 1) resol = b[o + 4]!;
      else if (code === 14 && olen >= 8) {
        const hi = le ? u32le(b, o + 8) : u32be(b, o + 4);
        const lo = le ? u32le(b, o + 4) : u32be(b, o + 8);
        iface.tsOffset = (hi | 0) * 4294967296 + lo; // signed 64-bit seconds
      }
      o += 4 + ((olen + 3) & ~3);
    }
    const n = resol & 0x7f;
    if ((resol & 0x80) === 0) {
      iface.tsUnitsBig = 10n ** BigInt(n);
      if (n <= 9) {
        iface.tsUnits = 10 ** n;
        iface.tsScale = 10 ** (9 - n);
      } else iface.tsMode = TS_BIGINT;
    } else {
      iface.tsUnitsBig = 1n << BigInt(n);
      if (n <= 32) {
        iface.tsMode = TS_BINARY;
        iface.tsUnits = 2 ** n;
        iface.tsScale = n;
      } else iface.tsMode = TS_BIGINT;
    }
    this.ifaces.push(iface);
    this.ifaceCount++;
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
    return true;
  }

  /** §4.6: interface id, timestamp, options; isb_ifdrop (code 5, u64) is cumulative per interface. */
  private interfaceStatistics(b: Uint8Array, p: number, total: number, offset: number): boolean {
    if (total < 24) return this.tooShort('interface statistics', total, 24, offset);
    const le = this.le;
    const iface = this.iface(le ? u32le(b, p + 8) : u32be(b, p + 8), offset);
    if (iface === undefined) return false;
    for (let o = p + 20; o + 4 <= p + total - 4; ) {
      const code = le ? u16le(b, o) : u16be(b, o);
      const olen = le ? u16le(b, o + 2) : u16be(b, o + 2);
      if (code === 0 || o + 4 + olen > p + total - 4) break;
      if (code === 5 && olen >= 8) {
        const hi = le ? u32le(b, o + 8) : u32be(b, o + 4);
        const lo = le ? u32le(b, o + 4) : u32be(b, o + 8);
        this.ifDrops[iface.id] = hi * 4294967296 + lo;
        let sum = 0;
        for (const d of this.ifDrops) if (d !== undefined) sum += d;
        this.drops = sum;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    return true;
  }

  private tooShort(what: string, total: number, min: number, offset: number): false {
    this.fail('BAD_RECORD', `${what} block is ${total} bytes (at least ${min})`, offset);
    return false;
  }

  private capTooBig(cap: number, room: number, offset: number): false {
    this.fail('BAD_RECORD', `packet claims ${cap} captured bytes but its block holds ${room}`, offset);
    return false;
  }

  private fail(code: CaptureErrorCode, message: string, offset: number | null): void {
    this.error = new CaptureError(code, message, this.file, offset);
    this.carry.release();
  }
}
