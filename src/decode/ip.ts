/**
 * Network layer: IPv4 (RFC 791) and IPv6 (RFC 8200) down to the upper-layer header (TCP, or a tunnel that
 * src/decode/encap.ts follows). Hot path: no allocation. ICMP errors quote TCP headers: they are 'not-tcp'.
 */
import type { DecodeStatus, TcpPacket } from './packet.js';
import type { DecodeCursor } from './link.js';

const PROTO_TCP = 6;

/** IP protocols whose non-first fragments may hold TCP (TCP itself and the IP-level tunnels encap.ts follows). */
function mayCarryTcp(proto: number): boolean {
  return proto === PROTO_TCP || proto === 4 || proto === 41 || proto === 47 || proto === 137;
}

// IPv6 extension headers (RFC 8200 §4, IANA "IPv6 Extension Header Types").
const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51; // RFC 4302: length in 4-octet units minus 2
const NH_DEST_OPTS = 60;
const NH_MOBILITY = 135;
const NH_HIP = 139;
const NH_SHIM6 = 140;

/** Extension headers that use the generic (Hdr Ext Len + 1) * 8 length rule. */
function isGenericExt(nh: number): boolean {
  return nh === NH_HOP_BY_HOP || nh === NH_ROUTING || nh === NH_DEST_OPTS || nh === NH_MOBILITY || nh === NH_HIP ||
    nh === NH_SHIM6;
}

/**
 * Decodes the IP header at cur.pos. On 'ok': cur.proto is the upper-layer protocol, cur.pos its header, cur.segLen
 * its length from the IP length fields, cur.end is narrowed to the end of the IP datagram (so link padding is never
 * payload), and the address, TTL and IP id fields of `out` are set. A non-first fragment is 'fragment' when it may
 * hold TCP (TCP or an IP-level tunnel), else 'not-tcp'.
 */
export function decodeIp(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  if (p >= cur.end) return 'truncated';
  const version = data[p]! >>> 4;
  const net = cur.net;
  if (net !== 0 && net !== version) return 'malformed'; // link says IPv4, header says otherwise
  if (version === 4) return decodeIpv4(data, cur, out);
  if (version === 6) return decodeIpv6(data, cur, out);
  return net === 0 ? 'malformed' : 'not-ip';
}

function decodeIpv4(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  const capEnd = cur.end;
  if (p + 20 > capEnd) return 'truncated';
  // RFC 791 §3.1: IHL in 32-bit words, minimum 5; Total Length covers header + data.
  const hlen = (data[p]! & 0x0f) << 2;
  if (hlen < 20) return 'malformed';
  const totalLen = (data[p + 2]! << 8) | data[p + 3]!;
  const proto = data[p + 9]!;
  let ipEnd: number;
  if (totalLen === 0) {
    // TSO/GSO super-packet captured on the sending host before segmentation: the length is left 0.
    ipEnd = capEnd;
    if (p + hlen > ipEnd) return 'truncated';
  } else {
    if (totalLen < hlen) return 'malformed';
    ipEnd = p + totalLen;
    if (p + hlen > capEnd) return 'truncated';
  }
  const fragWord = (data[p + 6]! << 8) | data[p + 7]!;
  // Flags: reserved, DF, MF; offset in 8-octet units. Only the first fragment carries the TCP header.
  if ((fragWord & 0x1fff) !== 0) return mayCarryTcp(proto) ? 'fragment' : 'not-tcp';
  // A first fragment of an outer (tunnel) header makes everything inside it a first fragment too.
  if ((fragWord & 0x2000) !== 0) cur.firstFragment = true;
  cur.proto = proto;

  out.ipVersion = 4;
  out.ttl = data[p + 8]!;
  out.ipId = (data[p + 4]! << 8) | data[p + 5]!;
  const src = out.src;
  const dst = out.dst;
  src[0] = (data[p + 12]! << 24) | (data[p + 13]! << 16) | (data[p + 14]! << 8) | data[p + 15]!;
  src[1] = 0;
  src[2] = 0;
  src[3] = 0;
  dst[0] = (data[p + 16]! << 24) | (data[p + 17]! << 16) | (data[p + 18]! << 8) | data[p + 19]!;
  dst[1] = 0;
  dst[2] = 0;
  dst[3] = 0;

  cur.pos = p + hlen;
  cur.segLen = ipEnd - p - hlen;
  if (ipEnd < capEnd) cur.end = ipEnd; // link-layer padding (Ethernet minimum frame) is not IP data
  return 'ok';
}

