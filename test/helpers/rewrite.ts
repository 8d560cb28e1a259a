/**
 * Rewrites real captures for metamorphic tests: the same packets with shifted sequence numbers, VLAN tags, another
 * file format, or interleaved with another capture must give the same verdicts.
 */
import { openCapture } from '../../src/capture/open.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import type { Report } from '../../src/model/report.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { formatEndpoint } from '../../src/decode/format.js';
import { LINKTYPE, newTcpPacket } from '../../src/decode/packet.js';
import { frameOf } from './packets.js';
import { gre, ipv4, ipv6, udp, vxlan } from './encap.js';
import { PcapngBuilder } from './pcapng-writer.js';
import { endpointText, type Endpoint } from '../../src/model/endpoint.js';

export interface Frame { tsSec: number; tsNsec: number; linkType: number; bytes: Uint8Array; wireLength: number }

export async function readFrames(path: string): Promise<Frame[]> {
  const src = await openCapture(path);
  const out: Frame[] = [];
  const res = await src.run((f) => {
    out.push({ tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, wireLength: f.wireLength,
      bytes: f.data.slice(f.dataOffset, f.dataOffset + f.capLength) });
  });
  if (res.error) throw res.error;
  return out;
}

/** Offset of the TCP header in an Ethernet (optionally VLAN-tagged) IPv4/IPv6 frame, or -1. */
export function tcpOffset(b: Uint8Array): number {
  let off = 12;
  let type = (b[off]! << 8) | b[off + 1]!;
  while (type === 0x8100 || type === 0x88a8) { off += 4; type = (b[off]! << 8) | b[off + 1]!; }
  off += 2;
  if (type === 0x0800 && b[off + 9] === 6) return off + (b[off]! & 0x0f) * 4;
  if (type === 0x86dd && b[off + 6] === 6) return off + 40;
  return -1;
}

const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const put32 = (b: Uint8Array, o: number, v: number) => { b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 255; b[o + 2] = (v >>> 8) & 255; b[o + 3] = v & 255; };

/** Adds `delta` (mod 2^32) to the sequence numbers sent from `port`, and to the ACKs sent towards it. */
export function shiftSeq(frames: Frame[], port: number, delta: number): Frame[] {
  return frames.map((f) => {
    const b = f.bytes.slice();
    const t = tcpOffset(b);
    if (t < 0 || t + 16 > b.length) return { ...f, bytes: b };
    const sport = (b[t]! << 8) | b[t + 1]!;
    const dport = (b[t + 2]! << 8) | b[t + 3]!;
    const ackBit = (b[t + 13]! & 0x10) !== 0;
    if (sport === port) put32(b, t + 4, (u32(b, t + 4) + delta) >>> 0);
    if (dport === port && ackBit) put32(b, t + 8, (u32(b, t + 8) + delta) >>> 0);
    return { ...f, bytes: b };
  });
}

/** Drops every TCP frame sent from one of `ports` (one direction of each connection; non-TCP frames stay). */
export function dropFromPorts(frames: Frame[], ports: Set<number>): Frame[] {
  return frames.filter((f) => {
    const t = tcpOffset(f.bytes);
    return t < 0 || t + 2 > f.bytes.length || !ports.has((f.bytes[t]! << 8) | f.bytes[t + 1]!);
  });
}

/** Wraps every Ethernet frame in 802.1ad + 802.1Q tags. */
export function wrapVlan(frames: Frame[], outer: number, inner: number): Frame[] {
  return frames.map((f) => {
    const b = new Uint8Array(f.bytes.length + 8);
    b.set(f.bytes.subarray(0, 12), 0);
    b.set([0x88, 0xa8, outer >> 8, outer & 255, 0x81, 0x00, inner >> 8, inner & 255], 12);
    b.set(f.bytes.subarray(12), 20);
    return { ...f, bytes: b, wireLength: f.wireLength + 8 };
  });
}

/** Remaps TCP ports (both directions) so another capture's tuples do not collide. */
export function remapPorts(frames: Frame[], map: (p: number) => number): Frame[] {
  return frames.map((f) => {
    const b = f.bytes.slice();
    const t = tcpOffset(b);
    if (t >= 0) {
      const s = map((b[t]! << 8) | b[t + 1]!);
      const d = map((b[t + 2]! << 8) | b[t + 3]!);
      b[t] = s >> 8; b[t + 1] = s & 255; b[t + 2] = d >> 8; b[t + 3] = d & 255;
    }
    return { ...f, bytes: b };
  });
}

