/**
 * `teardown extract --anonymize`: rewrites copies of the extracted frames so a capture can be shared.
 *
 * - IP addresses: one new address per original, in order of first appearance among the chosen connections
 *   (client, then server): IPv4 → 10.0.0.1, 10.0.0.2…; IPv6 → 2001:db8::1, 2001:db8::2… (RFC 3849).
 * - Ports: one new port per original, order-preserving inside the three ranges the engine's client guess reads
 *   (1-1023, 1024-32767, 32768-65535; docs/rules.md §1), so a connection seen without its SYN gets the same client.
 * - MAC addresses (Ethernet, Linux cooked): 02:00:00:00:00:01… (locally administered), consistently.
 * - TCP payload bytes are zeroed (lengths, sequence numbers and everything else the verdicts read stay) unless
 *   keepPayload.
 * - IPv4 header checksums are recomputed. TCP checksums are recomputed when the whole segment is known: captured in
 *   full, or with its payload zeroed (the bytes a snaplen cut off count as zeros too). A cut segment whose payload
 *   is kept (and a first IP fragment) gets an incremental update (RFC 1624): a checksum that was right stays right.
 * - TCP timestamps (TSval/TSecr, RFC 7323) are kept unless rebaseTimestamps: they count a host's clock ticks (on
 *   older kernels, and per connection on some, since boot: uptime). Rebased, each host's clock starts at
 *   TS_BASE at its first value in the extract; every value of that host, as TSval or echoed in the peer's TSecr,
 *   moves by the same amount (mod 2^32), so every order and difference the verdicts read (PAWS, TIME_WAIT reuse
 *   with timestamps) stays. A TSecr of 0 (nothing to echo yet) stays 0.
 * Not rewritten: addresses inside IPv6 routing headers and inside payloads kept with keepPayload.
 */
import type { Endpoint } from '../model/endpoint.js';
import type { ConnectionReport } from '../model/report.js';
import { decodeIp } from '../decode/ip.js';
import { decodeLink, newDecodeCursor, NEXT_IP } from '../decode/link.js';
import { LINKTYPE } from '../model/link-types.js';
import { newTcpPacket } from '../decode/packet.js';
import { decodeTcp, resetTcpOptions } from '../decode/tcp.js';
import { formatAddress, parseAddress } from '../decode/format.js';
import { finish, fold, incremental, read16, sum16, write16 } from './checksum.js';

export interface AnonymizeOptions {
  /** Keep TCP payload bytes (default: zeroed). */
  keepPayload?: boolean;
  /** Move each host's TCP timestamp clock to start at TS_BASE (default: values kept). */
  rebaseTimestamps?: boolean;
}

/** Where a host's rebased timestamp clock starts. */
export const TS_BASE = 1_000_000;

/** Offset of the timestamps option (kind 8, length 10) in the TCP header at `tcp`, or -1. */
function timestampOption(b: Uint8Array, tcp: number, end: number): number {
  const hdrEnd = Math.min(end, tcp + ((b[tcp + 12]! >>> 4) << 2));
  let i = tcp + 20;
  while (i < hdrEnd) {
    const kind = b[i]!;
    if (kind === 0) return -1;
    if (kind === 1) { i++; continue; }
    if (i + 1 >= hdrEnd) return -1;
    const len = b[i + 1]!;
    if (len < 2 || i + len > hdrEnd) return -1;
    if (kind === 8 && len === 10) return i;
    i += len;
  }
  return -1;
}

const read32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
function write32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

const PORT_CLASSES: readonly (readonly [number, number])[] = [[1, 1023], [1024, 32767], [32768, 65535]];

function wordsKey(v: 4 | 6, w: ArrayLike<number>): string {
  return v === 4 ? `4:${w[0]! >>> 0}` : `6:${w[0]! >>> 0}:${w[1]! >>> 0}:${w[2]! >>> 0}:${w[3]! >>> 0}`;
}

export class Anonymizer {
  private readonly addrs = new Map<string, Uint32Array>();
  private readonly ports = new Map<number, number>();
  private readonly macs = new Map<string, number>();
  private readonly usedPorts = new Set<number>();
  /** Per original host address: what to add (mod 2^32) to its timestamp values. */
  private readonly tsShift = new Map<string, number>();
  private next4 = 1;
  private next6 = 1;
  private readonly cur = newDecodeCursor();
  private readonly pkt = newTcpPacket();
  /** Frames that carried the TCP timestamps option. */
  timestamped = 0;
  /** Original → new address text, for the user's notes. */
  readonly addressMap = new Map<string, string>();

  constructor(connections: readonly ConnectionReport[], private readonly opts: AnonymizeOptions = {}) {
    const ports = new Set<number>();
    for (const c of connections) {
      for (const e of [c.client, c.server]) {
        const a = parseAddress(e.address);
        if (a === null) continue;
        this.address(a.ipVersion, a.words);
        ports.add(e.port);
      }
    }
    this.planPorts([...ports]);
  }

