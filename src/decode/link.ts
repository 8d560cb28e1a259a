/**
 * Link layer: finds the network header inside a captured frame.
 * Link types per https://www.tcpdump.org/linktypes.html. Hot path: no allocation, manual big-endian reads.
 */
import type { DecodeStatus, TcpPacket } from './packet.js';
import { LINKTYPE } from '../model/link-types.js';
import { LAYER } from './packet.js';
import { pushLayer } from './layers.js';

/** What the header at DecodeCursor.pos is (set by each stage for the next one). */
export const NEXT_IP = 1;     // IPv4/IPv6; cur.net says which (0: the version nibble decides)
export const NEXT_ETHER = 2;  // an Ethernet header (inside a tunnel)
export const NEXT_MPLS = 3;   // an MPLS label stack entry
export const NEXT_PPPOE = 4;  // a PPPoE session header (RFC 2516)
export const NEXT_PPP = 5;    // a PPP protocol field, optionally after HDLC address/control bytes (RFC 1661, 1662)

/**
 * Scratch state handed from one decode stage to the next (one object, reused for every packet).
 * Offsets are absolute indices into the frame's backing buffer.
 */
export interface DecodeCursor {
  /** Start of the header the next stage reads. */
  pos: number;
  /** End of the usable captured bytes (exclusive); the IP stage narrows it to the IP datagram (drops Ethernet padding). */
  end: number;
  /** Network protocol announced by the link layer: 4, 6, or 0 when the IP version nibble decides. */
  net: number;
  /** Set by the IP stage: TCP segment length (header + payload) from the IP length fields. */
  segLen: number;
  /** Set by the IP stage: this is a first fragment with more to come (the segment may not hold the whole TCP header). */
  firstFragment: boolean;
  /** NEXT_*: what the header at `pos` is. */
  next: number;
  /** Set by the IP stage: the protocol of the IP payload at `pos` (6 TCP, 17 UDP, 47 GRE…). */
  proto: number;
  /** Nested encapsulations entered so far (bounded by MAX_NESTING). */
  nest: number;
}

export function newDecodeCursor(): DecodeCursor {
  return { pos: 0, end: 0, net: 0, segLen: 0, firstFragment: false, next: NEXT_IP, proto: 0, nest: 0 };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q C-tag
const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad S-tag
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard Q-in-Q
const ETHERTYPE_MPLS = 0x8847; // RFC 3032 unicast
const ETHERTYPE_MPLS_MC = 0x8848; // RFC 3032/5332 multicast
const ETHERTYPE_PPPOE_SESSION = 0x8864; // RFC 2516 session stage (0x8863 discovery carries no IP)
const ETHERTYPE_TEB = 0x6558; // Transparent Ethernet Bridging: an Ethernet frame (GRE, GENEVE)
const ETHERTYPE_PPP = 0x880b; // PPP (PPTP's enhanced GRE, RFC 2637)
const ETHERTYPE_CMD = 0x8909; // Cisco MetaData (security group tag): version, length, options(2), SGT(2), type(2)

/**
 * Ethertype-style dispatch: `type` is the protocol (an Ethernet type, a Linux cooked protocol, a GRE or GENEVE
 * protocol type), its payload starts at `q`. A VLAN TPID (802.1Q 0x8100, 802.1ad 0x88A8, pre-standard 0x9100)
 * means a 4-byte tag at `q`: TCI(2) then the inner type(2); tags may stack, each is a layer. Records the outermost
 * VLAN id in out.vlan. libpcap re-inserts stripped tags the same way for Ethernet and for Linux cooked captures
 * (the protocol field then holds the TPID). A Cisco MetaData header (0x8909) is skipped the same way.
 */
export function etherPayload(data: Uint8Array, type: number, q: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  for (;;) {
    if (type === ETHERTYPE_CMD) {
      if (q + 8 > end) return 'truncated';
      type = (data[q + 6]! << 8) | data[q + 7]!;
      q += 8;
      continue;
    }
    if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ && type !== ETHERTYPE_QINQ_OLD) break;
    if (q + 4 > end) return 'truncated';
    // TCI: PCP(3) DEI(1) VID(12)
    const vid = ((data[q]! << 8) | data[q + 1]!) & 0x0fff;
    if (out.vlan < 0) out.vlan = vid;
    if (!pushLayer(out, LAYER.VLAN, vid, type, 0)) return 'too-deep';
    type = (data[q + 2]! << 8) | data[q + 3]!;
    q += 4;
  }
  cur.pos = q;
  switch (type) {
    case ETHERTYPE_IPV4: cur.next = NEXT_IP; cur.net = 4; return 'ok';
    case ETHERTYPE_IPV6: cur.next = NEXT_IP; cur.net = 6; return 'ok';
    case ETHERTYPE_MPLS: case ETHERTYPE_MPLS_MC: cur.next = NEXT_MPLS; return 'ok';
    case ETHERTYPE_PPPOE_SESSION: cur.next = NEXT_PPPOE; return 'ok';
    case ETHERTYPE_TEB: cur.next = NEXT_ETHER; return 'ok';
    case ETHERTYPE_PPP: cur.next = NEXT_PPP; return 'ok';
    default: return 'not-ip';
  }
}

/** An Ethernet II header at cur.pos: dst MAC(6) src MAC(6) ethertype(2). */
export function decodeEthernet(data: Uint8Array, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  if (p + 14 > cur.end) return 'truncated';
  return etherPayload(data, (data[p + 12]! << 8) | data[p + 13]!, p + 14, cur, out);
}

/**
 * BSD NULL/LOOP 4-byte address family. NULL is in the capturing host's byte order, LOOP in network order; the
 * values are small, so a value above 0xffff means the other byte order. AF_INET = 2 everywhere; AF_INET6 is
 * 24 (NetBSD/OpenBSD), 28 (FreeBSD/DragonFly), 30 (Darwin).
 */