/** Shifts timestamps by whole nanoseconds. */
export function shiftTime(frames: Frame[], ns: bigint): Frame[] {
  return frames.map((f) => {
    const t = BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec) + ns;
    return { ...f, tsSec: Number(t / 1_000_000_000n), tsNsec: Number(t % 1_000_000_000n) };
  });
}

export function mergeByTime(a: Frame[], b: Frame[]): Frame[] {
  const key = (f: Frame) => BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);
  return [...a, ...b].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

export function toPcap(frames: Frame[], nanosecond = false): Buffer {
  return PcapWriter.toBuffer(frames.map((f) => ({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.bytes, wireLength: f.wireLength })),
    { linkType: frames[0]?.linkType ?? 1, nanosecond });
}

/** pcapng with nanosecond resolution on interface 0 (and an unused second interface of another link type). */
export function toPcapng(frames: Frame[]): Buffer {
  const b = new PcapngBuilder().shb().idb(frames[0]?.linkType ?? 1, { tsresol: 9 }).idb(113, { tsresol: 6 });
  for (const f of frames) b.epb(0, BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), f.bytes, { origLength: f.wireLength });
  return b.build();
}

/** Verdicts keyed by tuple and incarnation (ids depend on interleaving). */
export function verdicts(r: Report, portMap: (p: number) => number = (p) => p) {
  const norm = (ep: Endpoint) => endpointText({ ...ep, port: portMap(ep.port) });
  const byId = new Map(r.connections.map((c) => [c.id, c]));
  const key = (id: string) => { const c = byId.get(id)!; return `${norm(c.client)}>${norm(c.server)}#${c.incarnation}`; };
  const pick = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).filter(([k]) =>
    ['closedSide', 'stuckSide', 'stuck', 'openAtEnd', 'by', 'class', 'origin', 'holder', 'isn', 'timestamps', 'outcome', 'lostBy', 'variant', 'ackCaptured', 'retransmissions', 'legitimate'].includes(k)));
  return {
    connections: Object.fromEntries(r.connections.map((c) => [key(c.id), [c.teardown, c.closer, c.ending, c.states.client, c.states.server, c.handshake]])),
    findings: r.findings.map((f) => `${key(f.connection)} ${f.kind} ${f.severity} ${JSON.stringify(pick(f.details))} frames=${f.evidence.length}`).sort(),
  };
}

/**
 * Which frames travel client → server, by the clients of a report: the decoder's source endpoint (after any
 * encapsulation) is one of the report's client endpoints.
 */
export function fromClients(r: Report): (f: Frame) => boolean {
  const clients = new Set(r.connections.map((c) => endpointText(c.client)));
  const servers = new Set(r.connections.map((c) => endpointText(c.server)));
  const p = newTcpPacket();
  return (f) => {
    if (decodeFrame(frameOf(f.bytes, f.linkType, { wireLength: f.wireLength }), p) !== 'ok') return false;
    const src = formatEndpoint(p.ipVersion, p.src, p.srcPort);
    const dst = formatEndpoint(p.ipVersion, p.dst, p.dstPort);
    return clients.has(src) && servers.has(dst);
  };
}

/**
 * Where the link header ends and where its protocol field is, for the link types a tag or tunnel can be put into:
 * Ethernet (type at 12, after any tags already there), Linux cooked v1 (14) and v2 (0); null for others.
 */
function linkLayout(f: Frame): { typeAt: number; end: number } | null {
  const b = f.bytes;
  if (f.linkType === LINKTYPE.ETHERNET) {
    let t = 12;
    while (b.length >= t + 6 && (((b[t]! << 8) | b[t + 1]!) === 0x8100 || ((b[t]! << 8) | b[t + 1]!) === 0x88a8)) t += 4;
    return b.length >= t + 2 ? { typeAt: t, end: t + 2 } : null;
  }
  if (f.linkType === LINKTYPE.LINUX_SLL) return b.length >= 16 ? { typeAt: 14, end: 16 } : null;
  if (f.linkType === LINKTYPE.LINUX_SLL2) return b.length >= 20 ? { typeAt: 0, end: 20 } : null;
  return null;
}

