/**
 * Tunnels and link-level encapsulations around the TCP/IP packet, decoded in place (no allocation): IP-in-IP
 * (4in4, 6in4, 4in6, 6in6), GRE (keys, sequence numbers, source routes; PPTP's enhanced GRE), ERSPAN types I–III,
 * VXLAN, VXLAN-GPE, GENEVE, Teredo, GTP-U, L2TPv2, MPLS (over Ethernet, IP and UDP, with pseudowire control word),
 * PPPoE sessions and PPP. Each stage records its layer (src/decode/layers.ts), moves cur.pos past its header and sets cur.next;
 * decodeFrame loops until TCP. Header layouts as Wireshark (packet-gre.c, packet-erspan.c, packet-vxlan.c,
 * packet-geneve.c, packet-teredo.c, packet-mpls.c, packet-pppoe.c) and Zeek (Tunnel analyzers) read them.
 */
import type { DecodeStatus, TcpPacket } from './packet.js';
import { LAYER, MAX_NESTING } from './packet.js';
import { pushIpLayer, pushLayer } from './layers.js';
import { etherPayload, NEXT_ETHER, NEXT_IP, NEXT_MPLS, NEXT_PPP, type DecodeCursor } from './link.js';

const PROTO_IPIP = 4;    // RFC 2003 IPv4 in IP
const PROTO_IPV6 = 41;   // RFC 4213 IPv6 in IP (6in4, 6in6)
const PROTO_GRE = 47;    // RFC 2784
const PROTO_UDP = 17;
const PROTO_MPLS = 137;  // RFC 4023 MPLS in IP

const PORT_VXLAN = 4789;      // RFC 7348
const PORT_VXLAN_LINUX = 8472; // the Linux kernel's VXLAN port before IANA assigned 4789 (still flannel's default)
const PORT_VXLAN_GPE = 4790;  // draft-ietf-nvo3-vxlan-gpe
const PORT_GENEVE = 6081;     // RFC 8926
const PORT_TEREDO = 3544;     // RFC 4380
const PORT_MPLS_UDP = 6635;   // RFC 7510
const PORT_GTP_U = 2152;      // 3GPP TS 29.281
const PORT_L2TP = 1701;       // RFC 2661

const GRE_ERSPAN_II = 0x88be;  // ERSPAN type I (no header) and type II
const GRE_ERSPAN_III = 0x22eb;
const GRE_CISCO_METADATA = 0x8909;
const GRE_WCCP = 0x883e;

function u16(data: Uint8Array, i: number): number {
  return (data[i]! << 8) | data[i + 1]!;
}

function u32(data: Uint8Array, i: number): number {
  return ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
}

/** One more nested encapsulation; false past MAX_NESTING. */
function enter(cur: DecodeCursor): boolean {
  return ++cur.nest <= MAX_NESTING;
}

/**
 * The payload of an IP header that is not TCP (cur.proto): a tunnel is followed, recording the IP header as an
 * outer layer; anything else is 'not-tcp'.
 */
export function ipPayload(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  switch (cur.proto) {
    case PROTO_IPIP:
    case PROTO_IPV6:
      if (!enter(cur) || !pushIpLayer(out)) return 'too-deep';
      cur.next = NEXT_IP;
      cur.net = cur.proto === PROTO_IPIP ? 4 : 6;
      return 'ok';
    case PROTO_MPLS:
      if (!enter(cur) || !pushIpLayer(out)) return 'too-deep';
      cur.next = NEXT_MPLS;
      return 'ok';
    case PROTO_GRE:
      if (!enter(cur) || !pushIpLayer(out)) return 'too-deep';
      return gre(data, cur, out);
    case PROTO_UDP:
      return udp(data, cur, out);
    default:
      return 'not-tcp';
  }
}

/**
 * GRE: RFC 2784 with RFC 2890 key and sequence number, RFC 1701 routing; version 1 is PPTP's enhanced GRE
 * (RFC 2637: key = payload length + call id, optional sequence and acknowledgment numbers, PPP inside).
 */
