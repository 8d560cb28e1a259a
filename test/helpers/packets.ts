/**
 * Builds real frame bytes (link + IP + TCP) for tests. Use real captures from fixtures/ where a stack produces the
 * case; build here what a stack will not (odd link types, fragments, damaged headers, exact numbers).
 *
 *   buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, seq: 1, ack: 2, flags: 'P.', len: 100 })
 *   buildFrame(spec, { type: 'sll2', packetType: 4 })
 *   buildFrame(spec, { type: 'ethernet' }, { padTo: 60 })        // + decoder-test extras (FrameExtras)
 *   frameOf(bytes, linkTypeOf(link))                              // a RawFrame for decodeFrame / a session
 *
 * IPv4 vs IPv6 follows the address text. IPv4 header, TCP and ICMP checksums are computed (a TCP checksum covers
 * the segment as built, so it is wrong for fragments and damaged headers); the ICMPv6 checksum is left 0.
 * The decoder does not verify checksums.
 */
import type { RawFrame } from '../../src/capture/types.js';
import { parseAddress } from '../../src/decode/format.js';
import { ACK, CWR, ECE, FIN, LINKTYPE, PSH, RST, SYN, URG } from '../../src/decode/packet.js';

export interface SegmentSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** tcpdump letters: 'S', 'S.', '.', 'F.', 'R', 'R.', 'P.', 'FP.' ('.' = ACK; also U=URG, E=ECE, W=CWR; '' = none). */
  flags: string;
  win?: number;
  /** Payload length (zero bytes) when no payload is given. */
  len?: number;
  payload?: Uint8Array;
  ttl?: number;
  ipId?: number;
  /** md5: a TCP-MD5 signature option (RFC 2385, kind 19, 16 zero bytes). */
  options?: { mss?: number; wscale?: number; sackPermitted?: boolean; ts?: [number, number]; sack?: [number, number][]; md5?: boolean };
}

export type LinkSpec =
  | { type: 'ethernet'; vlans?: number[]; /** TPIDs, outermost first; default 0x88A8 outer + 0x8100 inner when stacked. */ tpids?: number[] }
  | { type: 'sll'; packetType?: number }
  | { type: 'sll2'; packetType?: number }
  | { type: 'null'; littleEndian?: boolean; /** AF_INET6 value: 24 BSD, 28 FreeBSD, 30 Darwin (default). */ af6?: number }
  | { type: 'loop' }
  | { type: 'raw'; linkType?: 101 | 12 | 14 }
  | { type: 'ipv4' }
  | { type: 'ipv6' };

/** An IPv6 extension header to put between the fixed header and TCP (RFC 8200 §4). */
export interface Ipv6ExtSpec {
  /** 0 hop-by-hop, 43 routing, 44 fragment (offset/more from FrameExtras.fragment), 51 AH, 60 destination options. */
  type: number;
  /** Total bytes (multiple of 8; AH: multiple of 4, default 24). Default 8. */
  size?: number;
}

/** Extras for the decoder's own tests: damage and rarely-produced shapes. */
export interface FrameExtras {
  /** IPv4 options (padded with EOL to a 4-byte multiple). */
  ipOptions?: Uint8Array;
  /** IPv6 extension headers, in order. */
  ipv6Ext?: Ipv6ExtSpec[];
  /**
   * Fragmentation. IPv4: sets MF / fragment offset. IPv6: fills the type-44 entry of ipv6Ext, or appends a fragment
   * header when there is none. offset is in bytes (multiple of 8). A non-first fragment carries only payload bytes.
   */
  fragment?: { offset: number; more?: boolean; id?: number };
  /** The frame is an ICMP (type 3 code 3) / ICMPv6 (type 1 code 4) error from dst to src quoting this segment. */
  icmpQuote?: boolean;
  /** Overrides IPv4 Total Length / IPv6 Payload Length (0: a TSO/GSO super-packet seen on the sending host). */
  ipLength?: number;
  /** IPv6: Payload Length 0 plus a hop-by-hop jumbo option (RFC 2675) holding the real length. */
  jumbo?: boolean;
  /** Overrides the IPv4 protocol / the IPv6 next header that would say TCP. */
  protocol?: number;
  /** Overrides the IP version nibble. */
  ipVersion?: number;
  /** Overrides the IPv4 IHL (32-bit words). */
  ihl?: number;
  /** Overrides the TCP data offset (32-bit words). */
  dataOffset?: number;
  /** Raw TCP option bytes instead of spec.options (padded with EOL to a 4-byte multiple). */
  tcpOptions?: Uint8Array;
  /** Pads the finished frame to at least this many bytes (60: Ethernet minimum without FCS). */
  padTo?: number;
  /** Byte used for padding (default 0). */
  padByte?: number;
  /** Cuts the finished frame to this many bytes (a snaplen). */
  snaplen?: number;
}