function bsdFamily(data: Uint8Array, p: number, cur: DecodeCursor): DecodeStatus {
  if (p + 4 > cur.end) return 'truncated';
  let af = ((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) >>> 0;
  if (af > 0xffff) af = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
  cur.pos = p + 4;
  cur.next = NEXT_IP;
  if (af === 2) cur.net = 4;
  else if (af === 24 || af === 28 || af === 30) cur.net = 6;
  else return 'not-ip';
  return 'ok';
}

const ARC_IP_RFC1051 = 240;  // RFC 1051 system codes: no split flag or sequence number
const ARC_ARP_RFC1051 = 241;
const ARC_DIAGNOSE = 0x80;
const ARC_IP = 212;          // RFC 1201 system codes (Linux include/uapi/linux/if_arcnet.h)
const ARC_IPV6 = 196;

/**
 * ARCNET (RFC 1051, RFC 1201). The header is source(1) destination(1), then on Linux an offset(2) (the position in
 * the 256/512-byte ARCNET buffer), then the system code(1). RFC 1051 codes (240 IP, 241 ARP) and diagnostics (0x80)
 * end there; every other code is RFC 1201 framing: split flag(1) sequence number(2). Only the BSD form carries raw
 * frames: a split flag 0xFF there is an exception packet (RFC 1201: flag 0xFF and two padding bytes, then the
 * system code, split flag and sequence number again), and an even non-zero split flag is a later fragment with no
 * network header. Linux hands up reassembled packets with the plain header (as tcpdump's print-arcnet.c and
 * Wireshark's packet-arcnet.c read them).
 */
function arcnet(data: Uint8Array, p: number, linux: boolean, cur: DecodeCursor): DecodeStatus {
  const end = cur.end;
  let q = linux ? p + 4 : p + 2;
  if (q + 1 > end) return 'truncated';
  let code = data[q]!;
  q += 1;
  if (code !== ARC_IP_RFC1051 && code !== ARC_ARP_RFC1051 && code !== ARC_DIAGNOSE) {
    if (q + 3 > end) return 'truncated';
    let split = data[q]!;
    if (!linux && split === 0xff) {
      if (q + 7 > end) return 'truncated';
      code = data[q + 3]!;
      split = data[q + 4]!;
      q += 7;
    } else {
      q += 3;
    }
    if (!linux && split !== 0 && (split & 1) === 0) return 'not-ip';
  }
  cur.pos = q;
  cur.next = NEXT_IP;
  if (code === ARC_IP || code === ARC_IP_RFC1051) cur.net = 4;
  else if (code === ARC_IPV6) cur.net = 6;
  else return 'not-ip';
  return 'ok';
}

/**
 * Decodes the link header of `linkType` starting at cur.pos (bounded by cur.end). On 'ok', cur.pos is the next
 * header and cur.next says what it is (for NEXT_IP, cur.net says which IP version the link layer announced, 0: the
 * version nibble decides). Sets out.vlan, out.sllPacketType and the SLL2 interface index in out.ifKey when the link
 * type carries them (the caller resets them).
 */
export function decodeLink(data: Uint8Array, linkType: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return decodeEthernet(data, cur, out);

    case LINKTYPE.LINUX_SLL:
      // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
      if (p + 16 > cur.end) return 'truncated';
      out.sllPacketType = (data[p]! << 8) | data[p + 1]!;
      return etherPayload(data, (data[p + 14]! << 8) | data[p + 15]!, p + 16, cur, out);

    case LINKTYPE.LINUX_SLL2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
      if (p + 20 > cur.end) return 'truncated';
      out.sllPacketType = data[p + 10]!;
      out.ifKey = (out.ifKey ^ Math.imul((data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!, 0x9e3779b1)) | 0;
      return etherPayload(data, (data[p]! << 8) | data[p + 1]!, p + 20, cur, out);

    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC:
      // PPP, with or without HDLC-like framing (RFC 1662: address 0xFF, control 0x03), then the protocol.
      cur.next = NEXT_PPP;
      return 'ok';

    case LINKTYPE.PPP_ETHER:
      // A PPPoE header without the Ethernet header (RFC 2516).
      cur.next = NEXT_PPPOE;
      return 'ok';

    case LINKTYPE.C_HDLC:
      // Cisco HDLC: address(1) control(1) protocol(2), an Ethernet type.
      if (p + 4 > cur.end) return 'truncated';
      return etherPayload(data, (data[p + 2]! << 8) | data[p + 3]!, p + 4, cur, out);

    case LINKTYPE.ARCNET_LINUX:
    case LINKTYPE.ARCNET_BSD:
      return arcnet(data, p, linkType === LINKTYPE.ARCNET_LINUX, cur);

    case LINKTYPE.IPOIB:
      // IP over InfiniBand as Linux captures it (tcpdump's print-ipoib.c, Wireshark's packet-ipoib.c): 40 bytes
      // before the RFC 4391 §6 header (the destination hardware address, QPN(4) and GID(16), in the last 20), then
      // type(2), an Ethernet type, and reserved(2).
      if (p + 44 > cur.end) return 'truncated';
      return etherPayload(data, (data[p + 40]! << 8) | data[p + 41]!, p + 44, cur, out);

    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return bsdFamily(data, p, cur);

    case LINKTYPE.RAW:
    case LINKTYPE.RAW_12:
    case LINKTYPE.RAW_14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      // Raw IP: the version nibble decides (LINKTYPE_IPV4/IPV6 included, per linktypes.html they hold raw IP).
      cur.next = NEXT_IP;
      cur.net = 0;
      return 'ok';

    default:
      return 'unsupported-link';
  }
}
