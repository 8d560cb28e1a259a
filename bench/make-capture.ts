/**
 * Benchmark capture generator: a large, realistic classic pcap (Ethernet, µs) built by tiling the real Linux
 * captures in fixtures/*.pcap.
 *
 *   node --import tsx bench/make-capture.ts [--packets N] [--seed S] [--out FILE] [--rate R] [--force]
 *
 * Every TCP 4-tuple of every classic-pcap Ethernet fixture becomes a template: its packets, in their recorded
 * order and with their recorded spacing. Instances of the templates start as a Poisson process (`--rate`
 * connections per second), each with its own client address and ephemeral port and one of a pool of servers, so
 * hundreds of thousands of connections interleave over time. Addresses and ports are rewritten in place and the
 * IPv4 header checksum is recomputed; the TCP checksum is left as recorded (nobody verifies it, and loopback
 * captures carry offloaded, partial checksums anyway). Clean lifecycles (one SYN, one FIN each way, no RST) are weighted up
 * (`--clean-weight`), as in real traffic, and templates longer than `--heavy` packets (the fixtures' own bulk
 * transfers) are weighted down in proportion, so that no single template dominates the packet count. The tuples
 * of one fixture share its weight (a fixture is one scenario). A share of the packets (`--bulk-share`) goes to a few long bulk
 * downloads, synthesized with a simple segment writer (correct seq/ack, TCP timestamps, snaplen-cut payload).
 * Without usable fixtures, the templates are synthesized with the same segment writer.
 *
 * Deterministic for a given seed and fixture set. The file is reused when it exists and its sidecar
 * (`FILE.json`) says it was made with the same packet count, seed and generator version and the size matches.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchArgs } from './args.js';
import { PcapWriter } from '../src/capture/pcap-writer.js';

const GENERATOR_VERSION = 4;
const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..');
export const DATA_DIR = join(HERE, 'data');
const EPOCH = 1_735_689_600; // 2025-01-01T00:00:00Z: the generated capture's first second
const SNAPLEN = 200; // as the fixtures are recorded

export interface MakeOptions {
  packets: number;
  seed: number;
  out: string;
  /** New tiled connections per second of capture time. */
  rate: number;
  /** Share of packets in long bulk connections. */
  bulkShare: number;
  bulkConnections: number;
  /** Weight of a clean-close template relative to others. */
  cleanWeight: number;
  /** Templates with more packets than this get their weight scaled by heavy / packets. */
  heavy: number;
  clients: number;
  servers: number;
  fixturesDir: string;
  force: boolean;
  log: (line: string) => void;
}

export interface CaptureMeta {
  generator: number;
  packets: number;
  seed: number;
  bytes: number;
  connections: number;
  tiledConnections: number;
  bulkConnections: number;
  spanSeconds: number;
  templates: { source: string; packets: number; clean: boolean }[];
  /** Fixtures the templates came from. */
  fixtures: string[];
  /** Every fixtures/*.pcap present when it was made (used or skipped): changes here mean the mix is stale. */
  fixturesSeen?: string[];
  synthesizedTemplates: boolean;
}

export const DEFAULTS: MakeOptions = {
  packets: 3_500_000,
  seed: 1,
  out: '',
  rate: 250,
  bulkShare: 0.1,
  bulkConnections: 16,
  cleanWeight: 8,
  heavy: 40,
  clients: 20_000,
  servers: 64,
  fixturesDir: join(ROOT, 'fixtures'),
  force: false,
  log: (l) => process.stderr.write(`${l}\n`),
};

export function defaultPath(packets: number, seed: number): string {
  const k = packets % 1000 === 0 ? `${packets / 1000}k` : String(packets);
  return join(DATA_DIR, `tiled-${k}-s${seed}.pcap`);
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

/** sfc32: small, fast, good enough for workload shaping. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  exp(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Templates

interface TplPacket {
  /** Nanoseconds after the template's first packet. */
  t: number;
  data: Uint8Array;
  wire: number;
  ipOff: number;
  l4Off: number;
  fromClient: boolean;
}

