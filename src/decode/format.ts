/**
 * Output helpers: addresses, endpoints and flag names as text, and the reverse for selectors.
 * Not on the hot path: these allocate freely.
 */
import { endpointText, type Endpoint } from '../model/endpoint.js';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from './packet.js';

/** Address words as in TcpPacket: IPv4 in [0]; IPv6 as four big-endian 32-bit words. */
export type AddressWords = ArrayLike<number>;

function dotted(w: number): string {
  return `${(w >>> 24) & 0xff}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/**
 * IPv4 dotted quad, or IPv6 in RFC 5952 form: lower-case hex, no leading zeros, the longest run of two or more
 * zero groups (the first one on a tie) as '::', and IPv4-mapped addresses as ::ffff:a.b.c.d (RFC 5952 §5).
 */
export function formatAddress(ipVersion: 4 | 6, words: AddressWords): string {
  const w0 = (words[0] ?? 0) >>> 0;
  if (ipVersion === 4) return dotted(w0);
  const w1 = (words[1] ?? 0) >>> 0;
  const w2 = (words[2] ?? 0) >>> 0;
  const w3 = (words[3] ?? 0) >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${dotted(w3)}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952 §4.2: find the longest run of zero groups (length >= 2), first on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** `10.0.0.1:80` or `[2001:db8::1]:443` (endpointText). */
export function formatEndpoint(ipVersion: 4 | 6, words: AddressWords, port: number): string {
  return endpointText({ ipVersion, address: formatAddress(ipVersion, words), port });
}

const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [FIN, 'FIN'], [SYN, 'SYN'], [RST, 'RST'], [PSH, 'PSH'], [ACK, 'ACK'], [URG, 'URG'], [ECE, 'ECE'], [CWR, 'CWR'],
];

/**
 * Flag names joined by ',' in Wireshark's order: low bit to high (FIN, SYN, RST, PSH, ACK, URG, ECE, CWR), as its
 * Info column prints `[FIN, PSH, ACK]` or `[SYN, ECE, CWR]` (packet-tcp.c tcp_flags_to_str). So 'SYN,ACK',
 * 'FIN,PSH,ACK', 'RST,ACK'. No flags: '<None>', as Wireshark prints it.
 */
export function flagsString(flags: number): string {
  return FLAG_STRINGS[flags & 0xff] as string;
}

function buildFlagsString(flags: number): string {
  let s = '';
  for (const [bit, name] of FLAG_NAMES) {
    if ((flags & bit) !== 0) s = s === '' ? name : `${s},${name}`;
  }
  return s === '' ? '<None>' : s;
}

/** All 256 flag combinations, built once: evidence for 100 k connections shares these strings. */
const FLAG_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, i) => buildFlagsString(i));

export interface ParsedAddress {
  ipVersion: 4 | 6;
  /** Four words like TcpPacket.src (IPv4 in [0], the rest 0). */
  words: Uint32Array;
}

export interface ParsedEndpoint extends ParsedAddress {
  /** 0..65535, or -1 when the text names an address only. */
  port: number;
}

function parseIpv4Word(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let w = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    w = (w << 8) | n;
  }
  return w >>> 0;
}

function parseIpv6(text: string, out: Uint32Array): boolean {
  let t = text.toLowerCase();
  const groups: number[] = [];
  // Trailing embedded IPv4 (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) counts as two groups.
  let tail: number | null = null;
  const lastColon = t.lastIndexOf(':');
  if (lastColon >= 0 && t.includes('.', lastColon)) {
    tail = parseIpv4Word(t.slice(lastColon + 1));
    if (tail === null) return false;
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return false;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const r: number[] = [];
    for (const part of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(part)) return null;
      r.push(parseInt(part, 16));
    }
    return r;
  };
  const head = parseGroups(halves[0] ?? '');
  if (head === null) return false;
  if (halves.length === 2) {
    const rest = parseGroups(halves[1] ?? '');
    if (rest === null || head.length + rest.length > 7) return false;
    groups.push(...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest);
  } else {
    if (head.length !== 8) return false;
    groups.push(...head);
  }
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0);
  if (tail !== null) out[3] = tail;
  return true;
}

/** Parses an IPv4 or IPv6 address (no brackets, no zone id). Null when it is not one. */
export function parseAddress(text: string): ParsedAddress | null {
  const words = new Uint32Array(4);
  if (text.includes(':')) return parseIpv6(text, words) ? { ipVersion: 6, words } : null;
  const w = parseIpv4Word(text);
  if (w === null) return null;
  words[0] = w;
  return { ipVersion: 4, words };
}

/**
 * Reverse of formatEndpoint: `10.0.0.1:80`, `[2001:db8::1]:443`. The port may be left out (`10.0.0.1`, `[::1]`,
 * or a bare IPv6 address such as `fe80::1`, which is never read as address + port): port is then -1.
 * Null when the text is not an endpoint.
 */
export function parseEndpoint(text: string): ParsedEndpoint | null {
  const s = text.trim();
  let addrText: string;
  let portText: string | null = null;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    addrText = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
    if (!addrText.includes(':')) return null; // brackets are for IPv6 only
  } else {
    const colons = s.split(':').length - 1;
    if (colons === 1) {
      const i = s.indexOf(':');
      addrText = s.slice(0, i);
      portText = s.slice(i + 1);
    } else {
      addrText = s;
    }
  }
  const addr = parseAddress(addrText);
  if (addr === null) return null;
  let port = -1;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port > 65535) return null;
  }
  return { ipVersion: addr.ipVersion, words: addr.words, port };
}

/** An endpoint's text form (endpointText) read back, as stored results hold it; null when it is not one with a port. */
export function endpointFromText(text: string): Endpoint | null {
  const e = parseEndpoint(text);
  return e === null || e.port < 0 ? null : { ipVersion: e.ipVersion, address: formatAddress(e.ipVersion, e.words), port: e.port };
}
