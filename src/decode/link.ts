/**
 * Link layer: finds the network header inside a captured frame.
 * Link types per https://www.tcpdump.org/linktypes.html. Hot path: no allocation, manual big-endian reads.
 */
import type { DecodeStatus, TcpPacket } from './packet.js';
import { LINKTYPE } from '../model/link-types.js';

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
}

export function newDecodeCursor(): DecodeCursor {
  return { pos: 0, end: 0, net: 0, segLen: 0, firstFragment: false };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // IEEE 802.1Q C-tag
const ETHERTYPE_QINQ = 0x88a8; // IEEE 802.1ad S-tag
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard Q-in-Q

/**
 * Ethertype-style dispatch: the protocol is the 16-bit value at `t`, the payload starts at `q`. A VLAN TPID
 * (802.1Q 0x8100, 802.1ad 0x88A8, pre-standard 0x9100) means a 4-byte tag at `q`: TCI(2) then the inner type(2);
 * tags may stack. Records the outermost VLAN id. libpcap re-inserts stripped tags the same way for Ethernet and
 * for Linux cooked captures (the protocol field then holds the TPID).
 */
function etherPayload(data: Uint8Array, t: number, q: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const end = cur.end;
  let type = (data[t]! << 8) | data[t + 1]!;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (q + 4 > end) return 'truncated';
    // TCI: PCP(3) DEI(1) VID(12)
    if (out.vlan < 0) out.vlan = ((data[q]! << 8) | data[q + 1]!) & 0x0fff;
    type = (data[q + 2]! << 8) | data[q + 3]!;
    q += 4;
  }
  cur.pos = q;
  if (type === ETHERTYPE_IPV4) cur.net = 4;
  else if (type === ETHERTYPE_IPV6) cur.net = 6;
  else return 'not-ip';
  return 'ok';
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
  if (af === 2) cur.net = 4;
  else if (af === 24 || af === 28 || af === 30) cur.net = 6;
  else return 'not-ip';
  return 'ok';
}

/**
 * Decodes the link header of `linkType` starting at cur.pos (bounded by cur.end). On 'ok', cur.pos is the network
 * header and cur.net says which IP version the link layer announced (0: the version nibble decides).
 * Sets out.vlan and out.sllPacketType when the link type carries them (the caller resets them to -1).
 */
export function decodeLink(data: Uint8Array, linkType: number, cur: DecodeCursor, out: TcpPacket): DecodeStatus {
  const p = cur.pos;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      // dst MAC(6) src MAC(6) ethertype(2)
      if (p + 14 > cur.end) return 'truncated';
      return etherPayload(data, p + 12, p + 14, cur, out);

    case LINKTYPE.LINUX_SLL:
      // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
      if (p + 16 > cur.end) return 'truncated';
      out.sllPacketType = (data[p]! << 8) | data[p + 1]!;
      return etherPayload(data, p + 14, p + 16, cur, out);

    case LINKTYPE.LINUX_SLL2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
      if (p + 20 > cur.end) return 'truncated';
      out.sllPacketType = data[p + 10]!;
      return etherPayload(data, p, p + 20, cur, out);

    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return bsdFamily(data, p, cur);

    case LINKTYPE.RAW:
    case LINKTYPE.RAW_12:
    case LINKTYPE.RAW_14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      // Raw IP: the version nibble decides (LINKTYPE_IPV4/IPV6 included, per linktypes.html they hold raw IP).
      cur.net = 0;
      return 'ok';

    default:
      return 'unsupported-link';
  }
}