function gre(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  const end = cur.end;
  if (p + 4 > end) return 'truncated';
  const flags = u16(data, p);
  const proto = u16(data, p + 2);
  const version = flags & 0x0007;
  const hasCsum = (flags & 0x8000) !== 0;
  const hasRouting = (flags & 0x4000) !== 0;
  const hasKey = (flags & 0x2000) !== 0;
  const hasSeq = (flags & 0x1000) !== 0;
  let q = p + 4;
  let key = 0;
  if (version === 0) {
    if (hasCsum || hasRouting) q += 4; // checksum(2) offset(2)
    if (hasKey) {
      if (q + 4 > end) return 'truncated';
      key = u32(data, q);
      q += 4;
    }
    if (hasSeq) q += 4;
    if (hasRouting) {
      // RFC 1701 source route entries: address family(2) SRE offset(1) SRE length(1) routing information;
      // the list ends with an entry of family 0 and length 0.
      for (;;) {
        if (q + 4 > end) return 'truncated';
        const af = u16(data, q);
        const len = data[q + 3]!;
        q += 4 + len;
        if (af === 0 && len === 0) break;
      }
    }
  } else if (version === 1) {
    // Enhanced GRE: K must be set (payload length(2) call id(2)); S: sequence(4); A (0x0080): acknowledgment(4).
    if (!hasKey || proto !== 0x880b) return 'malformed';
    if (q + 4 > end) return 'truncated';
    key = u16(data, q + 2);
    q += 4;
    if (hasSeq) q += 4;
    if ((flags & 0x0080) !== 0) q += 4;
  } else {
    return 'not-ip';
  }
  if (q > end) return 'truncated';

  if (proto === GRE_ERSPAN_II || proto === GRE_ERSPAN_III) return erspan(data, q, proto, hasSeq, cur, out);
  // The signature keeps what names the tunnel (version, key presence and value, protocol), not the flags that vary.
  const sig = (version << 20) | (hasKey ? 1 << 16 : 0) | proto;
  if (!pushLayer(out, LAYER.GRE, key, ((flags << 16) | proto) >>> 0, sig)) return 'too-deep';
  if (proto === GRE_WCCP) {
    // WCCP redirection (draft-wilson-wrec-wccp-v2 §4.12): WCCPv2 puts a 4-byte redirect header before the IP packet,
    // WCCPv1 none; like Wireshark, an IPv4 version nibble right after GRE means no redirect header.
    if (q >= end) return 'truncated';
    cur.pos = data[q]! >>> 4 === 4 ? q : q + 4;
    cur.next = NEXT_IP;
    cur.net = 0;
    return 'ok';
  }
  if (proto === GRE_CISCO_METADATA) {
    // In GRE the Cisco MetaData header starts with the inner protocol: type(2) version(1) length(1) options(2) SGT(2).
    if (q + 8 > end) return 'truncated';
    return etherPayload(data, u16(data, q), q + 8, cur, out);
  }
  return etherPayload(data, proto, q, cur, out);
}

/**
 * ERSPAN (draft-foschiano-erspan): GRE protocol 0x88BE without a sequence number is type I (the mirrored frame
 * follows the GRE header); with one, and 0x22EB, the header's version says type II (8 bytes) or III (12 bytes, plus
 * an 8-byte platform sub-header when O is set; frame type 0 Ethernet, 2 IP).
 */