interface Template {
  source: string;
  v: 4 | 6;
  serverPort: number;
  packets: TplPacket[];
  clean: boolean;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const F_FIN = 0x01;
const F_SYN = 0x02;
const F_RST = 0x04;
const F_PSH = 0x08;
const F_ACK = 0x10;

interface ParsedPacket {
  tNs: number;
  data: Uint8Array;
  wire: number;
  v: 4 | 6;
  ipOff: number;
  l4Off: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
}

/** Reads a classic pcap file's Ethernet TCP packets (either byte order, µs or ns); null if it is not one. */
function readClassicPcap(path: string): ParsedPacket[] | null {
  const buf = readFileSync(path);
  if (buf.length < 24) return null;
  const m = buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) { le = true; nano = m === 0xa1b23c4d; }
  else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) { le = false; nano = m === 0x4d3cb2a1; }
  else return null;
  const u32 = (p: number): number => (le ? buf.readUInt32LE(p) : buf.readUInt32BE(p));
  if (u32(20) !== 1) return null; // LINKTYPE_ETHERNET only
  const out: ParsedPacket[] = [];
  let p = 24;
  while (p + 16 <= buf.length) {
    const sec = u32(p);
    const frac = u32(p + 4);
    const cap = u32(p + 8);
    const wire = u32(p + 12);
    if (p + 16 + cap > buf.length) break; // cut-off record: ignore the rest
    const data = Uint8Array.from(buf.subarray(p + 16, p + 16 + cap));
    p += 16 + cap;
    const pk = parseEthernet(data);
    if (pk === null) continue;
    out.push({ ...pk, tNs: sec * 1e9 + (nano ? frac : frac * 1000), data, wire });
  }
  return out;
}

function parseEthernet(d: Uint8Array): Omit<ParsedPacket, 'tNs' | 'data' | 'wire'> | null {
  if (d.length < 14) return null;
  let off = 12;
  let type = (d[off]! << 8) | d[off + 1]!;
  if (type === ETH_VLAN) { off += 4; if (d.length < off + 2) return null; type = (d[off]! << 8) | d[off + 1]!; }
  const ipOff = off + 2;
  let l4Off: number;
  let v: 4 | 6;
  let src: string;
  let dst: string;
  if (type === ETH_IPV4) {
    if (d.length < ipOff + 20 || d[ipOff]! >> 4 !== 4) return null;
    if (d[ipOff + 9] !== 6) return null;
    const fragOff = ((d[ipOff + 6]! & 0x1f) << 8) | d[ipOff + 7]!;
    if (fragOff !== 0 || (d[ipOff + 6]! & 0x20) !== 0) return null; // fragments are not templates
    l4Off = ipOff + (d[ipOff]! & 0x0f) * 4;
    v = 4;
    src = d.subarray(ipOff + 12, ipOff + 16).join('.');
    dst = d.subarray(ipOff + 16, ipOff + 20).join('.');
  } else if (type === ETH_IPV6) {
    if (d.length < ipOff + 40 || d[ipOff + 6] !== 6) return null; // TCP directly after the fixed header only
    l4Off = ipOff + 40;
    v = 6;
    src = Buffer.from(d.subarray(ipOff + 8, ipOff + 24)).toString('hex');
    dst = Buffer.from(d.subarray(ipOff + 24, ipOff + 40)).toString('hex');
  } else return null;
  if (d.length < l4Off + 14) return null;
  return {
    v, ipOff, l4Off, src, dst,
    sport: (d[l4Off]! << 8) | d[l4Off + 1]!, dport: (d[l4Off + 2]! << 8) | d[l4Off + 3]!, flags: d[l4Off + 13]!,
  };
}