  /** Order-preserving, evenly spread new ports per class; 0 stays 0. */
  private planPorts(ports: number[]): void {
    ports.sort((a, b) => a - b);
    if (ports.includes(0)) this.setPort(0, 0);
    for (const [lo, hi] of PORT_CLASSES) {
      const inClass = ports.filter((p) => p >= lo && p <= hi);
      const span = hi - lo + 1;
      const k = inClass.length;
      inClass.forEach((p, i) => this.setPort(p, k + 1 > span ? p : lo + Math.floor(((i + 1) * span) / (k + 1))));
    }
  }

  private setPort(from: number, to: number): void {
    this.ports.set(from, to);
    this.usedPorts.add(to);
  }

  /** New port for one not seen among the chosen connections (kept in its class). */
  private port(p: number): number {
    let n = this.ports.get(p);
    if (n !== undefined) return n;
    const cls = PORT_CLASSES.find(([lo, hi]) => p >= lo && p <= hi) ?? [0, 0];
    for (n = cls[1]; n >= cls[0] && this.usedPorts.has(n); n--);
    if (n < cls[0]) n = p;
    this.setPort(p, n);
    return n;
  }

  private address(v: 4 | 6, w: ArrayLike<number>): Uint32Array {
    const key = wordsKey(v, w);
    let n = this.addrs.get(key);
    if (n === undefined) {
      n = new Uint32Array(4);
      if (v === 4) {
        const i = this.next4++;
        n[0] = (0x0a000000 | (i & 0xffffff)) >>> 0;
      } else {
        n[0] = 0x20010db8;
        n[3] = this.next6++;
      }
      this.addrs.set(key, n);
      this.addressMap.set(formatAddress(v, w), formatAddress(v, n));
    }
    return n;
  }

  private mac(b: Uint8Array, p: number, len: number): void {
    if (len <= 0 || p + len > b.length) return;
    let key = '';
    let zero = true;
    for (let i = 0; i < len; i++) {
      key += String.fromCharCode(b[p + i]!);
      if (b[p + i] !== 0) zero = false;
    }
    if (zero) return;
    let n = this.macs.get(key);
    if (n === undefined) {
      n = this.macs.size + 1;
      this.macs.set(key, n);
    }
    b.fill(0, p, p + len);
    b[p] = 0x02; // locally administered, unicast
    if (len >= 6) {
      b[p + len - 3] = (n >>> 16) & 0xff;
      b[p + len - 2] = (n >>> 8) & 0xff;
      b[p + len - 1] = n & 0xff;
    }
  }

  private linkAddresses(b: Uint8Array, linkType: number): void {
    if (linkType === LINKTYPE.ETHERNET && b.length >= 14) {
      this.mac(b, 0, 6);
      this.mac(b, 6, 6);
    } else if (linkType === LINKTYPE.LINUX_SLL && b.length >= 16) {
      this.mac(b, 6, Math.min(read16(b, 4), 8));
    } else if (linkType === LINKTYPE.LINUX_SLL2 && b.length >= 20) {
      this.mac(b, 12, Math.min(b[11]!, 8));
    } else if (linkType === LINKTYPE.IPOIB && b.length >= 44) {
      // The 40 bytes before the type: the last 20 are the destination hardware address (QPN and port GID).
      this.mac(b, 0, 20);
      this.mac(b, 20, 20);
    }
  }

  /** The new form of an endpoint as this anonymizer maps it. */
  mapEndpoint(e: Endpoint): Endpoint {
    const a = parseAddress(e.address);
    if (a === null) return e;
    return { ipVersion: a.ipVersion, address: formatAddress(a.ipVersion, this.address(a.ipVersion, a.words)), port: this.port(e.port) };
  }

  /** Original → new port. */
  get portMap(): ReadonlyMap<number, number> {
    return this.ports;
  }

  private writeAddress(b: Uint8Array, p: number, v: 4 | 6): void {
    const w = this.pkt.src; // scratch: read the original words
    const n = v === 4 ? 1 : 4;
    for (let i = 0; i < n; i++) w[i] = ((b[p + 4 * i]! << 24) | (b[p + 4 * i + 1]! << 16) | (b[p + 4 * i + 2]! << 8) | b[p + 4 * i + 3]!) >>> 0;
    if (v === 4) w[1] = w[2] = w[3] = 0;
    const m = this.address(v, w);
    for (let i = 0; i < n; i++) {
      const x = m[i]!;
      b[p + 4 * i] = x >>> 24;
      b[p + 4 * i + 1] = (x >>> 16) & 0xff;
      b[p + 4 * i + 2] = (x >>> 8) & 0xff;
      b[p + 4 * i + 3] = x & 0xff;
    }
  }

