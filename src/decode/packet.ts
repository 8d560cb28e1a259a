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
  /** SACK blocks as [left0, right0, left1, right1, …]; only the first 2*sackCount entries are meaningful. */
  sack: Uint32Array;
}

export function newTcpPacket(): TcpPacket {
  return {
    ipVersion: 4, src: new Uint32Array(4), dst: new Uint32Array(4), ttl: 0, ipId: -1, vlan: -1, sllPacketType: -1,
    srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, payloadLen: 0, capturedPayloadLen: 0, payloadOffset: 0,
    mss: -1, wscale: -1, sackPermitted: false, hasTs: false, tsVal: 0, tsEcr: 0, sackCount: 0, sack: new Uint32Array(8),
  };
}

export { LINKTYPE } from '../model/link-types.js';
