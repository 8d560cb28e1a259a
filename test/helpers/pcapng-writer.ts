/**
 * A small pcapng builder for tests (draft-ietf-opsawg-pcapng): SHB in either byte order (several sections), IDB
 * with options, EPB, SPB, OPB, ISB, arbitrary blocks, and overrides to corrupt lengths. Every block's start
 * offset is recorded in `offsets` so tests can assert error positions.
 */

export interface PcapngOption {
  code: number;
  /** Raw value bytes (already in the section's byte order). */
  value: Uint8Array;
}

/** Corruptions applied to a block as it is written. */
export interface BlockOverrides {
  /** Value written in the leading block-total-length field instead of the real length. */
  totalLength?: number;
  /** Value written in the trailing copy instead of the real length. */
  trailerLength?: number;
}

export interface ShbOptions extends BlockOverrides {
  bigEndian?: boolean;
  major?: number;
  minor?: number;
  /** Raw bytes for the byte-order magic field (corruption). */
  byteOrderMagic?: Uint8Array;
  options?: PcapngOption[];
}

export interface IdbOptions extends BlockOverrides {
  snaplen?: number;
  /** Raw if_tsresol byte: n → 10^-n, 0x80|n → 2^-n. */
  tsresol?: number;
  /** if_tsoffset in seconds (signed 64-bit). */
  tsoffset?: bigint | number;
  options?: PcapngOption[];
}

export interface PacketOptions extends BlockOverrides {
  /** Captured length field (defaults to data.length). */
  capLength?: number;
  /** Original length field (defaults to data.length). */
  origLength?: number;
  options?: PcapngOption[];
}

export class PcapngBuilder {
  /** Start offset of every block (or raw piece) in order. */
  readonly offsets: number[] = [];
  private readonly parts: Buffer[] = [];
  private size = 0;
  private le = true;

  get length(): number {
    return this.size;
  }

  /** Offset the next block will start at. */
  get nextOffset(): number {
    return this.size;
  }

  shb(o: ShbOptions = {}): this {
    this.le = !(o.bigEndian ?? false);
    const body = Buffer.alloc(16);
    if (o.byteOrderMagic) Buffer.from(o.byteOrderMagic).copy(body, 0);
    else this.w32(body, 0x1a2b3c4d, 0);
    this.w16(body, o.major ?? 1, 4);
    this.w16(body, o.minor ?? 0, 6);
    body.fill(0xff, 8, 16); // section length -1: not specified
    return this.block(0x0a0d0d0a, Buffer.concat([body, this.opts(o.options)]), o);
  }

  idb(linkType: number, o: IdbOptions = {}): this {
    const body = Buffer.alloc(8);
    this.w16(body, linkType, 0);
    this.w32(body, o.snaplen ?? 0, 4);
    const options = [...(o.options ?? [])];
    if (o.tsresol !== undefined) options.push({ code: 9, value: Uint8Array.of(o.tsresol) });
    if (o.tsoffset !== undefined) options.push({ code: 14, value: this.u64(BigInt(o.tsoffset)) });
    return this.block(1, Buffer.concat([body, this.opts(options)]), o);
  }

  /** Enhanced Packet Block; `ts` in the interface's units. */
  epb(ifid: number, ts: bigint | number, data: Uint8Array, o: PacketOptions = {}): this {
    const head = Buffer.alloc(20);
    this.w32(head, ifid, 0);
    this.ts(head, BigInt(ts), 4);
    this.w32(head, o.capLength ?? data.length, 12);
    this.w32(head, o.origLength ?? data.length, 16);
    return this.block(6, Buffer.concat([head, pad4(data), this.opts(o.options)]), o);
  }

  /** Simple Packet Block: interface 0, no timestamp. */
  spb(data: Uint8Array, o: PacketOptions = {}): this {
    const head = Buffer.alloc(4);
    this.w32(head, o.origLength ?? data.length, 0);
    return this.block(3, Buffer.concat([head, pad4(data)]), o);
  }

  /** Obsolete Packet Block (type 2): 16-bit interface id and drops count. */
  opb(ifid: number, ts: bigint | number, data: Uint8Array, o: PacketOptions & { drops?: number } = {}): this {
    const head = Buffer.alloc(20);
    this.w16(head, ifid, 0);
    this.w16(head, o.drops ?? 0, 2);
    this.ts(head, BigInt(ts), 4);
    this.w32(head, o.capLength ?? data.length, 12);
    this.w32(head, o.origLength ?? data.length, 16);
    return this.block(2, Buffer.concat([head, pad4(data), this.opts(o.options)]), o);
  }

  /** Interface Statistics Block; `ifdrop` becomes isb_ifdrop (option 5). */
  isb(ifid: number, ts: bigint | number, o: BlockOverrides & { ifdrop?: bigint | number; options?: PcapngOption[] } = {}): this {
    const head = Buffer.alloc(12);
    this.w32(head, ifid, 0);
    this.ts(head, BigInt(ts), 4);
    const options = [...(o.options ?? [])];
    if (o.ifdrop !== undefined) options.push({ code: 5, value: this.u64(BigInt(o.ifdrop)) });
    return this.block(5, Buffer.concat([head, this.opts(options)]), o);
  }

  /** Any block: type, body (padded to 4), optional length corruption. */
  block(type: number, body: Uint8Array, o: BlockOverrides = {}): this {
    const b = pad4(body);
    const total = 12 + b.length;
    const out = Buffer.alloc(total);
    this.w32(out, type, 0);
    this.w32(out, o.totalLength ?? total, 4);
    Buffer.from(b).copy(out, 8);
    this.w32(out, o.trailerLength ?? total, total - 4);
    return this.raw(out);
  }

  /** Raw bytes appended as they are. */
  raw(bytes: Uint8Array): this {
    this.offsets.push(this.size);
    this.parts.push(Buffer.from(bytes));
    this.size += bytes.length;
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** Option list in the current byte order, ended by opt_endofopt; empty when there are none. */
  opts(list: PcapngOption[] | undefined): Buffer {
    if (!list || list.length === 0) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (const { code, value } of list) {
      const h = Buffer.alloc(4);
      this.w16(h, code, 0);
      this.w16(h, value.length, 2);
      parts.push(h, pad4(value));
    }
    parts.push(Buffer.alloc(4));
    return Buffer.concat(parts);
  }

  /** 64-bit value in the current byte order. */
  u64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
    else b.writeBigUInt64BE(BigInt.asUintN(64, v));
    return b;
  }

  private ts(b: Buffer, ts: bigint, p: number): void {
    this.w32(b, Number((ts >> 32n) & 0xffffffffn), p);
    this.w32(b, Number(ts & 0xffffffffn), p + 4);
  }

  private w32(b: Buffer, v: number, p: number): void {
    if (this.le) b.writeUInt32LE(v >>> 0, p);
    else b.writeUInt32BE(v >>> 0, p);
  }

  private w16(b: Buffer, v: number, p: number): void {
    if (this.le) b.writeUInt16LE(v & 0xffff, p);
    else b.writeUInt16BE(v & 0xffff, p);
  }
}

function pad4(b: Uint8Array): Buffer {
  const n = (b.length + 3) & ~3;
  const out = Buffer.alloc(n);
  Buffer.from(b.buffer, b.byteOffset, b.length).copy(out, 0);
  return out;
}