function erspan(data: Uint8Array, q: number, proto: number, hasSeq: boolean, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  if (proto === GRE_ERSPAN_II && !hasSeq) {
    if (!pushLayer(out, LAYER.ERSPAN, 0, 0, 0)) return 'too-deep';
    cur.pos = q;
    cur.next = NEXT_ETHER;
    return 'ok';
  }
  if (q + 8 > end) return 'truncated';
  const w0 = u16(data, q);
  const version = w0 >>> 12; // 1 type II, 2 type III
  const vlan = w0 & 0x0fff;
  const session = u16(data, q + 2) & 0x03ff;
  if (!pushLayer(out, LAYER.ERSPAN, session, ((version << 16) | vlan) >>> 0, version)) return 'too-deep';
  if (version === 1) {
    cur.pos = q + 8;
    cur.next = NEXT_ETHER;
    return 'ok';
  }
  if (version !== 2) return 'not-ip';
  if (q + 12 > end) return 'truncated';
  const w5 = u16(data, q + 10);
  const frameType = (w5 >>> 10) & 0x1f;
  cur.pos = q + 12 + ((w5 & 1) !== 0 ? 8 : 0);
  if (frameType === 0) { cur.next = NEXT_ETHER; return 'ok'; }
  if (frameType === 2) { cur.next = NEXT_IP; cur.net = 0; return 'ok'; }
  return 'not-ip';
}

/**
 * UDP carrying a tunnel on its IANA port: VXLAN, VXLAN-GPE, GENEVE, MPLS (destination port); Teredo, GTP-U, L2TP
 * (either port: both ends use it, or a server answers from it).
 */
function udp(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  if (p + 8 > cur.end) return 'truncated';
  const sport = u16(data, p);
  const dport = u16(data, p + 2);
  const tunnel = dport === PORT_VXLAN || dport === PORT_VXLAN_LINUX || dport === PORT_VXLAN_GPE || dport === PORT_GENEVE
    || dport === PORT_MPLS_UDP || dport === PORT_TEREDO || sport === PORT_TEREDO || dport === PORT_GTP_U || sport === PORT_GTP_U
    || dport === PORT_L2TP || sport === PORT_L2TP;
  if (!tunnel) return 'not-tcp';
  // The UDP length bounds the tunnel payload (0: a GSO super-packet, bounded by the IP datagram).
  const len = u16(data, p + 4);
  if (len !== 0) {
    if (len < 8) return 'malformed';
    if (p + len < cur.end) cur.end = p + len;
  }
  if (!enter(cur) || !pushIpLayer(out)) return 'too-deep';
  const q = p + 8;
  cur.pos = q;
  const end = cur.end;
  switch (dport) {
    case PORT_VXLAN:
    case PORT_VXLAN_LINUX:
      // RFC 7348 §5: flags(1) reserved(3) VNI(3) reserved(1), then the Ethernet frame.
      if (q + 8 > end) return 'truncated';
      if (!pushLayer(out, LAYER.VXLAN, u32(data, q + 4) >>> 8, dport, 0)) return 'too-deep';
      cur.pos = q + 8;
      cur.next = NEXT_ETHER;
      return 'ok';
    case PORT_VXLAN_GPE: {
      // flags(1) reserved(2) next protocol(1) VNI(3) reserved(1): 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS (4 NSH: not followed).
      if (q + 8 > end) return 'truncated';
      const np = data[q + 3]!;
      if (!pushLayer(out, LAYER.VXLAN_GPE, u32(data, q + 4) >>> 8, np, np)) return 'too-deep';
      cur.pos = q + 8;
      switch (np) {
        case 1: cur.next = NEXT_IP; cur.net = 4; return 'ok';
        case 2: cur.next = NEXT_IP; cur.net = 6; return 'ok';
        case 3: cur.next = NEXT_ETHER; return 'ok';
        case 5: cur.next = NEXT_MPLS; return 'ok';
        default: return 'not-ip';
      }
    }
    case PORT_GENEVE: {
      // RFC 8926 §3.4: Ver(2) Opt Len(6, 4-byte units) | O C Rsvd(6) | Protocol Type(2) | VNI(3) Reserved(1) | options.
      if (q + 8 > end) return 'truncated';
      if (data[q]! >>> 6 !== 0) return 'not-ip'; // unknown version: RFC 8926 §3.4 says drop
      const optBytes = (data[q]! & 0x3f) << 2;
      const proto = u16(data, q + 2);
      if (!pushLayer(out, LAYER.GENEVE, u32(data, q + 4) >>> 8, ((optBytes << 16) | proto) >>> 0, proto)) return 'too-deep';
      if (q + 8 + optBytes > end) return 'truncated';
      return etherPayload(data, proto, q + 8 + optBytes, cur, out);
    }
    case PORT_MPLS_UDP:
      cur.next = NEXT_MPLS;
      return 'ok';
    default:
      if (dport === PORT_GTP_U || sport === PORT_GTP_U) return gtpU(data, q, cur, out);
      if (dport === PORT_L2TP || sport === PORT_L2TP) return l2tp(data, q, cur, out);
      return teredo(data, q, cur, out);
  }
}