/** One template per TCP 4-tuple of the file (all incarnations on that tuple stay together, in order). */
function templatesOf(source: string, pkts: ParsedPacket[]): Template[] {
  const groups = new Map<string, ParsedPacket[]>();
  for (const p of pkts) {
    const x = `${p.src}/${p.sport}`;
    const y = `${p.dst}/${p.dport}`;
    const key = x < y ? `${x}|${y}` : `${y}|${x}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(p);
  }
  const out: Template[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    // Client = sender of the first bare SYN; without one, the side with the higher (ephemeral) port.
    const syn = g.find((p) => (p.flags & (F_SYN | F_ACK)) === F_SYN);
    const client = syn !== undefined
      ? `${syn.src}/${syn.sport}`
      : first.sport >= first.dport ? `${first.src}/${first.sport}` : `${first.dst}/${first.dport}`;
    const t0 = first.tNs;
    let finC = 0;
    let finS = 0;
    let syns = 0;
    let rst = false;
    const packets: TplPacket[] = g.map((p) => {
      const fromClient = `${p.src}/${p.sport}` === client;
      if (p.flags & F_FIN) { if (fromClient) finC++; else finS++; }
      if ((p.flags & (F_SYN | F_ACK)) === F_SYN) syns++;
      if (p.flags & F_RST) rst = true;
      return { t: p.tNs - t0, data: p.data, wire: p.wire, ipOff: p.ipOff, l4Off: p.l4Off, fromClient };
    });
    const c0 = packets.find((p) => p.fromClient);
    const serverPort = c0 !== undefined ? ((c0.data[c0.l4Off + 2]! << 8) | c0.data[c0.l4Off + 3]!)
      : ((first.data[first.l4Off]! << 8) | first.data[first.l4Off + 1]!);
    // Clean: one SYN (one incarnation, no retry), one FIN each way (no retransmission), no RST.
    out.push({ source, v: first.v, serverPort, packets, clean: syns === 1 && finC === 1 && finS === 1 && !rst });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Segment writer (bulk connections; fallback templates)

interface SegmentSpec {
  v: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  /** Payload length on the wire (the captured part is cut at SNAPLEN). */
  len: number;
  tsval: number;
  tsecr: number;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x01];
const MAC_B = [0x02, 0, 0, 0, 0, 0x02];

/** Writes one Ethernet/IP/TCP frame (Linux-like options) into `out`; returns [capLength, wireLength]. */
function writeSegment(out: Uint8Array, s: SegmentSpec): [number, number] {
  out.set(MAC_B, 0);
  out.set(MAC_A, 6);
  const syn = (s.flags & F_SYN) !== 0;
  const optLen = syn ? 20 : 12;
  const tcpLen = 20 + optLen;
  let ip = 14;
  let l4: number;
  if (s.v === 4) {
    out[12] = 0x08; out[13] = 0x00;
    const total = 20 + tcpLen + s.len;
    out[ip] = 0x45; out[ip + 1] = 0;
    out[ip + 2] = total >> 8; out[ip + 3] = total & 0xff;
    out[ip + 4] = 0; out[ip + 5] = 0; out[ip + 6] = 0x40; out[ip + 7] = 0; // DF
    out[ip + 8] = 64; out[ip + 9] = 6; out[ip + 10] = 0; out[ip + 11] = 0;
    out.set(s.src.subarray(0, 4), ip + 12);
    out.set(s.dst.subarray(0, 4), ip + 16);
    ipv4Checksum(out, ip);
    l4 = ip + 20;
  } else {
    out[12] = 0x86; out[13] = 0xdd;
    const plen = tcpLen + s.len;
    out[ip] = 0x60; out[ip + 1] = 0; out[ip + 2] = 0; out[ip + 3] = 0;
    out[ip + 4] = plen >> 8; out[ip + 5] = plen & 0xff; out[ip + 6] = 6; out[ip + 7] = 64;
    out.set(s.src.subarray(0, 16), ip + 8);
    out.set(s.dst.subarray(0, 16), ip + 24);
    l4 = ip + 40;
  }
  const w16 = (p: number, x: number): void => { out[p] = (x >>> 8) & 0xff; out[p + 1] = x & 0xff; };
  const w32 = (p: number, x: number): void => { w16(p, x >>> 16); w16(p + 2, x & 0xffff); };
  w16(l4, s.sport); w16(l4 + 2, s.dport);
  w32(l4 + 4, s.seq >>> 0); w32(l4 + 8, s.ack >>> 0);
  out[l4 + 12] = (tcpLen / 4) << 4; out[l4 + 13] = s.flags;
  w16(l4 + 14, s.win); w16(l4 + 16, 0); w16(l4 + 18, 0);
  let o = l4 + 20;
  if (syn) {
    out[o++] = 2; out[o++] = 4; w16(o, 1460); o += 2; // MSS
    out[o++] = 4; out[o++] = 2; // SACK permitted
    out[o++] = 8; out[o++] = 10; w32(o, s.tsval >>> 0); w32(o + 4, s.tsecr >>> 0); o += 8;
    out[o++] = 1; out[o++] = 3; out[o++] = 3; out[o++] = 7; // NOP, window scale 7
  } else {
    out[o++] = 1; out[o++] = 1; out[o++] = 8; out[o++] = 10; w32(o, s.tsval >>> 0); w32(o + 4, s.tsecr >>> 0); o += 8;
  }
  const wire = o + s.len;
  const cap = Math.min(wire, SNAPLEN);
  out.fill(0x61, o, cap); // payload bytes (the captured part)
  return [cap, wire];
}

function ipv4Checksum(d: Uint8Array, ip: number): void {
  const hl = (d[ip]! & 0x0f) * 4;
  d[ip + 10] = 0;
  d[ip + 11] = 0;
  let sum = 0;
  for (let i = 0; i < hl; i += 2) sum += (d[ip + i]! << 8) | d[ip + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  sum = ~sum & 0xffff;
  d[ip + 10] = sum >> 8;
  d[ip + 11] = sum & 0xff;
}

/** Fallback templates (no fixtures yet): a few common lifecycles built with the segment writer. */
function synthTemplates(): Template[] {
  const C = Uint8Array.of(10, 9, 0, 1);
  const S = Uint8Array.of(10, 9, 0, 2);
  type Step = [fromClient: boolean, flags: number, len: number, dtUs: number];
  const make = (source: string, steps: Step[], clean: boolean): Template => {
    let cs = 1_000_000;
    let ss = 5_000_000;
    let ts = 100_000;
    let t = 0;
    const packets: TplPacket[] = [];
    for (const [fromClient, flags, len, dt] of steps) {
      t += dt * 1000;
      ts += Math.max(1, Math.round(dt / 1000));
      const buf = new Uint8Array(SNAPLEN);
      const seq = fromClient ? cs : ss;
      const ack = flags & F_ACK ? (fromClient ? ss : cs) : 0;
      const [cap, wire] = writeSegment(buf, {
        v: 4, src: fromClient ? C : S, dst: fromClient ? S : C, sport: fromClient ? 40000 : 8080, dport: fromClient ? 8080 : 40000,
        seq, ack, flags, win: 502, len, tsval: ts, tsecr: ts - 1,
      });
      const adv = len + (flags & (F_SYN | F_FIN) ? 1 : 0);
      if (fromClient) cs += adv; else ss += adv;
      packets.push({ t, data: buf.slice(0, cap), wire, ipOff: 14, l4Off: 34, fromClient });
    }
    return { source, v: 4, serverPort: 8080, packets, clean };
  };
  const open: Step[] = [[true, F_SYN, 0, 0], [false, F_SYN | F_ACK, 0, 40], [true, F_ACK, 0, 40],
    [true, F_PSH | F_ACK, 200, 300], [false, F_ACK, 0, 30], [false, F_PSH | F_ACK, 1000, 800], [true, F_ACK, 0, 30]];
  return [
    make('synth:fin-client-first', [...open, [true, F_FIN | F_ACK, 0, 2000], [false, F_FIN | F_ACK, 0, 60], [true, F_ACK, 0, 40]], true),
    make('synth:fin-server-first', [...open, [false, F_FIN | F_ACK, 0, 2000], [true, F_FIN | F_ACK, 0, 60], [false, F_ACK, 0, 40]], true),
    make('synth:rst-close', [...open, [true, F_RST | F_ACK, 0, 3000]], false),
    make('synth:refused', [[true, F_SYN, 0, 0], [false, F_RST | F_ACK, 0, 30]], false),
    make('synth:half-close', [...open, [true, F_FIN | F_ACK, 0, 2000], [false, F_ACK, 0, 40]], false),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Streams merged by time

interface Stream {
  /** Time of the next packet, ns after EPOCH. */
  t: number;
  /** Writes the packet due at `t` and advances; false when the stream has no more packets. */
  emit(w: PcapWriter, scratch: Uint8Array): boolean;
}

class Heap {
  private readonly a: Stream[] = [];
  get size(): number { return this.a.length; }
  push(s: Stream): void {
    const a = this.a;
    let i = a.length;
    a.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.t <= s.t) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = s;
  }
  pop(): Stream | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]!.t < a[l]!.t ? r : l;
      if (a[c]!.t >= last.t) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function writeNs(w: PcapWriter, tNs: number, data: Uint8Array, cap: number, wire: number): void {
  const sec = Math.floor(tNs / 1e9);
  w.writeFrame(EPOCH + sec, Math.floor(tNs - sec * 1e9), data.subarray(0, cap), wire);
}

/** Addresses of the i-th client and server, for the template's IP version. */
function clientAddr(v: 4 | 6, i: number): Uint8Array {
  return v === 4
    ? Uint8Array.of(10, 64 + ((i >>> 16) & 63), (i >>> 8) & 255, i & 255)
    : Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, (i >>> 16) & 255, (i >>> 8) & 255, i & 255);
}
function serverAddr(v: 4 | 6, i: number): Uint8Array {
  return v === 4
    ? Uint8Array.of(10, 0, (i >>> 8) & 255, (i & 255) + 1)
    : Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (i >>> 8) & 255, (i & 255) + 1);
}

/** One instance of a template, remapped to its own client address/port and a pooled server. */
class TiledConnection implements Stream {
  t: number;
  private i = 0;
  constructor(
    private readonly tpl: Template,
    private readonly start: number,
    private readonly caddr: Uint8Array,
    private readonly cport: number,
    private readonly saddr: Uint8Array,
  ) {
    this.t = start;
  }
  emit(w: PcapWriter, scratch: Uint8Array): boolean {
    const p = this.tpl.packets[this.i]!;
    const d = scratch;
    const n = p.data.length;
    d.set(p.data, 0);
    const ip = p.ipOff;
    const l4 = p.l4Off;
    const [src, dst] = p.fromClient ? [this.caddr, this.saddr] : [this.saddr, this.caddr];
    if (this.tpl.v === 4) {
      d.set(src, ip + 12);
      d.set(dst, ip + 16);
      ipv4Checksum(d, ip);
    } else {
      d.set(src, ip + 8);
      d.set(dst, ip + 24);
    }
    const sp = this.tpl.serverPort;
    const [a, b] = p.fromClient ? [this.cport, sp] : [sp, this.cport];
    d[l4] = a >> 8; d[l4 + 1] = a & 0xff;
    d[l4 + 2] = b >> 8; d[l4 + 3] = b & 0xff;
    writeNs(w, this.t, d, n, p.wire);
    const next = this.tpl.packets[++this.i];
    if (next === undefined) return false;
    this.t = this.start + next.t;
    return true;
  }
}

/** A long download: handshake, data from the server ACKed every second segment by the client, FIN close. */
class BulkConnection implements Stream {
  t: number;
  private k = 0;
  private cs: number;
  private ss: number;
  private readonly gap: number;
  private readonly spec: SegmentSpec;
  constructor(
    start: number,
    private readonly end: number,
    private readonly total: number,
    private readonly caddr: Uint8Array,
    private readonly cport: number,
    private readonly saddr: Uint8Array,
    private readonly rng: Rng,
  ) {
    this.t = start;
    this.gap = (end - start) / total;
    this.cs = rng.u32();
    this.ss = rng.u32();
    this.spec = { v: 4, src: caddr, dst: saddr, sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, win: 0, len: 0, tsval: 0, tsecr: 0 };
  }
  emit(w: PcapWriter, scratch: Uint8Array): boolean {
    const k = this.k++;
    const total = this.total;
    const tsClient = 200_000 + Math.floor(this.t / 1e6);
    const tsServer = 900_000 + Math.floor(this.t / 1e6);
    let fromClient: boolean;
    let flags: number;
    let len = 0;
    if (k === 0) { fromClient = true; flags = F_SYN; }
    else if (k === 1) { fromClient = false; flags = F_SYN | F_ACK; }
    else if (k === 2) { fromClient = true; flags = F_ACK; }
    else if (k === 3) { fromClient = true; flags = F_PSH | F_ACK; len = 120; } // the request
    else if (k === total - 3) { fromClient = false; flags = F_FIN | F_ACK; }
    else if (k === total - 2) { fromClient = true; flags = F_FIN | F_ACK; }
    else if (k === total - 1) { fromClient = false; flags = F_ACK; }
    else if ((k - 4) % 3 === 2) { fromClient = true; flags = F_ACK; } // ACK every second data segment
    else { fromClient = false; flags = F_ACK | ((k - 4) % 3 === 1 ? F_PSH : 0); len = 1448; }
    const s = this.spec;
    s.src = fromClient ? this.caddr : this.saddr;
    s.dst = fromClient ? this.saddr : this.caddr;
    s.sport = fromClient ? this.cport : 443;
    s.dport = fromClient ? 443 : this.cport;
    s.seq = fromClient ? this.cs : this.ss;
    s.ack = k === 0 ? 0 : fromClient ? this.ss : this.cs;
    s.flags = flags;
    s.win = fromClient ? 3000 : 501;
    s.len = len;
    s.tsval = fromClient ? tsClient : tsServer;
    s.tsecr = k === 0 ? 0 : fromClient ? tsServer : tsClient;
    const [cap, wire] = writeSegment(scratch, s);
    writeNs(w, this.t, scratch, cap, wire);
    const adv = len + (flags & (F_SYN | F_FIN) ? 1 : 0);
    if (fromClient) this.cs = (this.cs + adv) >>> 0; else this.ss = (this.ss + adv) >>> 0;
    if (this.k >= total) return false;
    // Jittered spacing; the handshake is quick.
    this.t += this.k < 4 ? 30_000 + this.rng.int(200_000) : this.gap * (0.5 + this.rng.next());
    if (this.t > this.end && this.k < total - 3) this.t = this.end;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------------

function fixtureFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(dir, f));
}

function loadTemplates(dir: string, log: (l: string) => void): { templates: Template[]; fixtures: string[]; synthesized: boolean } {
  const templates: Template[] = [];
  const used: string[] = [];
  for (const f of fixtureFiles(dir)) {
    let pk: ParsedPacket[] | null;
    try { pk = readClassicPcap(f); } catch { pk = null; }
    if (pk === null || pk.length === 0) { log(`make-capture: skipping ${basename(f)} (not a classic pcap Ethernet TCP capture)`); continue; }
    used.push(basename(f));
    templates.push(...templatesOf(basename(f), pk));
  }
  if (templates.length > 0) {
    // Clean closes are most of real traffic: if the fixtures have none yet, synthesized ones stand in.
    if (!templates.some((t) => t.clean)) {
      const clean = synthTemplates().filter((t) => t.clean);
      log(`make-capture: no clean close among the fixtures yet; adding ${clean.map((t) => t.source).join(', ')}`);
      templates.push(...clean);
    }
    return { templates, fixtures: used, synthesized: false };
  }
  log('make-capture: no usable fixtures/*.pcap yet; using synthesized templates');
  return { templates: synthTemplates(), fixtures: [], synthesized: true };
}

function readMeta(path: string): CaptureMeta | null {
  try {
    return JSON.parse(readFileSync(`${path}.json`, 'utf8')) as CaptureMeta;
  } catch {
    return null;
  }
}

/** Returns the capture's path and metadata, generating it unless a matching one is already there. */
export function ensureCapture(partial: Partial<MakeOptions> = {}): { path: string; meta: CaptureMeta; reused: boolean } {
  const o: MakeOptions = { ...DEFAULTS, ...partial };
  const out = o.out !== '' ? resolve(o.out) : defaultPath(o.packets, o.seed);
  const meta = readMeta(out);
  if (!o.force && meta !== null && existsSync(out) && meta.generator === GENERATOR_VERSION && meta.packets === o.packets
      && meta.seed === o.seed && statSync(out).size === meta.bytes) {
    const now = fixtureFiles(o.fixturesDir).map((f) => basename(f)).join();
    if (meta.fixturesSeen !== undefined && now !== meta.fixturesSeen.join()) {
      o.log(`make-capture: note: fixtures changed since ${basename(out)} was made; --force to regenerate`);
    }
    return { path: out, meta, reused: true };
  }
  return { path: out, meta: generate(o, out), reused: false };
}

function generate(o: MakeOptions, out: string): CaptureMeta {
  if (!Number.isInteger(o.packets) || o.packets < 1000) throw new Error('--packets must be an integer ≥ 1000');
  const rng = new Rng(o.seed);
  const { templates, fixtures, synthesized } = loadTemplates(o.fixturesDir, o.log);
  // Weighted template choice (cumulative weights).
  // A fixture is one scenario: its tuples share the scenario's weight.
  const perSource = new Map<string, number>();
  for (const t of templates) perSource.set(t.source, (perSource.get(t.source) ?? 0) + 1);
  const weight = (t: Template): number =>
    ((t.clean ? o.cleanWeight : 1) * Math.min(1, o.heavy / t.packets.length)) / (perSource.get(t.source) ?? 1);
  const cum: number[] = [];
  let wsum = 0;
  for (const t of templates) cum.push((wsum += weight(t)));
  const pick = (): Template => {
    const x = rng.next() * wsum;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid]! > x) hi = mid; else lo = mid + 1; }
    return templates[lo]!;
  };
  let meanPackets = 0;
  for (const t of templates) meanPackets += t.packets.length * (weight(t) / wsum);

  const bulkConns = o.bulkShare > 0 ? o.bulkConnections : 0;
  const bulkPerConn = bulkConns > 0 ? Math.max(16, Math.floor((o.packets * o.bulkShare) / bulkConns)) : 0;
  const tiledTarget = o.packets - bulkConns * bulkPerConn;
  const span = (tiledTarget / meanPackets / o.rate) * 1e9; // expected ns of capture time
  o.log(`make-capture: ${templates.length} templates from ${synthesized ? 'synthesized connections' : `${fixtures.length} fixture(s)`}, `
    + `~${Math.round(tiledTarget / meanPackets)} tiled connections over ~${Math.round(span / 1e9)} s + ${bulkConns} bulk × ${bulkPerConn} packets`);

  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const w = PcapWriter.createFile(tmp, { snaplen: 262144 });
  const heap = new Heap();
  const nextPort = new Uint16Array(o.clients);
  for (let i = 0; i < o.clients; i++) nextPort[i] = 32768 + rng.int(28232);
  const ephemeral = (ci: number): number => {
    const p = nextPort[ci]!;
    nextPort[ci] = p >= 60999 ? 32768 : p + 1;
    return p;
  };

  for (let b = 0; b < bulkConns; b++) {
    const start = rng.next() * 0.3 * span;
    const end = (0.7 + rng.next() * 0.25) * span;
    const ci = o.clients - 1 - b; // bulk clients are their own hosts
    heap.push(new BulkConnection(start, end, bulkPerConn, clientAddr(4, ci), ephemeral(ci), serverAddr(4, rng.int(o.servers)), rng));
  }
  let planned = 0;
  let tiled = 0;
  const spawner: Stream = {
    t: 0,
    emit(): boolean {
      const tpl = pick();
      const ci = rng.int(o.clients - bulkConns);
      heap.push(new TiledConnection(tpl, this.t, clientAddr(tpl.v, ci), ephemeral(ci), serverAddr(tpl.v, rng.int(o.servers))));
      tiled++;
      planned += tpl.packets.length;
      this.t += rng.exp(o.rate) * 1e9;
      return planned < tiledTarget;
    },
  };
  heap.push(spawner);

  const scratch = new Uint8Array(262144);
  let written = 0;
  let lastT = 0;
  const started = Date.now();
  while (written < o.packets) {
    const s = heap.pop();
    if (s === undefined) break;
    if (s === spawner) { if (s.emit(w, scratch)) heap.push(s); continue; }
    lastT = s.t;
    const more = s.emit(w, scratch);
    written++;
    if (more) heap.push(s);
    if ((written & 0x7ffff) === 0) o.log(`make-capture: ${written} packets…`);
  }
  w.close();
  renameSync(tmp, out);
  const bytes = statSync(out).size;
  const meta: CaptureMeta = {
    generator: GENERATOR_VERSION, packets: written, seed: o.seed, bytes,
    connections: tiled + bulkConns, tiledConnections: tiled, bulkConnections: bulkConns,
    spanSeconds: Math.round(lastT / 1e6) / 1e3,
    templates: templates.map((t) => ({ source: t.source, packets: t.packets.length, clean: t.clean })),
    fixtures, fixturesSeen: fixtureFiles(o.fixturesDir).map((f) => basename(f)), synthesizedTemplates: synthesized,
  };
  writeFileSync(`${out}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  o.log(`make-capture: wrote ${out}: ${written} packets, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${meta.connections} connections `
    + `over ${meta.spanSeconds} s, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (written < o.packets) o.log(`make-capture: warning: only ${written} of ${o.packets} packets`);
  return meta;
}

// ---------------------------------------------------------------------------------------------------------------

/** Parses a packet count: 3500000, 3.5M, 500k. */
export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (m === null) throw new Error(`not a packet count: ${s}`);
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

function main(): void {
  const { values } = benchArgs('node --import tsx bench/make-capture.ts [--packets 3.5M] [--seed 1] [--out FILE] [--rate 250] [--bulk-share 0.1] [--clean-weight 8] [--heavy 40] [--force]', {
    options: {
      packets: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, rate: { type: 'string' },
      'bulk-share': { type: 'string' }, 'clean-weight': { type: 'string' }, heavy: { type: 'string' }, force: { type: 'boolean' },
    },
  });
  const o: Partial<MakeOptions> = {};
  if (values.packets !== undefined) o.packets = parseCount(values.packets);
  if (values.seed !== undefined) o.seed = Number(values.seed);
  if (values.out !== undefined) o.out = values.out;
  if (values.rate !== undefined) o.rate = Number(values.rate);
  if (values['bulk-share'] !== undefined) o.bulkShare = Number(values['bulk-share']);
  if (values['clean-weight'] !== undefined) o.cleanWeight = Number(values['clean-weight']);
  if (values.heavy !== undefined) o.heavy = Number(values.heavy);
  if (values.force) o.force = true;
  const r = ensureCapture(o);
  process.stdout.write(`${r.path}${r.reused ? ' (reused)' : ''}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