  private shiftFor(host: string, firstValue: number): number {
    let d = this.tsShift.get(host);
    if (d === undefined) {
      d = (TS_BASE - firstValue) >>> 0;
      this.tsShift.set(host, d);
    }
    return d;
  }

  /** TSval is the sender's clock, TSecr echoes the receiver's: each moves by its own host's shift. */
  private rebaseTimestamps(b: Uint8Array, at: number, src: string, dst: string): void {
    const val = read32(b, at + 2);
    write32(b, at + 2, (val + this.shiftFor(src, val)) >>> 0);
    const ecr = read32(b, at + 6);
    if (ecr !== 0) write32(b, at + 6, (ecr + this.shiftFor(dst, ecr)) >>> 0);
  }

  /**
   * Rewrites one frame's bytes in place (a copy: never the reader's buffer). Returns false, leaving it as it
   * was, when it is not a decodable TCP segment.
   */
  rewrite(b: Uint8Array, linkType: number): boolean {
    const cur = this.cur;
    const pkt = this.pkt;
    cur.pos = 0;
    cur.end = b.length;
    cur.net = 0;
    cur.segLen = 0;
    cur.firstFragment = false;
    cur.nest = 0;
    pkt.vlan = -1;
    pkt.sllPacketType = -1;
    pkt.layers = 0;
    resetTcpOptions(pkt);
    // Only IP right after the link header (VLAN tags allowed): tunnelled frames carry more addresses than these.
    if (decodeLink(b, linkType, cur, pkt) !== 'ok' || cur.next !== NEXT_IP) return false;
    const ip = cur.pos;
    if (decodeIp(b, cur, pkt) !== 'ok' || cur.proto !== 6) return false;
    const tcp = cur.pos;
    const segLen = cur.segLen;
    const captured = cur.end - tcp;
    const firstFragment = cur.firstFragment;
    if (decodeTcp(b, cur, pkt) !== 'ok') return false;
    const v = pkt.ipVersion;
    const payload = pkt.payloadOffset;
    const payloadEnd = payload + (this.opts.keepPayload ? 0 : pkt.capturedPayloadLen);
    const srcAt = v === 4 ? ip + 12 : ip + 8;
    const addrEnd = v === 4 ? ip + 20 : ip + 40;

    // Sums of everything the TCP checksum covers that is about to change (for the incremental update).
    // The timestamps option, as 16-bit words aligned on the TCP header (it may start at an odd offset).
    if (pkt.hasTs) this.timestamped++;
    const ts = this.opts.rebaseTimestamps && pkt.hasTs ? timestampOption(b, tcp, cur.end) : -1;
    const tsFrom = ts < 0 ? 0 : ts - ((ts - tcp) & 1);
    const tsTo = ts < 0 ? 0 : ts + 10 + ((ts + 10 - tcp) & 1);
    const oldSum = fold(sum16(b, srcAt, addrEnd) + sum16(b, tcp, tcp + 4) + sum16(b, payload, payloadEnd) + sum16(b, tsFrom, tsTo));
    if (ts >= 0) this.rebaseTimestamps(b, ts, wordsKey(v, pkt.src), wordsKey(v, pkt.dst));

    this.linkAddresses(b, linkType);
    this.writeAddress(b, srcAt, v);
    this.writeAddress(b, v === 4 ? ip + 16 : ip + 24, v);
    write16(b, tcp, this.port(read16(b, tcp)));
    write16(b, tcp + 2, this.port(read16(b, tcp + 2)));
    b.fill(0, payload, payloadEnd);

    if (v === 4) {
      const hlen = (b[ip]! & 0x0f) << 2;
      write16(b, ip + 10, 0);
      write16(b, ip + 10, finish(sum16(b, ip, ip + hlen)));
    }
    // The whole segment is known when it was captured, or when its payload is zeroed (bytes a snaplen cut off are
    // zeros too, and zeros add nothing to the sum). A first IPv4 fragment's segment continues in other fragments.
    if (!firstFragment && (captured >= segLen || !this.opts.keepPayload)) {
      write16(b, tcp + 16, 0);
      // Pseudo-header (RFC 9293 §3.1 / RFC 8200 §8.1): addresses, protocol 6, TCP length.
      const pseudo = sum16(b, srcAt, addrEnd) + 6 + (segLen & 0xffff) + Math.floor(segLen / 0x10000);
      write16(b, tcp + 16, finish(sum16(b, tcp, tcp + Math.min(segLen, captured), pseudo)));
    } else {
      const newSum = fold(sum16(b, srcAt, addrEnd) + sum16(b, tcp, tcp + 4) + sum16(b, payload, payloadEnd) + sum16(b, tsFrom, tsTo));
      write16(b, tcp + 16, incremental(read16(b, tcp + 16), oldSum, newSum));
    }
    return true;
  }
}