/**
 * GTP-U (3GPP TS 29.281 §5): flags (version 1, PT 1, E, S, PN), message type (255 G-PDU carries a user packet),
 * length(2), TEID(4); with E, S or PN a 4-byte sequence/N-PDU/next-extension word, then extension headers
 * (length in 4-byte units, content, next type) until next type 0. The user packet is IP.
 */
function gtpU(data: Uint8Array, q: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  if (q + 8 > end) return 'truncated';
  const flags = data[q]!;
  if (flags >>> 5 !== 1 || (flags & 0x10) === 0) return 'not-ip'; // not GTPv1 (GTP' or v2)
  if (!pushLayer(out, LAYER.GTP_U, u32(data, q + 4), 0, 0)) return 'too-deep';
  if (data[q + 1] !== 255) return 'not-ip'; // echo, error indication, end marker…
  let p = q + 8;
  if ((flags & 0x07) !== 0) {
    if (p + 4 > end) return 'truncated';
    let next = data[p + 3]!;
    p += 4;
    while (next !== 0) {
      if (p + 1 > end) return 'truncated';
      const len = data[p]! << 2;
      if (len === 0) return 'malformed';
      if (p + len > end) return 'truncated';
      next = data[p + len - 1]!;
      p += len;
    }
  }
  cur.pos = p;
  cur.next = NEXT_IP;
  cur.net = 0;
  return 'ok';
}

/**
 * L2TPv2 data messages (RFC 2661 §3.1): flags T L x x S x O P x x x x Ver(4)=2, [length(2)], tunnel id(2), session
 * id(2), [Ns(2) Nr(2)], [offset size(2) + padding], then a PPP frame. Control messages (T) carry no user data.
 */
function l2tp(data: Uint8Array, q: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  if (q + 6 > end) return 'truncated';
  const flags = u16(data, q);
  if ((flags & 0x000f) !== 2 || (flags & 0x8000) !== 0) return 'not-ip';
  let p = q + 2;
  if ((flags & 0x4000) !== 0) p += 2;
  if (p + 4 > end) return 'truncated';
  const tunnel = u16(data, p);
  const session = u16(data, p + 2);
  p += 4;
  if ((flags & 0x0800) !== 0) p += 4;
  if ((flags & 0x0200) !== 0) {
    if (p + 2 > end) return 'truncated';
    p += 2 + u16(data, p);
  }
  if (p > end) return 'truncated';
  if (!pushLayer(out, LAYER.L2TP, ((tunnel << 16) | session) >>> 0, 0, 0)) return 'too-deep';
  cur.pos = p;
  cur.next = NEXT_PPP;
  return 'ok';
}

/**
 * Teredo (RFC 4380 §5.1.1): an IPv6 packet in UDP, optionally preceded by an authentication indicator
 * (0x0001, ID-len, AU-len, client id, authentication value, nonce(8), confirmation(1)) and an origin indication
 * (0x0000, port and IPv4 address XORed with all ones), in that order.
 */