function readWords(data: Uint8Array, p: number, w: Uint32Array): void {
  w[0] = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
  w[1] = (data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!;
  w[2] = (data[p + 8]! << 24) | (data[p + 9]! << 16) | (data[p + 10]! << 8) | data[p + 11]!;
  w[3] = (data[p + 12]! << 24) | (data[p + 13]! << 16) | (data[p + 14]! << 8) | data[p + 15]!;
}

/**
 * RFC 2675 jumbo payload option (type 0xC2, length 4) inside a hop-by-hop header spanning [q, qEnd).
 * Returns the jumbo payload length, or -1 when absent.
 */
function jumboLength(data: Uint8Array, q: number, qEnd: number): number {
  let i = q + 2;
  while (i < qEnd) {
    const type = data[i]!;
    if (type === 0) { // Pad1
      i++;
      continue;
    }
    if (i + 2 > qEnd) return -1;
    const len = data[i + 1]!;
    if (type === 0xc2 && len === 4 && i + 6 <= qEnd) {
      return ((data[i + 2]! << 24) | (data[i + 3]! << 16) | (data[i + 4]! << 8) | data[i + 5]!) >>> 0;
    }
    i += 2 + len;
  }
  return -1;
}

function decodeIpv6(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  const capEnd = cur.end;
  if (p + 40 > capEnd) return 'truncated';
  // RFC 8200 §3: Payload Length counts everything after the 40-byte fixed header, extension headers included.
  const payloadLen = (data[p + 4]! << 8) | data[p + 5]!;
  let nh = data[p + 6]!;
  let q = p + 40;
  let first = false;
  // Payload Length 0: a jumbogram (RFC 2675, hop-by-hop jumbo option) or a GSO/BIG TCP super-packet captured on the
  // sending host (Linux ≥ 6.3 leaves the length 0 with no hop-by-hop header). Either way no IP length field bounds it.
  let ipEnd = payloadLen === 0 ? capEnd : p + 40 + payloadLen;
  let bounded = payloadLen !== 0; // ipEnd comes from a length field (else from the captured bytes)

  // Walk the extension header chain (RFC 8200 §4.1 order is recommended, not enforced here).
  for (;;) {
    if (isGenericExt(nh)) {
      if (q + 8 > capEnd) return 'truncated';
      const len = (data[q + 1]! + 1) << 3;
      if (bounded && q + len > ipEnd) return 'malformed';
      if (q + len > capEnd) return 'truncated';
      if (nh === NH_HOP_BY_HOP && payloadLen === 0 && q === p + 40) {
        const jumbo = jumboLength(data, q, q + len);
        // RFC 2675: the jumbo length counts from the end of the fixed header, like Payload Length.
        if (jumbo > 0) {
          ipEnd = p + 40 + jumbo;
          bounded = true;
        }
      }
      nh = data[q]!;
      q += len;
    } else if (nh === NH_FRAGMENT) {
      // RFC 8200 §4.5: next header(1) reserved(1) offset(13 bits)+res(2)+M(1) identification(4)
      if (bounded && q + 8 > ipEnd) return 'malformed';
      if (q + 8 > capEnd) return 'truncated';
      const offWord = (data[q + 2]! << 8) | data[q + 3]!;
      nh = data[q]!;
      if ((offWord & 0xfff8) !== 0) {
        // Non-first fragment: the headers after the fragment header are not in this packet.
        return mayCarryTcp(nh) || isGenericExt(nh) || nh === NH_AH || nh === NH_FRAGMENT ? 'fragment' : 'not-tcp';
      }
      if ((offWord & 1) !== 0) first = true;
      q += 8;
    } else if (nh === NH_AH) {
      // RFC 4302 §2.2: Payload Len is the AH length in 32-bit words minus 2.
      if (q + 8 > capEnd) return 'truncated';
      const len = (data[q + 1]! + 2) << 2;
      if (bounded && q + len > ipEnd) return 'malformed';
      if (q + len > capEnd) return 'truncated';
      nh = data[q]!;
      q += len;
    } else {
      // The upper layer: TCP, a tunnel, or something else (UDP, ICMPv6 58, No Next Header 59, ESP 50…).
      break;
    }
  }
  if (q > ipEnd) return 'malformed';

  out.ipVersion = 6;
  out.ttl = data[p + 7]!;
  out.ipId = -1;
  readWords(data, p + 8, out.src);
  readWords(data, p + 24, out.dst);

  if (first) cur.firstFragment = true;
  cur.proto = nh;
  cur.pos = q;
  cur.segLen = ipEnd - q;
  if (ipEnd < capEnd) cur.end = ipEnd;
  return 'ok';
}
