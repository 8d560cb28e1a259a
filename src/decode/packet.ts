/**
 * The decoded form of a TCP segment, filled in place by decodeFrame() (no allocation per packet).
 * Addresses are kept as 32-bit words so the flow table can key on numbers; strings are built only for output.
 */

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export type DecodeStatus =
  | 'ok'               // a TCP segment, header complete
  | 'not-ip'           // link payload is not IPv4/IPv6 (ARP, LLDP…)
  | 'not-tcp'          // IP but not TCP (UDP, ICMP…)
  | 'fragment'         // IPv4/IPv6 non-first fragment: counted, not decoded
  | 'truncated'        // frame ends before the TCP header does
  | 'malformed'        // impossible header values (IHL < 5, data offset < 5, lengths that do not fit)
  | 'too-deep'         // more nested encapsulations (tunnels, tags, labels) than the decoder follows
  | 'unsupported-link'; // no decoder for this link type

export interface TcpPacket {
  ipVersion: 4 | 6;
  /** Source / destination address words: IPv4 in [0] with [1..3] = 0; IPv6 as four big-endian words. */
  src: Uint32Array;
  dst: Uint32Array;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 identification; -1 for IPv6. */
  ipId: number;
  /** Outermost 802.1Q/802.1ad VLAN id, -1 when untagged. */
  vlan: number;
  /** Linux SLL/SLL2 packet type (0 to us, 4 outgoing…), -1 when the link type has none. */
  sllPacketType: number;

  // Encapsulation (src/decode/encap.ts): the headers between the link layer and the innermost IP header, outermost
  // first, one entry per VLAN tag, MPLS label, outer IP header and tunnel header. Filled for every status, as far
  // as the decoder got; entries past `layers` are stale.
  /** Number of layer entries (0..MAX_LAYERS). */
  layers: number;
  /** LAYER_* kind of each entry. */
  layerKind: Uint8Array;
  /** The entry's identity: VLAN id, MPLS label, PPPoE session, GRE key / PPTP call id, VNI, ERSPAN session. */
  layerId: Uint32Array;
  /** Per kind (see encap.ts): IP version, GRE flags and protocol, ERSPAN version and VLAN, GENEVE option bytes… */
  layerAux: Uint32Array;
  /** Outer IP layers: source words at [8i, 8i+4), destination at [8i+4, 8i+8); Teredo origin IPv4 at [8i]. */
  layerAddr: Uint32Array;
  /**
   * Hash of everything that identifies the path the packet took and may differ per direction or per network: the
   * capture interface, VLAN ids, MPLS labels, tunnel ids and outer addresses (unordered, so both directions of a
   * symmetric tunnel agree). Never per-packet values (GRE sequence numbers, timestamps). 0 for a plain packet on
   * interface 0.
   */
  pathSig: number;
  /** Hash of the VLAN ids at every layer, in order; 0 when untagged (the `tuple+vlan` flow key). */
  vlanKey: number;
  /** The capture interface: pcapng interface id and the Linux cooked v2 interface index (the `tuple+interface` key). */
  ifKey: number;

  srcPort: number;
  dstPort: number;
  /** Unsigned 32-bit values (0..2^32-1) as JS numbers. */
  seq: number;
  ack: number;
  /** TCP flag bits (FIN=1 … CWR=128). */
  flags: number;
  /** Raw (unscaled) window field. */
  window: number;
  /** Payload length from the IP length fields minus headers (never from the captured length). */
  payloadLen: number;
  /** Captured TCP payload bytes available in the frame (<= payloadLen). */
  capturedPayloadLen: number;
  /** Offset of the TCP payload within the frame's data. */
  payloadOffset: number;

  // TCP options (reset for every packet)
  mss: number;          // -1 when absent
  wscale: number;       // -1 when absent
  sackPermitted: boolean;
  hasTs: boolean;
  tsVal: number;        // unsigned 32-bit
  tsEcr: number;        // unsigned 32-bit
  sackCount: number;    // number of SACK blocks (0..4)
  /** Segment authentication option: 19 TCP-MD5 (RFC 2385), 29 TCP-AO (RFC 5925), 0 none. */
  auth: number;
  /** SACK blocks as [left0, right0, left1, right1, …]; only the first 2*sackCount entries are meaningful. */
  sack: Uint32Array;
}

/** Layer entries a packet can hold (VLAN tags and MPLS labels count one each). */
export const MAX_LAYERS = 16;
/** Nested encapsulations followed (each tunnel, MPLS stack or PPPoE session that leads to another header). */
export const MAX_NESTING = 8;

/** Layer kinds (TcpPacket.layerKind). */
export const LAYER = {
  VLAN: 1,      // id: VLAN id; aux: TPID
  MPLS: 2,      // id: label; aux: traffic class
  PPPOE: 3,     // id: session id
  IP: 4,        // an outer IP header carrying a tunnel; aux: 4 or 6; addresses in layerAddr
  GRE: 5,       // id: key (or PPTP call id); aux: GRE flags/version word << 16 | protocol type
  ERSPAN: 6,    // id: session id; aux: version (0 type I, 1 type II, 2 type III) << 16 | original VLAN
  VXLAN: 7,     // id: VNI; aux: UDP port
  VXLAN_GPE: 8, // id: VNI; aux: next protocol
  GENEVE: 9,    // id: VNI; aux: option bytes << 16 | protocol type
  TEREDO: 10,   // aux: bit 0 origin indication, bit 1 authentication, origin port << 16; origin IPv4 in layerAddr
  GTP_U: 11,    // id: TEID
  L2TP: 12,     // id: tunnel id << 16 | session id
} as const;

export function newTcpPacket(): TcpPacket {
  return {
    ipVersion: 4, src: new Uint32Array(4), dst: new Uint32Array(4), ttl: 0, ipId: -1, vlan: -1, sllPacketType: -1,
    layers: 0, layerKind: new Uint8Array(MAX_LAYERS), layerId: new Uint32Array(MAX_LAYERS),
    layerAux: new Uint32Array(MAX_LAYERS), layerAddr: new Uint32Array(MAX_LAYERS * 8), pathSig: 0, vlanKey: 0, ifKey: 0,
    srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, payloadLen: 0, capturedPayloadLen: 0, payloadOffset: 0,
    mss: -1, wscale: -1, sackPermitted: false, hasTs: false, tsVal: 0, tsEcr: 0, sackCount: 0, auth: 0, sack: new Uint32Array(8),
  };
}

export { LINKTYPE } from '../model/link-types.js';