function teredo(data: Uint8Array, q: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  let flags = 0;
  let originPort = 0;
  let originAddr = 0;
  if (q + 2 > end) return 'truncated';
  if (u16(data, q) === 0x0001) {
    if (q + 4 > end) return 'truncated';
    flags |= 2;
    q += 4 + data[q + 2]! + data[q + 3]! + 9;
    if (q + 2 > end) return 'truncated';
  }
  if (u16(data, q) === 0x0000) {
    if (q + 8 > end) return 'truncated';
    flags |= 1;
    originPort = u16(data, q + 2) ^ 0xffff;
    originAddr = (u32(data, q + 4) ^ 0xffffffff) >>> 0;
    q += 8;
  }
  if (q >= end) return 'truncated';
  if (data[q]! >>> 4 !== 6) return 'not-ip'; // not an IPv6 packet: not Teredo data
  const i = out.layers;
  // The origin (the client's mapped address, sent by the server) is per packet: not part of the path.
  if (!pushLayer(out, LAYER.TEREDO, 0, ((originPort << 16) | flags) >>> 0, 0)) return 'too-deep';
  out.layerAddr[i << 3] = originAddr;
  cur.pos = q;
  cur.next = NEXT_IP;
  cur.net = 6;
  return 'ok';
}

/**
 * MPLS label stack (RFC 3032): label(20) TC(3) S(1) TTL(8) per entry, to the bottom of stack. Then, as Wireshark
 * guesses without signalling: first nibble 4 IPv4, 6 IPv6, 0 a pseudowire control word (RFC 4385) before an
 * Ethernet frame (RFC 4448).
 */
export function decodeMpls(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  if (!enter(cur)) return 'too-deep';
  let p = cur.pos;
  const end = cur.end;
  for (;;) {
    if (p + 4 > end) return 'truncated';
    const w = u32(data, p);
    if (!pushLayer(out, LAYER.MPLS, w >>> 12, (w >>> 9) & 7, 0)) return 'too-deep';
    p += 4;
    if ((w & 0x100) !== 0) break;
  }
  if (p >= end) return 'truncated';
  const nibble = data[p]! >>> 4;
  if (nibble === 4 || nibble === 6) {
    cur.pos = p;
    cur.next = NEXT_IP;
    cur.net = nibble;
    return 'ok';
  }
  if (nibble === 0) {
    cur.pos = p + 4;
    cur.next = NEXT_ETHER;
    return 'ok';
  }
  return 'not-ip';
}

/** PPPoE session stage (RFC 2516 §4): ver/type 0x11, code 0, session id(2), length(2), then PPP. */
export function decodePppoe(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  if (p + 6 > cur.end) return 'truncated';
  if (data[p] !== 0x11 || data[p + 1] !== 0) return 'not-ip';
  if (!enter(cur) || !pushLayer(out, LAYER.PPPOE, u16(data, p + 2), 0, 0)) return 'too-deep';
  const len = u16(data, p + 4);
  if (p + 6 + len < cur.end) cur.end = p + 6 + len; // Ethernet padding is not PPP data
  cur.pos = p + 6;
  cur.next = NEXT_PPP;
  return 'ok';
}

/**
 * PPP (RFC 1661 §2): optional HDLC-like address/control 0xFF 0x03 (RFC 1662), then the protocol in 1 byte when
 * compressed (odd, RFC 1661 §6.5) or 2: 0x0021 IPv4, 0x0057 IPv6, 0x0281 MPLS. A first byte 0x0F or 0x8F is Cisco
 * HDLC (LINKTYPE_PPP_HDLC holds both): address, control, then an Ethernet type.
 */
export function decodePpp(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  let p = cur.pos;
  const end = cur.end;
  if (p + 2 > end) return 'truncated';
  if ((data[p] === 0x0f || data[p] === 0x8f) && p + 4 <= end) return etherPayload(data, u16(data, p + 2), p + 4, cur, out);
  if (data[p] === 0xff && data[p + 1] === 0x03) p += 2;
  if (p >= end) return 'truncated';
  let proto = data[p]!;
  if ((proto & 1) === 0) {
    if (p + 2 > end) return 'truncated';
    proto = u16(data, p);
    p += 2;
  } else {
    p += 1;
  }
  cur.pos = p;
  switch (proto) {
    case 0x21: cur.next = NEXT_IP; cur.net = 4; return 'ok';
    case 0x57: cur.next = NEXT_IP; cur.net = 6; return 'ok';
    case 0x281: case 0x283: cur.next = NEXT_MPLS; return 'ok';
    default: return 'not-ip';
  }
}
