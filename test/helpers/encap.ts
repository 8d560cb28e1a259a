/**
 * Wraps packets in tunnel and link-level encapsulations, for what no capture in the repository holds (IP-in-IP in
 * every combination, Teredo indications, PPTP, GRE routing, MPLS pseudowires, nesting past the bound) and for the
 * metamorphic relations (one direction of a real capture wrapped in GRE or VXLAN).
 *
 *   const inner = buildFrame(spec, { type: 'raw' });                     // an IP packet
 *   ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 47, gre({ proto: 0x0800, key: 5 }, inner)))
 *
 * Header layouts: RFC 791/8200 (IP), 768 (UDP), 2784/2890/1701 (GRE), 2637 (PPTP), 7348 (VXLAN), 8926 (GENEVE),
 * 4380 (Teredo), 3032/4385 (MPLS, control word), 2516 (PPPoE), draft-foschiano-erspan.
 */
import { parseAddress } from '../../src/decode/format.js';

type Bytes = ArrayLike<number>;

function cat(...parts: Bytes[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(Array.from(p), o); o += p.length; }
  return out;
}

const u16 = (v: number) => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

function addr(text: string): number[] {
  const a = parseAddress(text);
  if (a === null) throw new Error(`not an address: ${text}`);
  return a.ipVersion === 4 ? u32(a.words[0]!) : Array.from(a.words).flatMap(u32);
}

