/**
 * TCP header and options (RFC 9293 §3.1, options per RFC 9293 §3.2, RFC 7323, RFC 2018). Hot path: no allocation.
 */
import type { DecodeStatus, TcpPacket } from './packet.js';
import type { DecodeCursor } from './link.js';

// Option kinds (IANA "TCP Option Kind Numbers").
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2; // RFC 9293, length 4
const OPT_WSCALE = 3; // RFC 7323 §2, length 3
const OPT_SACK_PERMITTED = 4; // RFC 2018, length 2
const OPT_SACK = 5; // RFC 2018, length 2 + 8n
const OPT_TIMESTAMPS = 8; // RFC 7323 §3, length 10
const OPT_MD5 = 19; // RFC 2385, length 18
const OPT_AO = 29; // RFC 5925, length >= 4

/** Resets the option fields of `out` (the struct is reused between packets). */
export function resetTcpOptions(out: TcpPacket): void {
  out.mss = -1;
  out.wscale = -1;
  out.sackPermitted = false;
  out.hasTs = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.sackCount = 0;
  out.auth = 0;
}

function u32(data: Uint8Array, i: number): number {
  return ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
}

/**
 * Parses options in [i, end). An option with a length that cannot be right (< 2, or past the header) stops option
 * parsing; what was read before it stays. An option with an unexpected length for its kind is skipped by length.
 */
function parseOptions(data: Uint8Array, i: number, end: number, out: TcpPacket): void {
  while (i < end) {
    const kind = data[i]!;
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const len = data[i + 1]!;
    if (len < 2 || i + len > end) return;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) out.mss = (data[i + 2]! << 8) | data[i + 3]!;
        break;
      case OPT_WSCALE:
        if (len === 3) out.wscale = data[i + 2]!; // raw shift count; RFC 7323 §2.3 caps its use at 14
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) out.sackPermitted = true;
        break;
      case OPT_SACK: {
        let n = (len - 2) >> 3;
        if (n > 4) n = 4;
        const sack = out.sack;
        for (let k = 0; k < n; k++) {
          const b = i + 2 + (k << 3);
          sack[k << 1] = u32(data, b);
          sack[(k << 1) + 1] = u32(data, b + 4);
        }
        out.sackCount = n;
        break;
      }
      case OPT_TIMESTAMPS:
        if (len === 10) {
          out.hasTs = true;
          out.tsVal = u32(data, i + 2);
          out.tsEcr = u32(data, i + 6);
        }
        break;
      case OPT_MD5:
      case OPT_AO:
        out.auth = kind;
        break;
      default:
        break; // unknown kinds are skipped by their length
    }
    i += len;
  }
}

/**
 * Decodes the TCP header at cur.pos; the segment is cur.segLen bytes long per the IP length fields and the frame
 * holds bytes up to cur.end. Fills ports, numbers, flags, window, options (unless `options` is false: an option
 * never changes the status) and payload bounds.
 */
export function decodeTcp(data: Uint8Array, cur: DecodeCursor, out: TcpPacket, options = true): DecodeStatus {
  const p = cur.pos;
  const segLen = cur.segLen;
  const avail = cur.end - p;
  if (segLen < 20) return cur.firstFragment ? 'fragment' : 'malformed';
  if (avail < 20) return 'truncated';
  // RFC 9293 §3.1: Data Offset in 32-bit words, minimum 5; the header must fit in the segment.
  const hlen = (data[p + 12]! >>> 4) << 2;
  if (hlen < 20) return 'malformed';
  if (hlen > segLen) return cur.firstFragment ? 'fragment' : 'malformed';
  if (hlen > avail) return 'truncated';

  out.srcPort = (data[p]! << 8) | data[p + 1]!;
  out.dstPort = (data[p + 2]! << 8) | data[p + 3]!;
  out.seq = u32(data, p + 4);
  out.ack = u32(data, p + 8);
  out.flags = data[p + 13]!; // CWR ECE URG ACK PSH RST SYN FIN; the AE/NS bit in byte 12 is not kept
  out.window = (data[p + 14]! << 8) | data[p + 15]!;
  if (hlen > 20 && options) parseOptions(data, p + 20, p + hlen, out);

  const payloadStart = p + hlen;
  out.payloadOffset = payloadStart;
  out.payloadLen = segLen - hlen;
  const captured = avail - hlen; // cur.end is already clipped to the IP datagram
  out.capturedPayloadLen = captured < out.payloadLen ? captured : out.payloadLen;
  return 'ok';
}