const RAW_IP: readonly number[] = [LINKTYPE.RAW, LINKTYPE.RAW_12, LINKTYPE.RAW_14, LINKTYPE.IPV4, LINKTYPE.IPV6];

/** Adds one 802.1Q tag (VLAN `vid`) to the frames `which` selects (Ethernet and Linux cooked, as libpcap shows tags). */
export function tagSome(frames: Frame[], which: (f: Frame) => boolean, vid: number): Frame[] {
  return frames.map((f) => {
    const l = linkLayout(f);
    if (l === null || !which(f)) return f;
    const b = f.bytes;
    const type = [b[l.typeAt]!, b[l.typeAt + 1]!];
    const out = new Uint8Array(b.length + 4);
    out.set(b.subarray(0, l.end), 0);
    out[l.typeAt] = 0x81; out[l.typeAt + 1] = 0x00;
    out.set([vid >> 8, vid & 255, type[0]!, type[1]!], l.end);
    out.set(b.subarray(l.end), l.end + 4);
    return { ...f, bytes: out, wireLength: f.wireLength + 4 };
  });
}

/**
 * Wraps the frames `which` selects in a tunnel between 192.0.2.1 and 192.0.2.2: 'gre' puts the link payload in
 * IPv4 + GRE (protocol = the link's own type), 'vxlan' puts the whole Ethernet frame in IPv4 + UDP 4789 + VXLAN
 * (VNI 42) behind a new Ethernet header; on raw-IP link types 'gre' puts an outer IP + GRE before the packet. Lengths
 * follow the wire length, so a frame cut by the snaplen stays cut. Frames of other link types, and of types VXLAN
 * cannot carry (not Ethernet), are left as they are.
 */
export function tunnelSome(frames: Frame[], which: (f: Frame) => boolean, kind: 'gre' | 'vxlan'): Frame[] {
  return frames.map((f) => {
    if (kind === 'gre' && RAW_IP.includes(f.linkType) && which(f) && f.bytes.length > 0) {
      // Raw IP: an outer header of the link's own IP version (LINKTYPE_IPV6 holds IPv6 only) + GRE, no link header.
      const v6 = f.linkType === LINKTYPE.IPV6;
      const proto = f.bytes[0]! >>> 4 === 6 ? 0x86dd : 0x0800;
      const stand = new Uint8Array(f.wireLength);
      const outer = v6 ? ipv6('2001:db8::c000:201', '2001:db8::c000:202', 47, gre({ proto }, stand)) : ipv4('192.0.2.1', '192.0.2.2', 47, gre({ proto }, stand));
      const head = outer.subarray(0, outer.length - f.wireLength);
      const out = new Uint8Array(head.length + f.bytes.length);
      out.set(head, 0);
      out.set(f.bytes, head.length);
      return { ...f, bytes: out, wireLength: head.length + f.wireLength };
    }
    const l = linkLayout(f);
    if (l === null || !which(f) || (kind === 'vxlan' && f.linkType !== LINKTYPE.ETHERNET)) return f;
    const b = f.bytes;
    const type = (b[l.typeAt]! << 8) | b[l.typeAt + 1]!;
    // The tunnel headers around a stand-in payload of the wire length; the captured bytes replace it.
    const inner = kind === 'gre' ? b.subarray(l.end) : b;
    const innerWire = kind === 'gre' ? f.wireLength - l.end : f.wireLength;
    const stand = new Uint8Array(innerWire);
    const outer = kind === 'gre'
      ? ipv4('192.0.2.1', '192.0.2.2', 47, gre({ proto: type }, stand))
      : ipv4('192.0.2.1', '192.0.2.2', 17, udp(49152, 4789, vxlan(42, stand)));
    const head = outer.subarray(0, outer.length - innerWire);
    const link = kind === 'gre' ? Uint8Array.from(b.subarray(0, l.end)) : Uint8Array.from(b.subarray(0, 12).reverse());
    if (kind === 'gre') { link[l.typeAt] = 0x08; link[l.typeAt + 1] = 0x00; }
    const linkHead = kind === 'gre' ? link : Uint8Array.from([...link, 0x08, 0x00]);
    const out = new Uint8Array(linkHead.length + head.length + inner.length);
    out.set(linkHead, 0);
    out.set(head, linkHead.length);
    out.set(inner, linkHead.length + head.length);
    return { ...f, bytes: out, wireLength: linkHead.length + head.length + innerWire };
  });
}