function ipChecksum(h: number[]): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += (h[i]! << 8) | (h[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4 header (protocol `proto`) around `payload`. */
export function ipv4(src: string, dst: string, proto: number, payload: Bytes, opts: { ttl?: number; id?: number } = {}): Uint8Array {
  const h = [0x45, 0, ...u16(20 + payload.length), ...u16(opts.id ?? 1), 0x40, 0, opts.ttl ?? 64, proto, 0, 0, ...addr(src), ...addr(dst)];
  const c = ipChecksum(h);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return cat(h, payload);
}

/** An IPv6 header (next header `nh`) around `payload`. */
export function ipv6(src: string, dst: string, nh: number, payload: Bytes, hopLimit = 64): Uint8Array {
  return cat([0x60, 0, 0, 0, ...u16(payload.length), nh, hopLimit, ...addr(src), ...addr(dst)], payload);
}

/** A UDP header (checksum 0: not computed, which the decoder does not check) around `payload`. */
export function udp(sport: number, dport: number, payload: Bytes): Uint8Array {
  return cat([...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0], payload);
}

export interface GreSpec {
  proto: number;
  key?: number;
  seq?: number;
  checksum?: boolean;
  /** RFC 1701 source route entries (IPv4 family, one 8-byte entry), ended by the null entry. */
  routing?: boolean;
  /** PPTP's enhanced GRE (version 1): the call id goes in the key's low half, an optional acknowledgment number. */
  pptp?: { call: number; ack?: number };
}

export function gre(g: GreSpec, payload: Bytes): Uint8Array {
  if (g.pptp) {
    const flags = 0x2000 | (g.seq !== undefined ? 0x1000 : 0) | (g.pptp.ack !== undefined ? 0x0080 : 0) | 1;
    return cat([...u16(flags), ...u16(0x880b), ...u16(payload.length), ...u16(g.pptp.call)],
      g.seq !== undefined ? u32(g.seq) : [], g.pptp.ack !== undefined ? u32(g.pptp.ack) : [], payload);
  }
  const flags = (g.checksum ? 0x8000 : 0) | (g.routing ? 0x4000 : 0) | (g.key !== undefined ? 0x2000 : 0) | (g.seq !== undefined ? 0x1000 : 0);
  return cat([...u16(flags), ...u16(g.proto)], g.checksum || g.routing ? [0, 0, 0, 0] : [],
    g.key !== undefined ? u32(g.key) : [], g.seq !== undefined ? u32(g.seq) : [],
    g.routing ? [0x08, 0x00, 0, 8, 192, 0, 2, 1, 192, 0, 2, 2, 0, 0, 0, 0] : [], payload);
}

/** An Ethernet II header (zero MACs but for the last byte) with optional 802.1Q tags, outermost first. */
export function ether(type: number, payload: Bytes, vlans: number[] = []): Uint8Array {
  return cat([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1], ...vlans.map((v) => [0x81, 0x00, ...u16(v)]), u16(type), payload);
}

export function vxlan(vni: number, frame: Bytes): Uint8Array {
  return cat([0x08, 0, 0, 0, ...u32(vni << 8)], frame);
}

/** VXLAN-GPE: next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS. */
export function vxlanGpe(vni: number, next: number, payload: Bytes): Uint8Array {
  return cat([0x0c, 0, 0, next, ...u32(vni << 8)], payload);
}

/** GENEVE with `optionBytes` of options (one option TLV of that size; a multiple of 4, at least 4). */
export function geneve(vni: number, proto: number, payload: Bytes, optionBytes = 0): Uint8Array {
  const opts = optionBytes === 0 ? [] : [0x01, 0x02, 0x03, (optionBytes / 4 - 1) & 0x1f, ...new Array<number>(optionBytes - 4).fill(0xab)];
  return cat([(optionBytes / 4) & 0x3f, 0, ...u16(proto), ...u32(vni << 8)], opts, payload);
}

/** Teredo (RFC 4380 §5.1.1): optional authentication indicator, then optional origin indication, then IPv6. */
export function teredo(ipv6Packet: Bytes, opts: { origin?: { addr: string; port: number }; auth?: { id: number[]; value: number[] } } = {}): Uint8Array {
  const auth = opts.auth ? [0, 1, opts.auth.id.length, opts.auth.value.length, ...opts.auth.id, ...opts.auth.value, 1, 2, 3, 4, 5, 6, 7, 8, 0] : [];
  const origin = opts.origin ? [0, 0, ...u16(opts.origin.port ^ 0xffff), ...addr(opts.origin.addr).map((b) => b ^ 0xff)] : [];
  return cat(auth, origin, ipv6Packet);
}

/** An MPLS label stack (outermost first, bottom-of-stack set on the last), optionally a PW control word. */
export function mpls(labels: number[], payload: Bytes, controlWord = false): Uint8Array {
  const stack = labels.flatMap((l, i) => u32(((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0));
  return cat(stack, controlWord ? [0, 0, 0, 0] : [], payload);
}

/** A PPPoE session header and the PPP protocol (0x0021 IPv4, 0x0057 IPv6). */
export function pppoe(session: number, pppProto: number, payload: Bytes): Uint8Array {
  return cat([0x11, 0x00, ...u16(session), ...u16(payload.length + 2), ...u16(pppProto)], payload);
}

/** PPP with HDLC-like framing (0xFF 0x03) and a 2-byte protocol. */
export function ppp(pppProto: number, payload: Bytes): Uint8Array {
  return cat([0xff, 0x03, ...u16(pppProto)], payload);
}

/** ERSPAN type II (GRE with a sequence number, protocol 0x88BE) around a mirrored Ethernet frame. */
export function erspanII(session: number, vlan: number, frame: Bytes, seq = 1): Uint8Array {
  return gre({ proto: 0x88be, seq }, cat([...u16((1 << 12) | vlan), ...u16(session & 0x3ff), 0, 0, 0, 7], frame));
}

/** ERSPAN type III (GRE protocol 0x22EB), optionally with the 8-byte platform sub-header. */
export function erspanIII(session: number, frame: Bytes, subHeader = false): Uint8Array {
  return gre({ proto: 0x22eb, seq: 1 }, cat([...u16(2 << 12), ...u16(session & 0x3ff), 0x12, 0x34, 0x56, 0x78, 0, 0, 0, subHeader ? 1 : 0],
    subHeader ? [0x1c, 0, 0, 0, 0, 0, 0, 0] : [], frame));
}

/** GTP-U G-PDU (3GPP TS 29.281 §5.1), optionally with the sequence word and one 4-byte extension header. */
export function gtpU(teid: number, payload: Bytes, withExtension = false): Uint8Array {
  const opt = withExtension ? [0, 1, 0, 0x85, 1, 0xaa, 0xbb, 0] : [];
  return cat([withExtension ? 0x36 : 0x30, 255, ...u16(opt.length + payload.length), ...u32(teid)], opt, payload);
}

/** An L2TPv2 data message (RFC 2661 §3.1) with length, sequence and offset fields, carrying a PPP frame. */
export function l2tp(tunnel: number, session: number, pppFrame: Bytes): Uint8Array {
  const body = [...u16(tunnel), ...u16(session), 0, 1, 0, 2, 0, 2, 0xee, 0xee];
  return cat([...u16(0x4000 | 0x0800 | 0x0200 | 2), ...u16(4 + body.length + pppFrame.length)], body, pppFrame);
}