export function linkTypeOf(link: LinkSpec): number {
  switch (link.type) {
    case 'ethernet': return LINKTYPE.ETHERNET;
    case 'sll': return LINKTYPE.LINUX_SLL;
    case 'sll2': return LINKTYPE.LINUX_SLL2;
    case 'null': return LINKTYPE.NULL;
    case 'loop': return LINKTYPE.LOOP;
    case 'raw': return link.linkType ?? LINKTYPE.RAW;
    case 'ipv4': return LINKTYPE.IPV4;
    case 'ipv6': return LINKTYPE.IPV6;
  }
}

/** tcpdump flag letters → flag bits. */
export function flagBits(letters: string): number {
  let f = 0;
  for (const c of letters) {
    switch (c) {
      case 'F': f |= FIN; break;
      case 'S': f |= SYN; break;
      case 'R': f |= RST; break;
      case 'P': f |= PSH; break;
      case '.': f |= ACK; break;
      case 'U': f |= URG; break;
      case 'E': f |= ECE; break;
      case 'W': f |= CWR; break;
      default: throw new Error(`buildFrame: unknown flag letter '${c}' in '${letters}'`);
    }
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------

class Bytes {
  readonly a: number[] = [];
  u8(v: number): this { this.a.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  u32(v: number): this { return this.u16(v >>> 16).u16(v & 0xffff); }
  le32(v: number): this { return this.u8(v).u8(v >>> 8).u8(v >>> 16).u8(v >>> 24); }
  bytes(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.u8(b[i]!); return this; }
  zeros(n: number): this { for (let i = 0; i < n; i++) this.u8(0); return this; }
  get length(): number { return this.a.length; }
  out(): Uint8Array { return Uint8Array.from(this.a); }
}

function padTo4(b: ArrayLike<number>): number[] {
  const a = Array.from(b);
  while (a.length % 4 !== 0) a.push(0);
  return a;
}

/** Internet checksum (RFC 1071) over the concatenation of `parts`. */
function checksum(...parts: ArrayLike<number>[]): number {
  let sum = 0;
  let odd = -1;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (odd < 0) odd = p[i]!;
      else {
        sum += (odd << 8) | p[i]!;
        odd = -1;
      }
    }
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function addrBytes(text: string): { version: 4 | 6; bytes: number[] } {
  const a = parseAddress(text);
  if (a === null) throw new Error(`buildFrame: bad address '${text}'`);
  const b = new Bytes();
  if (a.ipVersion === 4) b.u32(a.words[0]!);
  else for (const w of a.words) b.u32(w);
  return { version: a.ipVersion, bytes: b.a };
}

function tcpOptionBytes(o: NonNullable<SegmentSpec['options']>): number[] {
  const b = new Bytes();
  // Linux order: mss, sackOK+TS (or nop,nop,TS), nop+wscale; SACK blocks as nop,nop,sack.
  if (o.mss !== undefined) b.u8(2).u8(4).u16(o.mss);
  if (o.sackPermitted && o.ts) b.u8(4).u8(2);
  else if (o.sackPermitted) b.u8(1).u8(1).u8(4).u8(2);
  else if (o.ts) b.u8(1).u8(1);
  if (o.ts) b.u8(8).u8(10).u32(o.ts[0]).u32(o.ts[1]);
  if (o.wscale !== undefined) b.u8(1).u8(3).u8(3).u8(o.wscale);
  if (o.md5) { b.u8(19).u8(18); for (let i = 0; i < 16; i++) b.u8(0); }
  if (o.sack && o.sack.length > 0) {
    b.u8(1).u8(1).u8(5).u8(2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) b.u32(l).u32(r);
  }
  return padTo4(b.a);
}

function payloadOf(spec: SegmentSpec): Uint8Array {
  if (spec.payload) {
    if (spec.len !== undefined && spec.len !== spec.payload.length) {
      throw new Error(`buildFrame: len ${spec.len} != payload length ${spec.payload.length}`);
    }
    return spec.payload;
  }
  return new Uint8Array(spec.len ?? 0);
}

/** The TCP segment (header + payload). */
function tcpSegment(spec: SegmentSpec, x: FrameExtras, pseudo: number[]): number[] {
  const opts = x.tcpOptions ? padTo4(x.tcpOptions) : spec.options ? tcpOptionBytes(spec.options) : [];
  const hlen = 20 + opts.length;
  const payload = payloadOf(spec);
  const b = new Bytes()
    .u16(spec.sport).u16(spec.dport).u32(spec.seq >>> 0).u32((spec.ack ?? 0) >>> 0)
    .u8((x.dataOffset ?? hlen / 4) << 4).u8(flagBits(spec.flags)).u16(spec.win ?? 65535)
    .u16(0).u16(0)
    .bytes(opts).bytes(payload);
  const segLen = b.length;
  const c = checksum(pseudoWithLength(pseudo, segLen), b.a);
  b.a[16] = c >>> 8;
  b.a[17] = c & 0xff;
  return b.a;
}

/** Pseudo-header bytes (addresses) + protocol 6 + length: RFC 9293 §3.1 (IPv4), RFC 8200 §8.1 (IPv6). */
function pseudoWithLength(addrs: number[], len: number): number[] {
  if (addrs.length === 8) return [...addrs, 0, 6, len >>> 8, len & 0xff];
  return [...addrs, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0, 0, 0, 6];
}

/** IP datagram (header + upper layer) for the segment; `proto`/`upper` default to the TCP segment. */
function ipDatagram(spec: SegmentSpec, x: FrameExtras, srcText: string, dstText: string, icmp: boolean,
  upperOverride?: number[]): number[] {
  const src = addrBytes(srcText);
  const dst = addrBytes(dstText);
  if (src.version !== dst.version) throw new Error('buildFrame: src and dst differ in IP version');
  const frag = icmp ? undefined : x.fragment;
  const nonFirst = frag !== undefined && frag.offset !== 0;
  let upper: number[];
  if (upperOverride) upper = upperOverride;
  else if (nonFirst) upper = Array.from(payloadOf(spec));
  else upper = tcpSegment(spec, x, [...src.bytes, ...dst.bytes]);
  const ttl = spec.ttl ?? 64;

  if (src.version === 4) {
    const opts = icmp || !x.ipOptions ? [] : padTo4(x.ipOptions);
    const hlen = 20 + opts.length;
    let fragWord = 0x4000; // DF, as Linux sets it
    if (frag) fragWord = (frag.more ? 0x2000 : 0) | ((frag.offset >>> 3) & 0x1fff);
    const total = !icmp && x.ipLength !== undefined ? x.ipLength : hlen + upper.length;
    const h = new Bytes()
      .u8(((icmp ? 4 : x.ipVersion ?? 4) << 4) | (icmp ? 5 : x.ihl ?? hlen / 4)).u8(0).u16(total)
      .u16(icmp ? 0 : frag?.id ?? spec.ipId ?? 0x1234).u16(icmp ? 0 : fragWord)
      .u8(icmp ? 64 : ttl).u8(icmp ? 1 : x.protocol ?? 6).u16(0)
      .bytes(src.bytes).bytes(dst.bytes).bytes(opts);
    const c = checksum(h.a);
    h.a[10] = c >>> 8;
    h.a[11] = c & 0xff;
    return [...h.a, ...upper];
  }

  // IPv6 (RFC 8200): fixed header, extension headers, upper layer.
  const exts: Ipv6ExtSpec[] = icmp ? [] : [...(x.ipv6Ext ?? [])];
  if (frag && !exts.some((e) => e.type === 44)) exts.push({ type: 44 });
  if (!icmp && x.jumbo) exts.unshift({ type: -1 }); // hop-by-hop with the jumbo option, filled below
  const finalNh = icmp ? 58 : x.protocol ?? 6;
  const extBytes: number[][] = exts.map((e, i) => {
    const nh = i + 1 < exts.length ? (exts[i + 1]!.type === -1 ? 0 : exts[i + 1]!.type) : finalNh;
    if (e.type === -1) return [nh, 0, 0xc2, 4, 0, 0, 0, 0];
    if (e.type === 44) {
      const f = frag ?? { offset: 0, more: false };
      const w = (f.offset & 0xfff8) | (f.more ? 1 : 0);
      const id = ('id' in f ? f.id : undefined) ?? 0xabcd;
      return [nh, 0, w >>> 8, w & 0xff, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff];
    }
    if (e.type === 51) {
      const size = e.size ?? 24;
      return [nh, size / 4 - 2, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1, ...new Array<number>(size - 12).fill(0)];
    }
    const size = e.size ?? 8;
    const body = new Array<number>(size - 2).fill(0);
    if (e.type === 0 || e.type === 60) {
      body[0] = 1; // PadN (RFC 8200 §4.2) filling the header
      body[1] = size - 4;
    }
    return [nh, size / 8 - 1, ...body];
  });
  const ext = extBytes.flat();
  const plen = ext.length + upper.length;
  if (!icmp && x.jumbo) {
    // Jumbo Payload Length counts everything after the fixed header (RFC 2675 §2).
    ext[4] = plen >>> 24;
    ext[5] = (plen >>> 16) & 0xff;
    ext[6] = (plen >>> 8) & 0xff;
    ext[7] = plen & 0xff;
  }
  const firstNh = exts.length > 0 ? (exts[0]!.type === -1 ? 0 : exts[0]!.type) : finalNh;
  const payloadLenField = icmp ? plen : x.jumbo ? 0 : x.ipLength ?? plen;
  const h = new Bytes()
    .u32(((icmp ? 6 : x.ipVersion ?? 6) << 28) >>> 0).u16(payloadLenField).u8(firstNh).u8(icmp ? 64 : ttl)
    .bytes(src.bytes).bytes(dst.bytes);
  return [...h.a, ...ext, ...upper];
}

function linkHeader(link: LinkSpec, version: number): number[] {
  const ethertype = version === 6 ? 0x86dd : 0x0800;
  const b = new Bytes();
  switch (link.type) {
    case 'ethernet': {
      b.bytes([0x02, 0, 0, 0, 0, 0x02]).bytes([0x02, 0, 0, 0, 0, 0x01]);
      const vlans = link.vlans ?? [];
      vlans.forEach((id, i) => {
        const tpid = link.tpids?.[i] ?? (vlans.length > 1 && i === 0 ? 0x88a8 : 0x8100);
        b.u16(tpid).u16(id & 0x0fff);
      });
      b.u16(ethertype);
      break;
    }
    case 'sll':
      // packet type, ARPHRD_ETHER, address length, address (8, padded), protocol
      b.u16(link.packetType ?? 0).u16(1).u16(6).bytes([0x02, 0, 0, 0, 0, 0x01, 0, 0]).u16(ethertype);
      break;
    case 'sll2':
      // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address (8)
      b.u16(ethertype).u16(0).u32(2).u16(1).u8(link.packetType ?? 0).u8(6).bytes([0x02, 0, 0, 0, 0, 0x01, 0, 0]);
      break;
    case 'null': {
      const af = version === 6 ? link.af6 ?? 30 : 2;
      if (link.littleEndian) b.le32(af);
      else b.u32(af);
      break;
    }
    case 'loop':
      b.u32(version === 6 ? 24 : 2);
      break;
    case 'raw':
      break;
    case 'ipv4':
      if (version !== 4) throw new Error('buildFrame: LINKTYPE_IPV4 with an IPv6 address');
      break;
    case 'ipv6':
      if (version !== 6) throw new Error('buildFrame: LINKTYPE_IPV6 with an IPv4 address');
      break;
  }
  return b.a;
}

/** Frame bytes for one TCP segment on `link` (default Ethernet). */
export function buildFrame(spec: SegmentSpec, link: LinkSpec = { type: 'ethernet' }, extras: FrameExtras = {}): Uint8Array {
  const version = addrBytes(spec.src).version;
  let ip: number[];
  if (extras.icmpQuote) {
    // RFC 792 / RFC 4443: type, code, checksum, unused(4), then the offending datagram.
    const inner = ipDatagram(spec, extras, spec.src, spec.dst, false);
    const icmp = version === 4 ? [3, 3, 0, 0, 0, 0, 0, 0, ...inner] : [1, 4, 0, 0, 0, 0, 0, 0, ...inner];
    if (version === 4) {
      const c = checksum(icmp);
      icmp[2] = c >>> 8;
      icmp[3] = c & 0xff;
    }
    ip = ipDatagram(spec, extras, spec.dst, spec.src, true, icmp);
  } else {
    ip = ipDatagram(spec, extras, spec.src, spec.dst, false);
  }
  let frame = [...linkHeader(link, version), ...ip];
  if (extras.padTo !== undefined) while (frame.length < extras.padTo) frame.push(extras.padByte ?? 0);
  if (extras.snaplen !== undefined) frame = frame.slice(0, extras.snaplen);
  return Uint8Array.from(frame);
}

/**
 * Wraps frame bytes in a RawFrame. With `at`, the bytes sit at that offset inside a larger buffer whose other bytes
 * are `fill` (default 0xEE), so a decoder that reads outside [dataOffset, dataOffset + capLength) gets caught.
 */
export function frameOf(bytes: Uint8Array, linkType: number,
  opts: { at?: number; fill?: number; index?: number; tsSec?: number; tsNsec?: number; wireLength?: number } = {}): RawFrame {
  const at = opts.at ?? 0;
  let data = bytes;
  if (at !== 0 || opts.fill !== undefined) {
    data = new Uint8Array(at + bytes.length + 64).fill(opts.fill ?? 0xee);
    data.set(bytes, at);
  }
  return {
    index: opts.index ?? 1, tsSec: opts.tsSec ?? 0, tsNsec: opts.tsNsec ?? 0, linkType, interfaceId: 0,
    data, dataOffset: at, capLength: bytes.length, wireLength: opts.wireLength ?? bytes.length, fileOffset: 0,
  };
}
